// libFuzzer target: arbitrary bytes as the body of POST /api/v1/customers, through the same
// calls the route makes — http::Request::JsonObject (Content-Type, UTF-8, nesting and syntax
// checks), customer::ParseInput (shape and types), CustomerService::Create (validation and
// normalisation of every field, phones, emails, ID numbers, custom fields, owner scope; then
// the store) — on a real SQLite database (fuzz_world.h).
//
// Besides crashes and sanitizer reports, a run fails when:
//   - an input is answered with anything but 400/422/409 (kInternal would be a 500: a bad input
//     must never get one), or an error without field details where the API promises them;
//   - a created customer's answer is not valid UTF-8 JSON, or not masked;
//   - the masked answer, sent back unchanged as a PATCH (what the edit form does), is refused or
//     changes any stored value (checked on the revealed customer before and after);
//   - the same input sent again as a PATCH is refused.
// The acting user (admin, team manager or own-scope sales rep) is picked from the input size.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "customer/codec.h"
#include "fuzz_world.h"
#include "http/request.h"

namespace {

using kehu::core::Code;
using kehu::core::Error;
using kehu::fuzz::Fail;
using kehu::fuzz::World;
using nlohmann::json;

std::string Dump(const json& j, const char* what) {
  try {
    return j.dump();
  } catch (const json::exception& e) {
    Fail(what, e.what());
  }
}

void CheckRefusal(const Error& e, const char* step, std::initializer_list<Code> allowed) {
  bool ok = false;
  for (Code c : allowed) ok = ok || e.code() == c;
  if (!ok)
    Fail(step, "answered " + std::to_string(static_cast<int>(e.code())) + ": " + e.message());
  if (e.code() == Code::kInvalid && e.details().empty()) Fail(step, "422 without field details");
  // The problem+json answer renders (the HTTP layer sends exactly this).
  kehu::http::Response r = kehu::http::Problem(e);
  if (json::parse(r.body, nullptr, false).is_discarded()) Fail(step, "problem is not JSON");
}

// What the edit form sends back: the answer without the members it may not set.
json EditableCopy(const json& answer) {
  json j = answer;
  j.erase("masked");
  return j;
}

// The stored state of a customer, for comparing before and after an edit.
json Stored(World& w, int64_t id) {
  auto r = w.customers().Reveal(w.admin, id);
  if (!r) Fail("reveal after create/update failed:", r.error().message());
  json j = kehu::customer::ToJson(r->customer);
  for (const char* k : {"version", "updated_at", "updated_by"}) j.erase(k);
  return j;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = World::Get();
  kehu::http::Request req;
  req.method = "POST";
  req.path = "/api/v1/customers";
  req.headers["content-type"] = "application/json; charset=utf-8";
  req.body.assign(reinterpret_cast<const char*>(data), size);

  auto body = req.JsonObject();
  if (!body) {
    CheckRefusal(body.error(), "JsonObject", {Code::kBadRequest, Code::kInvalid});
    return 0;
  }
  auto in = kehu::customer::ParseInput(*body);
  if (!in) {
    CheckRefusal(in.error(), "ParseInput", {Code::kInvalid});
    return 0;
  }
  const kehu::core::Actor& actor = size % 3 == 0 ? w.admin : size % 3 == 1 ? w.north : w.rep;
  auto created = w.customers().Create(actor, *in);
  if (!created) {
    CheckRefusal(created.error(), "Create", {Code::kInvalid, Code::kConflict});
    return 0;
  }
  const json answer = kehu::customer::ToJson(*created);
  Dump(answer, "the created customer is not valid UTF-8 JSON:");
  if (!created->masked) Fail("a created customer is answered unmasked");

  // The masked answer sent back unchanged keeps everything as it is.
  const json before = Stored(w, created->id);
  auto back = kehu::customer::ParseInput(EditableCopy(answer));
  if (!back) Fail("the answer of a create does not parse as input:", back.error().message());
  auto updated = w.customers().Update(actor, created->id, created->version, *back);
  if (!updated) {
    Fail("the masked answer sent back is refused:",
         updated.error().message() + " " + Dump(answer, "answer"));
  }
  const json after = Stored(w, created->id);
  if (after != before) {
    Fail("sending the masked answer back changed the customer:",
         "\nbefore " + Dump(before, "before") + "\nafter  " + Dump(after, "after"));
  }

  // The same input as a PATCH is accepted too.
  auto again = w.customers().Update(actor, created->id, updated->version, *in);
  if (!again) Fail("the create input refused as an update:", again.error().message());
  return 0;
}
