#include "importer/source.h"

#include <deque>
#include <fstream>

#include "importer/charset.h"
#include "importer/csv.h"
#include "importer/xlsx.h"

namespace kehu::importer {
namespace {

constexpr std::size_t kSampleBytes = 1 << 20;
constexpr std::size_t kChunkBytes = 256 << 10;

bool Blank(const std::vector<std::string>& cells) {
  for (const std::string& c : cells) {
    if (c.find_first_not_of(" \t\r\n") != std::string::npos) return false;
  }
  return true;
}

class CsvSource : public RowSource {
 public:
  static core::Result<std::unique_ptr<RowSource>> Open(const std::string& path,
                                                       const std::string& encoding) {
    std::unique_ptr<CsvSource> s(new CsvSource());
    s->in_.open(path, std::ios::binary);
    if (!s->in_) {
      return std::unexpected(core::Error::InvalidField("file", "not_found", "cannot read " + path));
    }
    s->in_.seekg(0, std::ios::end);
    s->total_ = static_cast<int64_t>(s->in_.tellg());
    s->in_.seekg(0);
    std::string sample(std::min<std::size_t>(kSampleBytes, static_cast<std::size_t>(s->total_)),
                       '\0');
    s->in_.read(sample.data(), static_cast<std::streamsize>(sample.size()));
    s->in_.seekg(0);
    const bool complete = static_cast<int64_t>(sample.size()) >= s->total_;
    DetectedEncoding det = DetectEncoding(sample, complete);
    s->info_.format = "csv";
    s->info_.detected_encoding = det.encoding;
    s->info_.encoding = det.encoding;
    if (!encoding.empty()) {
      auto canon = CanonicalEncoding(encoding);
      if (!canon) return std::unexpected(canon.error());
      s->info_.encoding = *canon;
    }
    auto dec = Decoder::Open(s->info_.encoding);
    if (!dec) return std::unexpected(dec.error());
    // The separator, from the decoded sample.
    {
      auto probe = Decoder::Open(s->info_.encoding);
      if (!probe) return std::unexpected(probe.error());
      std::string text;
      (*probe)->Feed(sample, complete, text);
      s->sep_ = DetectSeparator(text);
    }
    s->info_.separator = std::string(1, s->sep_);
    s->decoder_ = std::move(*dec);
    s->parser_ = std::make_unique<CsvParser>(s->sep_);
    return std::unique_ptr<RowSource>(std::move(s));
  }

  core::Result<bool> Next(int64_t& number, std::vector<std::string>& cells) override {
    for (;;) {
      while (ready_.empty() && !ended_) Fill();
      if (ready_.empty()) return false;
      std::vector<std::string> rec = std::move(ready_.front());
      ready_.pop_front();
      ++row_;
      if (Blank(rec)) continue;
      number = row_;
      cells = std::move(rec);
      return true;
    }
  }

  int64_t bytes_done() const override { return done_; }
  int64_t bytes_total() const override { return total_; }
  std::vector<std::string> warnings() const override {
    std::vector<std::string> w;
    if (decoder_->replaced() > 0) {
      w.push_back(std::to_string(decoder_->replaced()) + " byte sequence(s) are not " +
                  info_.encoding + " and were replaced by U+FFFD (try another encoding)");
    }
    if (parser_->unterminated_quote()) {
      w.push_back("a quoted field is never closed: the last row runs to the end of the file");
    }
    return w;
  }

 private:
  CsvSource() = default;

  void Fill() {
    std::string buf(kChunkBytes, '\0');
    in_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in_.gcount());
    buf.resize(n);
    done_ += static_cast<int64_t>(n);
    const bool last = n == 0 || in_.eof();
    text_.clear();
    decoder_->Feed(buf, last, text_);
    std::vector<std::vector<std::string>> recs;
    parser_->Feed(text_, recs);
    if (last) {
      parser_->Finish(recs);
      ended_ = true;
    }
    for (auto& r : recs) ready_.push_back(std::move(r));
  }

  std::ifstream in_;
  int64_t total_ = 0, done_ = 0, row_ = 0;
  char sep_ = ',';
  bool ended_ = false;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<CsvParser> parser_;
  std::string text_;
  std::deque<std::vector<std::string>> ready_;
};

class XlsxSource : public RowSource {
 public:
  static core::Result<std::unique_ptr<RowSource>> Open(const std::string& path,
                                                       const std::string& sheet) {
    auto reader = XlsxReader::Open(path);
    if (!reader) return std::unexpected(reader.error());
    if (auto ok = (*reader)->SelectSheet(sheet); !ok) return std::unexpected(ok.error());
    std::unique_ptr<XlsxSource> s(new XlsxSource());
    s->reader_ = std::move(*reader);
    s->info_.format = "xlsx";
    s->info_.sheets = s->reader_->sheets();
    s->info_.sheet = s->reader_->sheet();
    return std::unique_ptr<RowSource>(std::move(s));
  }

  core::Result<bool> Next(int64_t& number, std::vector<std::string>& cells) override {
    for (;;) {
      auto more = reader_->Next(number, cells);
      if (!more || !*more) return more;
      if (!Blank(cells)) return true;
    }
  }
  int64_t bytes_done() const override { return reader_->bytes_done(); }
  int64_t bytes_total() const override { return reader_->bytes_total(); }
  std::vector<std::string> warnings() const override { return {}; }

 private:
  XlsxSource() = default;
  std::unique_ptr<XlsxReader> reader_;
};

}  // namespace

std::string SniffFormat(const std::string& first) {
  if (first.starts_with("PK\x03\x04")) return "xlsx";
  if (first.starts_with("\xD0\xCF\x11\xE0")) return "xls";
  return "csv";
}

core::Result<std::unique_ptr<RowSource>> OpenSource(const std::string& path,
                                                    const std::string& encoding,
                                                    const std::string& sheet) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::unexpected(core::Error::InvalidField("file", "not_found", "cannot read " + path));
  std::string head(8, '\0');
  in.read(head.data(), 8);
  head.resize(static_cast<std::size_t>(in.gcount()));
  const std::string format = SniffFormat(head);
  if (format == "xls") {
    return std::unexpected(core::Error::InvalidField(
        "file", "unsupported_format",
        "this is an old Excel .xls file; save it as .xlsx or CSV and import that"));
  }
  if (format == "xlsx") return XlsxSource::Open(path, sheet);
  return CsvSource::Open(path, encoding);
}

}  // namespace kehu::importer
