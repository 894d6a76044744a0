#include "user/password_policy.h"

#include <zxcvbn.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace kehu::user {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

double PasswordBits(const std::string& password, const std::vector<std::string>& names) {
  std::vector<const char*> dict;
  for (const std::string& n : names) {
    if (!n.empty()) dict.push_back(n.c_str());
  }
  dict.push_back(nullptr);
  // The library keeps no state between calls (its dictionary is compiled in).
  return ZxcvbnMatch(password.c_str(), dict.data(), nullptr);
}

void CheckPassword(const std::string& password, const std::vector<std::string>& names,
                   const std::string& field, std::vector<core::FieldError>& errs) {
  if (password.empty()) {
    errs.push_back({field, "required", "password is required"});
    return;
  }
  if (password.size() < 8) {
    errs.push_back({field, "too_short", "password must have at least 8 characters"});
    return;
  }
  if (password.size() > 256) {
    errs.push_back({field, "too_long", "password must have at most 256 characters"});
    return;
  }
  const std::string lower = Lower(password);
  for (const std::string& n : names) {
    if (n.size() >= 3 && lower.find(Lower(n)) != std::string::npos) {
      errs.push_back({field, "contains_username", "password must not contain the user's name"});
      return;
    }
  }
  const double bits = PasswordBits(password, names);
  if (bits < kMinPasswordBits) {
    errs.push_back({field, "too_weak",
                    "password is too easy to guess (about 2^" +
                        std::to_string(static_cast<int>(std::floor(bits))) +
                        " guesses); use a longer phrase or mix unrelated words"});
  }
}

}  // namespace kehu::user
