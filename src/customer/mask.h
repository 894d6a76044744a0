// Masking of contact data for users who have not revealed it: 138****8000, z***@example.com.
#pragma once

#include <string>
#include <string_view>

#include "customer/model.h"
#include "phone/normalizer.h"

namespace kehu::customer {

// The national digits with the middle hidden: "138****8000", "033****1234" (first 3 and last 4
// shown when there are at least 8 digits, otherwise only the last 2).
std::string MaskPhone(const phone::PhoneInfo& p);
// "z***@example.com"; the domain stays readable.
std::string MaskEmail(std::string_view address);
// First 3 and last 4 characters of an ID number.
std::string MaskIdNumber(std::string_view id);
// A data-quality issue's raw value as shown masked: numbers of `phones` with the middle digits
// hidden, `emails` as MaskEmail, `id_number` as MaskIdNumber, `address` as "****"; the raw
// values of other fields are not personal data and stay.
std::string MaskRaw(std::string_view field, std::string_view raw);
// Masks every phone, email, ID number, the street address and the raw values of data-quality
// issues about them in place, and sets c.masked.
void MaskCustomer(Customer& c);
// True when `typed` is what MaskPhone shows for `p` (a masked number sent back unchanged).
bool IsMaskOf(std::string_view typed, const phone::PhoneInfo& p);

}  // namespace kehu::customer
