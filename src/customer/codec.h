// JSON <-> customer model, for the API, CLI and exports.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "customer/model.h"

namespace kehu::customer {

// Checks JSON shape and types; unknown keys and wrong types are FieldErrors (422).
core::Result<CustomerInput> ParseInput(const nlohmann::json& body);
nlohmann::json ToJson(const Customer& c);
nlohmann::json QualityToJson(const QualityIssue& q);
nlohmann::json PhoneToJson(const Phone& p);
nlohmann::json LookupToJson(const LookupResult& r);
// LookupToJson(r).dump(), written directly (caller ID is the hottest answer).
std::string LookupToJsonText(const LookupResult& r);

// The member of CustomerInput for a text field ("name", "city", ...); nullptr for any other name.
const std::optional<std::string>* TextMember(const CustomerInput& in, const std::string& field);
std::optional<std::string>* TextMember(CustomerInput& in, const std::string& field);

}  // namespace kehu::customer
