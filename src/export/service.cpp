#include "export/service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/time.h"
#include "customer/codec.h"
#include "customer/mask.h"
#include "export/table.h"

namespace kehu::exports {
namespace {

constexpr std::size_t kPiece = 64 * 1024;
constexpr int kBatch = 500;
// A reader waiting this long gets what is ready (a sparse search fills 64 KiB slowly), so the
// connection never sits idle long enough for the server's request timeout.
constexpr auto kFlushEvery = std::chrono::seconds(10);
// An XLSX file is sent once complete. The server drops a request that writes nothing for 60 s,
// so after this long building it the answer starts (status and headers): that leaves a minute
// more, about 100 s in all (a million rows took 35-60 s on a busy 2-core machine). An error
// after that cuts the download short.
constexpr auto kXlsxHeadersAfter = std::chrono::seconds(40);
using Clock = std::chrono::steady_clock;

// Counts an export as running for its lifetime.
class Running {
 public:
  explicit Running(std::atomic<int>& n) : n_(n) { n_.fetch_add(1); }
  ~Running() { n_.fetch_sub(1); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  std::atomic<int>& n_;
};

core::Error BadOption(const std::string& field, const std::string& message) {
  return core::Error(core::Code::kBadRequest, message, {{field, "invalid_choice", message}});
}

// A searched phone number keeps its first 3 and last 4 digits; an email is masked as shown.
std::string MaskSearch(const std::string& q) {
  if (q.find('@') != std::string::npos) return customer::MaskEmail(q);
  std::size_t digits = 0;
  for (char c : q) digits += c >= '0' && c <= '9';
  if (digits < 7) return q;
  std::string out;
  std::size_t seen = 0;
  for (char c : q) {
    if (c >= '0' && c <= '9') {
      ++seen;
      out.push_back(seen > 3 && seen + 4 <= digits ? '*' : c);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const char* SortName(customer::SortKey k) {
  switch (k) {
    case customer::SortKey::kCreatedAt:
      return "created_at";
    case customer::SortKey::kUpdatedAt:
      return "updated_at";
    case customer::SortKey::kName:
      return "name";
    case customer::SortKey::kCode:
      return "code";
  }
  return "created_at";
}

}  // namespace

nlohmann::json FilterDetails(const customer::ListQuery& f) {
  nlohmann::json j = nlohmann::json::object();
  // Texts are cut to 100 bytes (at a character boundary) so the entry stays small.
  auto cut = [](std::string s) {
    if (s.size() <= 100) return s;
    std::size_t n = 100;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    return s;
  };
  if (!f.q.empty()) j["q"] = cut(MaskSearch(f.q));
  if (f.owner_id) j["owner_id"] = *f.owner_id;
  for (auto [name, value] : {std::pair{"source", &f.source}, std::pair{"province", &f.province},
                             std::pair{"city", &f.city}, std::pair{"stage", &f.stage}}) {
    if (!value->empty()) j[name] = cut(*value);
  }
  if (f.created_from) j["created_from"] = core::FormatTime(*f.created_from);
  if (f.created_to) j["created_to"] = core::FormatTime(*f.created_to);
  j["sort"] = SortName(f.sort);
  j["order"] = f.descending ? "desc" : "asc";
  if (f.deleted) j["deleted"] = true;
  return j;
}

ExportService::ExportService(customer::CustomerService& customers, field::FieldService& fields,
                             access::AccessService& access, audit::AuditLog& audit,
                             std::string tmp_dir, int max_running)
    : customers_(customers),
      fields_(fields),
      access_(access),
      audit_(audit),
      tmp_dir_(std::move(tmp_dir)),
      max_running_(max_running) {}

core::Result<Preview> ExportService::Check(const core::Actor& actor,
                                           const customer::ListQuery& filter) {
  if (!actor.Can(core::Perm::kCustomerExport)) {
    return std::unexpected(core::Error::Forbidden("exporting customers needs customer.export"));
  }
  auto n = customers_.Count(actor, filter);
  if (!n) return std::unexpected(n.error());
  Preview p;
  p.count = *n;
  if (actor.Can(core::Perm::kPhoneReveal)) {
    auto usage = access_.RevealUsage(actor);
    if (!usage) return std::unexpected(usage.error());
    p.reveal_allowed = true;
    p.reveal_quota = usage->quota;
    p.reveals_today = usage->used;
  }
  return p;
}

core::Result<Summary> ExportService::Run(const core::Actor& actor, const Options& o,
                                         const Sink& sink) {
  if (!actor.Can(core::Perm::kCustomerExport)) {
    return std::unexpected(core::Error::Forbidden("exporting customers needs customer.export"));
  }
  if (o.reveal && !actor.Can(core::Perm::kPhoneReveal)) {
    return std::unexpected(
        core::Error::Forbidden("exporting clear numbers needs phone.reveal; leave reveal off"));
  }
  if (o.encoding == Encoding::kGbk && o.format != Format::kCsv) {
    return std::unexpected(
        BadOption("encoding", "encoding applies to CSV only; XLSX and JSON are UTF-8"));
  }
  Running running(running_);
  if (running_.load() > max_running_) {
    return std::unexpected(core::Error::RateLimited(
        std::to_string(max_running_) + " exports are running; try again in a minute", 30));
  }
  customer::CustomerService::ScanOptions scan;
  scan.clear = o.reveal;
  scan.batch = kBatch;
  int64_t charged = 0;
  if (o.reveal) {
    // A clear export reveals every customer in it: one reveal each against the daily quota.
    auto usage = access_.RevealUsage(actor);
    if (!usage) return std::unexpected(usage.error());
    if (usage->quota > 0) {
      auto n = customers_.Count(actor, o.filter);
      if (!n) return std::unexpected(n.error());
      if (*n > 0) {
        auto charge =
            access_.ChargeReveals(actor, static_cast<int>(std::min<int64_t>(*n, 1 << 30)));
        if (!charge) {
          if (charge.error().code() == core::Code::kRateLimited) {
            auto r = audit_.Record(
                actor, {"customer.reveal_refused",
                        "customer",
                        "",
                        {{"reason", "daily quota too small for an export"}, {"customers", *n}}});
            if (!r) spdlog::error("audit trail: cannot record a refusal: {}", r.error().message());
          }
          return std::unexpected(charge.error());
        }
        charged = *n;
        if (charge->quota_now_reached) {
          auto r = audit_.Record(actor, {"alert.reveal_quota",
                                         "user",
                                         std::to_string(actor.user_id),
                                         {{"quota", charge->quota}}});
          if (!r)
            spdlog::error("audit trail: cannot record a quota alert: {}", r.error().message());
        }
      }
      // Customers added after the count are not revealed (they were not paid for).
      scan.max_rows = *n;
    }
  }
  Summary sum;
  sum.clear = o.reveal;
  auto done = Write(actor, o, scan, sink, sum);
  Audit(actor, o, sum, done ? "" : done.error().message(), charged);
  if (sum.replaced > 0) {
    spdlog::warn("export by {}: {} character(s) that GBK cannot represent were written as '?'",
                 actor.username, sum.replaced);
  }
  return done;
}

core::Result<Summary> ExportService::Write(const core::Actor& actor, const Options& o,
                                           const customer::CustomerService::ScanOptions& scan,
                                           const Sink& sink, Summary& sum) {
  auto fail = [&](const core::Error& e) -> core::Result<Summary> { return std::unexpected(e); };
  bool stopped = false;
  if (o.format == Format::kJson) {
    std::string buf = "[";
    buf.reserve(kPiece + 8192);
    auto last_write = Clock::now();
    auto n = customers_.Scan(actor, o.filter, scan, [&](std::vector<customer::Customer>& batch) {
      for (const customer::Customer& c : batch) {
        buf += sum.rows++ == 0 ? "\n" : ",\n";
        buf += customer::ToJson(c).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (buf.size() >= kPiece) {
          stopped = !sink(buf);
          buf.clear();
          last_write = Clock::now();
          if (stopped) return false;
        }
      }
      if (!buf.empty() && Clock::now() - last_write > kFlushEvery) {
        stopped = !sink(buf);
        buf.clear();
        last_write = Clock::now();
      }
      return !stopped;
    });
    if (!n) return fail(n.error());
    if (!stopped) {
      buf += sum.rows ? "\n]\n" : "]\n";
      stopped = !sink(buf);
    }
    sum.complete = !stopped;
    return sum;
  }

  auto defs = fields_.List(actor, "customer");
  if (!defs) return fail(defs.error());
  CustomerTable table(o.lang, *defs);
  std::vector<Cell> cells;

  if (o.format == Format::kCsv) {
    auto w = CsvWriter::Create(o.encoding, sink);
    if (!w) return fail(w.error());
    CsvWriter& csv = **w;
    stopped = !csv.Header(table.columns());
    auto last_flush = Clock::now();
    auto n = customers_.Scan(actor, o.filter, scan, [&](std::vector<customer::Customer>& batch) {
      for (const customer::Customer& c : batch) {
        if (stopped) return false;
        table.Cells(c, cells);
        stopped = !csv.Row(cells);
        ++sum.rows;
      }
      if (!stopped && Clock::now() - last_flush > kFlushEvery) {
        stopped = !csv.Flush();
        last_flush = Clock::now();
      }
      return !stopped;
    });
    sum.replaced = csv.replaced();
    if (!n) return fail(n.error());
    if (!stopped) stopped = !csv.Finish();
    sum.replaced = csv.replaced();
    sum.complete = !stopped;
    return sum;
  }

  // XLSX: built in a temporary file with constant memory, then sent and removed.
  auto w =
      XlsxWriter::Create(tmp_dir_, o.lang == Lang::kZh ? "客户" : "Customers", table.columns());
  if (!w) return fail(w.error());
  XlsxWriter& xlsx = **w;
  core::Result<void> row_ok = core::Ok();
  const auto started = Clock::now();
  bool answered = false;
  auto n = customers_.Scan(actor, o.filter, scan, [&](std::vector<customer::Customer>& batch) {
    for (const customer::Customer& c : batch) {
      table.Cells(c, cells);
      row_ok = xlsx.Row(cells);
      if (!row_ok) return false;
      ++sum.rows;
    }
    if (!answered && Clock::now() - started > kXlsxHeadersAfter) {
      answered = true;
      stopped = !sink({});  // starts the answer: status and headers
    }
    return !stopped;
  });
  if (!n) return fail(n.error());
  if (!row_ok) return fail(row_ok.error());
  if (stopped) return sum;  // the reader went away
  if (auto ok = xlsx.Finish(); !ok) return fail(ok.error());
  // Read it back through an open handle and remove the name at once: nothing stays behind,
  // whatever happens while sending.
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(xlsx.path().c_str(), "rb"), &std::fclose);
  std::error_code ec;
  std::filesystem::remove(xlsx.path(), ec);
  if (!file) return fail(core::Error::Internal("XLSX export: cannot read back the file"));
  std::string buf(kPiece, '\0');
  while (!stopped) {
    const std::size_t got = std::fread(buf.data(), 1, buf.size(), file.get());
    if (got > 0) stopped = !sink(std::string_view(buf.data(), got));
    if (got < buf.size()) {
      if (std::ferror(file.get())) return fail(core::Error::Internal("XLSX export: read error"));
      break;
    }
  }
  sum.complete = !stopped;
  return sum;
}

void ExportService::Audit(const core::Actor& actor, const Options& o, const Summary& sum,
                          const std::string& failure, int64_t reveals_charged) {
  nlohmann::json d = {{"format", FormatName(o.format)},
                      {"filter", FilterDetails(o.filter)},
                      {"rows", sum.rows},
                      {"clear", sum.clear},
                      {"complete", sum.complete && failure.empty()}};
  if (o.format == Format::kCsv) d["encoding"] = EncodingName(o.encoding);
  if (o.format != Format::kJson) d["lang"] = LangName(o.lang);
  if (sum.replaced > 0) d["replaced_characters"] = sum.replaced;
  if (reveals_charged > 0) d["reveals_charged"] = reveals_charged;
  if (!failure.empty()) d["error"] = failure.substr(0, 200);
  auto r = audit_.Record(actor, {"customer.export", "customer", "", std::move(d)});
  if (!r) spdlog::error("audit trail: cannot record an export: {}", r.error().message());
  spdlog::info("export by {}: {} {} row(s){}{}", actor.username, FormatName(o.format), sum.rows,
               sum.clear ? ", clear values" : "", sum.complete ? "" : ", not completed");
}

}  // namespace kehu::exports
