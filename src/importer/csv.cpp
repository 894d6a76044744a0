#include "importer/csv.h"

#include <algorithm>
#include <array>
#include <map>

namespace kehu::importer {

char DetectSeparator(std::string_view sample) {
  constexpr std::array<char, 4> kCandidates = {',', '\t', ';', '|'};
  constexpr std::size_t kMaxLines = 30;
  // Per line, the count of each candidate outside quotes.
  std::vector<std::array<int, 4>> lines;
  std::array<int, 4> counts{};
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < sample.size() && lines.size() < kMaxLines; ++i) {
    const char c = sample[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == '\n' || c == '\r')) {
      if (any) lines.push_back(counts);
      counts = {};
      any = false;
      if (c == '\r' && i + 1 < sample.size() && sample[i + 1] == '\n') ++i;
      continue;
    } else if (!quoted) {
      for (std::size_t k = 0; k < kCandidates.size(); ++k) counts[k] += c == kCandidates[k];
    }
    any = true;
  }
  if (any && lines.size() < kMaxLines && !quoted) lines.push_back(counts);
  if (lines.empty()) return ',';
  int best = -1;
  int best_count = 0;
  for (std::size_t k = 0; k < kCandidates.size(); ++k) {
    const int first = lines.front()[k];
    if (first == 0) continue;
    std::size_t same = 0;
    for (const auto& l : lines) same += l[k] == first;
    // Consistent: the header's count on at least 80% of the lines.
    if (same * 5 >= lines.size() * 4 && first > best_count) {
      best = static_cast<int>(k);
      best_count = first;
    }
  }
  if (best >= 0) return kCandidates[best];
  for (std::size_t k = 0; k < kCandidates.size(); ++k) {
    if (lines.front()[k] > best_count) {
      best = static_cast<int>(k);
      best_count = lines.front()[k];
    }
  }
  return best >= 0 ? kCandidates[best] : ',';
}

void CsvParser::EndField() {
  record_.push_back(std::move(field_));
  field_.clear();
  state_ = State::kFieldStart;
}

void CsvParser::EndRecord(std::vector<std::vector<std::string>>& out) {
  EndField();
  out.push_back(std::move(record_));
  record_.clear();
}

void CsvParser::Feed(std::string_view text, std::vector<std::vector<std::string>>& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    switch (state_) {
      case State::kFieldStart:
        if (c == '"') {
          state_ = State::kQuoted;
          break;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted:
        if (c == sep_) {
          EndField();
        } else if (c == '\n') {
          EndRecord(out);
        } else if (c == '\r') {
          EndRecord(out);
          skip_lf_ = true;
        } else {
          // Copy the run of ordinary characters at once.
          std::size_t j = i + 1;
          while (j < text.size() && text[j] != sep_ && text[j] != '\n' && text[j] != '\r') ++j;
          field_.append(text.substr(i, j - i));
          i = j - 1;
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
        } else {
          std::size_t j = text.find('"', i);
          if (j == std::string_view::npos) j = text.size();
          field_.append(text.substr(i, j - i));
          i = j - 1;
        }
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {  // "" inside quotes: a quote
          field_.push_back('"');
          state_ = State::kQuoted;
        } else if (c == sep_) {
          EndField();
        } else if (c == '\n') {
          EndRecord(out);
        } else if (c == '\r') {
          EndRecord(out);
          skip_lf_ = true;
        } else {
          // Text after the closing quote ("abc"def): kept, as spreadsheets do.
          field_.push_back(c);
          state_ = State::kUnquoted;
        }
        break;
    }
  }
}

void CsvParser::Finish(std::vector<std::vector<std::string>>& out) {
  if (state_ == State::kQuoted) unterminated_ = true;
  if (state_ != State::kFieldStart || !record_.empty()) EndRecord(out);
}

}  // namespace kehu::importer
