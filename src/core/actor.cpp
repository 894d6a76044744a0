#include "core/actor.h"

#include <algorithm>
#include <array>

namespace kehu::core {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Perm::kCount)> kPermNames = {
    "customer.read",   "customer.create", "customer.update", "customer.delete", "customer.export",
    "customer.import", "customer.merge",  "phone.reveal",    "interaction.log", "tag.manage",
    "field.manage",    "user.admin",      "audit.read",      "settings.admin",
};

}  // namespace

std::string_view PermName(Perm p) { return kPermNames.at(static_cast<std::size_t>(p)); }

std::optional<Perm> ParsePerm(std::string_view name) {
  for (std::size_t i = 0; i < kPermNames.size(); ++i) {
    if (kPermNames[i] == name) return static_cast<Perm>(i);
  }
  return std::nullopt;
}

const std::vector<Perm>& AllPerms() {
  static const std::vector<Perm> all = [] {
    std::vector<Perm> v;
    for (uint32_t i = 0; i < static_cast<uint32_t>(Perm::kCount); ++i) {
      v.push_back(static_cast<Perm>(i));
    }
    return v;
  }();
  return all;
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kOwn:
      return "own";
    case Scope::kTeam:
      return "team";
    case Scope::kAll:
      return "all";
  }
  return "own";
}

std::optional<Scope> ParseScope(std::string_view name) {
  if (name == "own") return Scope::kOwn;
  if (name == "team") return Scope::kTeam;
  if (name == "all") return Scope::kAll;
  return std::nullopt;
}

std::vector<std::string> PermSet::Names() const {
  std::vector<std::string> out;
  for (Perm p : AllPerms()) {
    if (Has(p)) out.emplace_back(PermName(p));
  }
  return out;
}

bool Actor::InScope(std::optional<int64_t> owner_id) const {
  if (scope == Scope::kAll) return true;
  if (!owner_id) return false;
  return std::find(scope_user_ids.begin(), scope_user_ids.end(), *owner_id) != scope_user_ids.end();
}

}  // namespace kehu::core
