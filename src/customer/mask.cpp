#include "customer/mask.h"

#include "core/validate.h"

namespace kehu::customer {
namespace {

std::string Digits(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (c >= '0' && c <= '9') d.push_back(c);
  }
  return d;
}

std::string HideMiddle(const std::string& d) {
  if (d.size() >= 8)
    return d.substr(0, 3) + std::string(d.size() - 7, '*') + d.substr(d.size() - 4);
  if (d.size() > 2) return std::string(d.size() - 2, '*') + d.substr(d.size() - 2);
  return std::string(d.size(), '*');
}

// The digits of the number as shown (display: "138 0013 8000", "010-6552 9988", "400-810-8888";
// other countries in international format), without the extension.
std::string ShownDigits(const phone::PhoneInfo& p) {
  std::string d = Digits(p.display.empty() ? p.e164 : p.display);
  if (!p.extension.empty() && d.size() > p.extension.size() && d.ends_with(p.extension)) {
    d.resize(d.size() - p.extension.size());
  }
  return d.empty() ? Digits(p.raw) : d;
}

}  // namespace

std::string MaskPhone(const phone::PhoneInfo& p) { return HideMiddle(ShownDigits(p)); }

std::string MaskEmail(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  // The first character may be a multi-byte UTF-8 sequence: keep it whole.
  std::size_t first = 1;
  while (first < at && (static_cast<unsigned char>(address[first]) & 0xC0) == 0x80) ++first;
  return std::string(address.substr(0, first)) + "***" + std::string(address.substr(at));
}

std::string MaskIdNumber(std::string_view id) {
  if (id.size() < 8) return std::string(id.size(), '*');
  return std::string(id.substr(0, 3)) + std::string(id.size() - 7, '*') +
         std::string(id.substr(id.size() - 4));
}

std::string MaskRaw(std::string_view field, std::string_view raw) {
  if (raw.empty()) return std::string(raw);
  if (field == "phones") {
    // Digits hidden in the middle, other characters kept: "1380013800" -> "138***3800".
    const std::string d = Digits(raw);
    const std::string hidden = HideMiddle(d);
    std::string out;
    std::size_t k = 0;
    for (char ch : raw) {
      if (ch >= '0' && ch <= '9' && k < hidden.size()) {
        out.push_back(hidden[k++]);
      } else {
        out.push_back(ch);
      }
    }
    return out;
  }
  if (field == "emails") {
    if (raw.find('@') != std::string_view::npos) return MaskEmail(raw);
    return std::string(raw.substr(0, 1)) + "***";
  }
  if (field == "id_number") return MaskIdNumber(raw);
  if (field == "address") return "****";
  return std::string(raw);
}

void MaskCustomer(Customer& c) {
  for (Phone& ph : c.phones) {
    phone::PhoneInfo& i = ph.info;
    const std::string masked = MaskPhone(i);
    i.raw = masked;
    i.display = masked;
    if (i.e164.starts_with("+86")) {
      // The national form without its trunk 0: 138****8000 -> +86138****8000.
      i.e164 = "+86" + (masked.starts_with("0") ? masked.substr(1) : masked);
    } else if (!i.e164.empty()) {
      i.e164 = "+" + HideMiddle(Digits(i.e164));
    }
  }
  for (Email& e : c.emails) e.address = MaskEmail(e.address);
  if (!c.id_number.empty()) c.id_number = MaskIdNumber(c.id_number);
  if (!c.address.empty()) c.address = "****";
  for (QualityIssue& q : c.quality_issues) q.raw = MaskRaw(q.field, q.raw);
  c.masked = true;
}

bool IsMaskOf(std::string_view typed, const phone::PhoneInfo& p) {
  std::string t = core::Trim(std::string(typed));
  return t.find('*') != std::string::npos && t == MaskPhone(p);
}

}  // namespace kehu::customer
