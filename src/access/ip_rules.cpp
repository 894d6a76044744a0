#include <asio/ip/address.hpp>
#include <asio/ip/network_v4.hpp>
#include <asio/ip/network_v6.hpp>

#include "access/model.h"
#include "core/validate.h"

namespace kehu::access {

std::optional<std::string> ParseIpRule(const std::string& raw) {
  const std::string rule = core::Trim(raw);
  asio::error_code ec;
  if (rule.find('/') == std::string::npos) {
    auto a = asio::ip::make_address(rule, ec);
    if (ec) return std::nullopt;
    return a.to_string();
  }
  if (rule.find(':') == std::string::npos) {
    auto n = asio::ip::make_network_v4(rule, ec);
    if (ec) return std::nullopt;
    return n.canonical().to_string();
  }
  auto n = asio::ip::make_network_v6(rule, ec);
  if (ec) return std::nullopt;
  return n.canonical().to_string();
}

bool IpAllowed(const std::vector<std::string>& allow, const std::string& ip) {
  if (allow.empty()) return true;
  asio::error_code ec;
  auto addr = asio::ip::make_address(ip, ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  for (const std::string& rule : allow) {
    if (rule.find('/') == std::string::npos) {
      auto a = asio::ip::make_address(rule, ec);
      if (!ec && a == addr) return true;
    } else if (addr.is_v4() && rule.find(':') == std::string::npos) {
      auto n = asio::ip::make_network_v4(rule, ec);
      if (ec) continue;
      if (asio::ip::network_v4(addr.to_v4(), n.prefix_length()).network() == n.network()) {
        return true;
      }
    } else if (addr.is_v6() && rule.find(':') != std::string::npos) {
      auto n = asio::ip::make_network_v6(rule, ec);
      if (ec) continue;
      if (asio::ip::network_v6(addr.to_v6(), n.prefix_length()).network() == n.network()) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace kehu::access
