#include "export/routes.h"

#include <fmt/format.h>

#include "core/time.h"
#include "customer/routes.h"

namespace kehu::exports {
namespace {

using http::Access;
using http::Request;
using http::Response;
namespace epr = http::epr;

core::Error BadParameter(const std::string& name, const std::string& message) {
  return core::Error(core::Code::kBadRequest, message, {{name, "invalid_choice", message}});
}

}  // namespace

core::Result<Options> ParseOptions(const Request& r) {
  auto filter = customer::ParseListQuery(r, {"format", "encoding", "reveal", "lang"},
                                         /*paging=*/false);
  if (!filter) return std::unexpected(filter.error());
  Options o;
  o.filter = std::move(*filter);
  if (const std::string* v = r.Query("format"); v && !ParseFormat(*v, o.format)) {
    return std::unexpected(BadParameter("format", "format is csv, xlsx or json"));
  }
  if (const std::string* v = r.Query("encoding"); v && !ParseEncoding(*v, o.encoding)) {
    return std::unexpected(BadParameter("encoding", "encoding is utf8 or gbk"));
  }
  if (const std::string* v = r.Query("lang"); v && !ParseLang(*v, o.lang)) {
    return std::unexpected(BadParameter("lang", "lang is zh or en"));
  }
  if (const std::string* v = r.Query("reveal")) {
    if (*v != "true" && *v != "false") {
      return std::unexpected(BadParameter("reveal", "reveal is true or false"));
    }
    o.reveal = *v == "true";
  }
  return o;
}

std::string ContentDisposition(const std::string& ascii_name, const std::string& utf8_name) {
  std::string encoded;
  for (unsigned char c : utf8_name) {
    const bool attr_char =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    encoded += attr_char ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  }
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii_name, encoded);
}

void RegisterRoutes(http::Server& server, ExportService& svc) {
  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/customers/export"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto o = ParseOptions(r);
               if (!o) return std::unexpected(o.error());
               const int64_t now = core::NowMs();
               Response resp;
               resp.content_type = ContentType(o->format, o->encoding);
               resp.WithHeader("Content-Disposition",
                               ContentDisposition(FileName(o->format, Lang::kEn, now),
                                                  FileName(o->format, o->lang, now)));
               resp.stream = [&svc, actor = r.actor, options = std::move(*o)](
                                 http::BodyWriter& out) -> core::Result<void> {
                 auto sum = svc.Run(actor, options,
                                    [&out](std::string_view piece) { return out.Write(piece); });
                 if (!sum) return std::unexpected(sum.error());
                 return core::Ok();
               };
               return resp;
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/customers/export/count"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto filter = customer::ParseListQuery(r, {}, /*paging=*/false);
               if (!filter) return std::unexpected(filter.error());
               auto p = svc.Check(r.actor, *filter);
               if (!p) return std::unexpected(p.error());
               return Response::Json(200, {{"count", p->count},
                                           {"reveal_allowed", p->reveal_allowed},
                                           {"reveal_quota", p->reveal_quota},
                                           {"reveals_today", p->reveals_today}});
             });
}

}  // namespace kehu::exports
