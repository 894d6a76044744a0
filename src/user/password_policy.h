// Password rules: length, not containing the user's own name, and a strength estimate from
// zxcvbn (Debian's libzxcvbn) that knows common passwords, words, dates, keyboard walks and
// the user's own names.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace kehu::user {

// Estimated guessing entropy a password needs, in bits (zxcvbn; ~10^10 guesses).
inline constexpr double kMinPasswordBits = 33.0;

// Appends field errors for `field` (codes required, too_short, too_long, contains_username,
// too_weak) to `errs`. `names` are the user's login and display names.
void CheckPassword(const std::string& password, const std::vector<std::string>& names,
                   const std::string& field, std::vector<core::FieldError>& errs);

// zxcvbn's entropy estimate in bits, with `names` as a user dictionary.
double PasswordBits(const std::string& password, const std::vector<std::string>& names);

}  // namespace kehu::user
