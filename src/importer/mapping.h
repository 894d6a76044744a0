// Which customer field each column of an imported sheet fills: guessed from common Chinese and
// English headers (and the labels of custom fields), overridable per column.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "field/model.h"

namespace kehu::importer {

// Where a column's values go.
enum class Target {
  kIgnore,  // dropped (row numbers, database ids)
  kExtra,   // appended to notes as "header: value" (nothing is lost)
  kCode,
  kName,
  kPhones,  // several numbers in one cell become several phones; label from the header
  kEmails,
  kCompany,
  kTitle,
  kGender,  // 男/女/先生/女士/male/female/M/F
  kProvince,
  kCity,
  kDistrict,
  kAddress,
  kSource,
  kStage,  // 潜在/意向/成交/活跃/沉睡/流失 or the English keys
  kTags,   // split on ; ； , ， 、 and line breaks
  kNotes,
  kIdNumber,
  kCreditCode,
  kOwner,   // a user's login name or display name
  kCustom,  // custom field `custom`
};

struct ColumnMap {
  int column = 0;      // 0-based position in the row
  std::string header;  // as in the file
  Target target = Target::kExtra;
  std::string label;      // phones / emails: the label the values get ("手机", "办公", "")
  std::string custom;     // kCustom: the field name
  bool automatic = true;  // guessed from the header (false: set by the user or a template)
};

using Mapping = std::vector<ColumnMap>;

// The text form used by the API, the CLI's --mapping file and templates: "name", "phones",
// "phones:手机", "emails:工作", "custom.budget", "notes", "extra", "ignore", …
std::string TargetText(const ColumnMap& m);
// Parses the text form; custom fields must exist in `fields`. kInvalid naming `field`.
core::Result<ColumnMap> ParseTarget(std::string_view text,
                                    const std::vector<field::FieldDef>& fields,
                                    const std::string& field_name);

// The guessed mapping of one header.
ColumnMap GuessColumn(int column, const std::string& header,
                      const std::vector<field::FieldDef>& fields);

// The mapping of a header row: guesses, then the overrides of `spec`, a JSON object whose keys
// are header names (every column with that header) or "#N" (the N-th column, from 1) and
// whose values are target texts ("#N" entries apply after header entries). Unknown headers in
// `spec` and bad targets are kInvalid
// (field "mapping.<key>"). A null `spec` means guesses only.
core::Result<Mapping> BuildMapping(const std::vector<std::string>& headers,
                                   const nlohmann::json& spec,
                                   const std::vector<field::FieldDef>& fields);

// The mapping as a JSON object {header: target} (what a template stores).
nlohmann::json MappingToSpec(const Mapping& m);

// Splits a cell that holds several phone numbers: on / 、 ; ； , ， | and line breaks, and on
// spaces between pieces that each look like a whole number (11-digit mobiles, 0-prefixed
// fixed lines). Pieces are trimmed; empty ones dropped.
std::vector<std::string> SplitPhones(std::string_view cell);
// Splits a cell with several emails (on ; ； , ， 、 / whitespace and line breaks).
std::vector<std::string> SplitEmails(std::string_view cell);
// Splits tags on ; ； , ， 、 | and line breaks; trimmed, empty ones and repeats dropped.
std::vector<std::string> SplitTags(std::string_view cell);

// 男/男性/先生/M/male → "male", 女/女性/女士/F/female → "female", 未知/保密/"" → "unknown";
// anything else unchanged (the customer service then flags it).
std::string NormalizeGender(std::string_view v);
// 潜在(客户)/意向/成交/已成交/活跃/沉睡/流失/已流失 and the English keys → the stage key;
// anything else unchanged.
std::string NormalizeStage(std::string_view v);

}  // namespace kehu::importer
