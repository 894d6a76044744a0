#include "importer/routes.h"

#include <fmt/format.h>

#include "core/time.h"

namespace kehu::importer {
namespace {

using http::Access;
using http::Request;
using http::Response;
using nlohmann::json;
namespace epr = http::epr;

json RunToJson(const jobs::Job& j) {
  const json options = j.params.value("options", json::object());
  const Totals t = Totals::FromJson(j.result);
  json totals = t.ToJson();
  const int percent =
      j.state == jobs::State::kDone
          ? 100
          : (j.progress_total > 0
                 ? static_cast<int>(std::min<int64_t>(99, j.progress_done * 100 / j.progress_total))
                 : 0);
  return {
      {"id", j.id},
      {"import_id", j.params.value("import_id", int64_t{0})},
      {"state", jobs::StateName(j.state)},
      {"dry_run", options.value("dry_run", false)},
      {"on_duplicate", options.value("on_duplicate", "skip")},
      {"cursor", j.cursor},
      {"progress", {{"done", j.progress_done}, {"total", j.progress_total}, {"percent", percent}}},
      {"totals", totals},
      {"error", j.error.empty() ? json(nullptr) : json(j.error)},
      {"created_at", core::FormatTime(j.created_at)},
      {"started_at", j.started_at ? json(core::FormatTime(*j.started_at)) : json(nullptr)},
      {"finished_at", j.finished_at ? json(core::FormatTime(*j.finished_at)) : json(nullptr)}};
}

json FileToJson(const ImportFile& f, const std::optional<jobs::Job>& run) {
  return {{"id", f.id},
          {"filename", f.filename},
          {"format", f.format},
          {"size", f.size},
          {"created_by", f.created_by},
          {"created_at", core::FormatTime(f.created_at)},
          {"latest_run", run ? RunToJson(*run) : json(nullptr)}};
}

json PreviewToJson(const Preview& p, const std::optional<jobs::Job>& run) {
  json columns = json::array();
  for (const ColumnMap& m : p.mapping) {
    columns.push_back({{"index", m.column},
                       {"header", m.header},
                       {"target", TargetText(m)},
                       {"automatic", m.automatic}});
  }
  json rows = json::array();
  for (const PreviewRow& r : p.rows) {
    json problems = json::array();
    for (const PreviewRow::Cell& c : r.problems) {
      problems.push_back({{"column", c.column >= 0 ? json(c.column) : json(nullptr)},
                          {"field", c.field},
                          {"code", c.code},
                          {"message", c.message},
                          {"raw", c.raw}});
    }
    rows.push_back(
        {{"row", r.row}, {"cells", r.cells}, {"problems", problems}, {"rejected", r.rejected}});
  }
  auto text = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"import", FileToJson(p.file, run)},
          {"format", p.source.format},
          {"encoding", text(p.source.encoding)},
          {"detected_encoding", text(p.source.detected_encoding)},
          {"separator", text(p.source.separator)},
          {"sheets", p.source.sheets},
          {"sheet", text(p.source.sheet)},
          {"header_row", p.header_row},
          {"columns", columns},
          {"rows", rows},
          {"warnings", p.warnings}};
}

core::Result<RunOptions> ParseOptions(const Request& r, ImportService& svc, bool allow_run) {
  json body = json::object();
  if (!r.body.empty()) {
    auto b = r.JsonObject();
    if (!b) return std::unexpected(b.error());
    body = std::move(*b);
  }
  json tmpl_mapping = nullptr;
  if (body.contains("template")) {
    const json& t = body["template"];
    if (!t.is_null()) {
      if (!t.is_string()) {
        return std::unexpected(
            core::Error::InvalidField("template", "wrong_type", "must be a template name"));
      }
      auto all = svc.Templates(r.actor);
      if (!all) return std::unexpected(all.error());
      bool found = false;
      for (const Template& x : *all) {
        if (x.name == t.get<std::string>()) {
          tmpl_mapping = x.mapping;
          found = true;
        }
      }
      if (!found) {
        return std::unexpected(
            core::Error::InvalidField("template", "invalid_choice", "no such template"));
      }
    }
  }
  if (!allow_run) {
    for (const char* k : {"on_duplicate", "dry_run"}) {
      if (body.contains(k)) body.erase(k);
    }
  }
  if (body.contains("default_owner")) {
    return std::unexpected(
        core::Error::InvalidField("default_owner", "unknown_field", "unknown field default_owner"));
  }
  auto o = RunOptions::FromJson(body);
  if (!o) return std::unexpected(o.error());
  if (!tmpl_mapping.is_null()) {
    // The template's mapping, with the request's own entries on top.
    json merged = tmpl_mapping;
    if (o->mapping.is_object()) {
      for (const auto& [k, v] : o->mapping.items()) merged[k] = v;
    }
    o->mapping = merged;
  }
  return o;
}

std::optional<jobs::Job> LatestRun(ImportService& svc, const core::Actor& actor,
                                   const ImportFile& f) {
  if (!f.job_id) return std::nullopt;
  auto j = svc.Job(actor, *f.job_id);
  return j ? std::optional<jobs::Job>(*j) : std::nullopt;
}

}  // namespace

void RegisterRoutes(http::Server& server, ImportService& svc, std::function<void()> queued) {
  const auto id_p = epr::non_negative_decimal_number_p<std::int64_t>();

  // Upload: the file is the body; ?filename= names it.
  server.AddUpload(restinio::http_method_post(), epr::path_to_params("/api/v1/imports"),
                   Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
                     for (const auto& [k, v] : r.query) {
                       if (k != "filename") {
                         return std::unexpected(
                             core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
                       }
                     }
                     const std::string* name = r.Query("filename");
                     auto f = svc.Upload(r.actor, name ? *name : "", r.body);
                     if (!f) return std::unexpected(f.error());
                     auto p = svc.Analyse(r.actor, f->id, RunOptions{});
                     if (!p) return std::unexpected(p.error());
                     return Response::Json(201, PreviewToJson(*p, std::nullopt))
                         .WithHeader("Location", fmt::format("/api/v1/imports/{}", f->id));
                   });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/imports"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto limit = r.QueryInt("limit");
               if (!limit) return std::unexpected(limit.error());
               for (const auto& [k, v] : r.query) {
                 if (k != "limit") {
                   return std::unexpected(
                       core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
                 }
               }
               int n = 50;
               if (*limit) {
                 if (**limit < 1 || **limit > 200) {
                   return std::unexpected(core::Error::BadRequest("limit must be 1-200"));
                 }
                 n = static_cast<int>(**limit);
               }
               auto all = svc.List(r.actor, n);
               if (!all) return std::unexpected(all.error());
               json items = json::array();
               for (const ImportFile& f : *all)
                 items.push_back(FileToJson(f, LatestRun(svc, r.actor, f)));
               return Response::Json(200, {{"items", items}, {"next_cursor", nullptr}});
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/imports/", id_p),
             Access::kAuthenticated, [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto f = svc.Get(r.actor, id);
               if (!f) return std::unexpected(f.error());
               return Response::Json(200, FileToJson(*f, LatestRun(svc, r.actor, *f)));
             });

  server.Add(restinio::http_method_post(),
             epr::path_to_params("/api/v1/imports/", id_p, "/preview"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto o = ParseOptions(r, svc, false);
               if (!o) return std::unexpected(o.error());
               auto p = svc.Analyse(r.actor, id, *o);
               if (!p) return std::unexpected(p.error());
               return Response::Json(200, PreviewToJson(*p, LatestRun(svc, r.actor, p->file)));
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/imports/", id_p, "/runs"),
             Access::kAuthenticated,
             [&svc, queued](Request& r, int64_t id) -> core::Result<Response> {
               auto o = ParseOptions(r, svc, true);
               if (!o) return std::unexpected(o.error());
               auto j = svc.Start(r.actor, id, *o, "server:" + svc.node());
               if (!j) return std::unexpected(j.error());
               if (queued) queued();
               return Response::Json(202, RunToJson(*j))
                   .WithHeader("Location", fmt::format("/api/v1/imports/runs/{}", j->id));
             });

  server.AddInline(restinio::http_method_get(), epr::path_to_params("/api/v1/imports/runs/", id_p),
                   Access::kAuthenticated,
                   [&svc](Request& r, int64_t id) -> core::Result<Response> {
                     auto j = svc.Job(r.actor, id);
                     if (!j) return std::unexpected(j.error());
                     return Response::Json(200, RunToJson(*j));
                   });

  server.Add(restinio::http_method_get(),
             epr::path_to_params("/api/v1/imports/runs/", id_p, "/report"), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               bool english = false;
               for (const auto& [k, v] : r.query) {
                 if (k != "lang") {
                   return std::unexpected(
                       core::Error::BadRequest(fmt::format("unknown query parameter {}", k)));
                 }
                 if (v != "en" && v != "zh-CN") {
                   return std::unexpected(core::Error::BadRequest("lang is zh-CN or en"));
                 }
                 english = v == "en";
               }
               Response resp;
               resp.status = 200;
               resp.content_type = "text/csv; charset=utf-8";
               auto done = svc.Report(r.actor, id, english,
                                      [&](std::string_view piece) { resp.body.append(piece); });
               if (!done) return std::unexpected(done.error());
               resp.WithHeader("Content-Disposition",
                               fmt::format("attachment; filename=\"import-{}-problems.csv\"", id));
               return resp;
             });

  server.Add(restinio::http_method_get(), epr::path_to_params("/api/v1/imports/templates"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto all = svc.Templates(r.actor);
               if (!all) return std::unexpected(all.error());
               json items = json::array();
               for (const Template& t : *all) {
                 items.push_back({{"id", t.id},
                                  {"name", t.name},
                                  {"mapping", t.mapping},
                                  {"created_by", t.created_by},
                                  {"updated_at", core::FormatTime(t.updated_at)}});
               }
               return Response::Json(200, {{"items", items}, {"next_cursor", nullptr}});
             });

  server.Add(restinio::http_method_post(), epr::path_to_params("/api/v1/imports/templates"),
             Access::kAuthenticated, [&svc](Request& r) -> core::Result<Response> {
               auto body = r.JsonObject();
               if (!body) return std::unexpected(body.error());
               std::vector<core::FieldError> errs;
               for (const auto& [k, v] : body->items()) {
                 if (k != "name" && k != "mapping") {
                   errs.push_back({k, "unknown_field", "unknown field " + k});
                 }
               }
               const json name = body->value("name", json());
               if (!name.is_string()) errs.push_back({"name", "required", "name is required"});
               if (!errs.empty()) {
                 return std::unexpected(core::Error::InvalidFields(std::move(errs)));
               }
               auto t = svc.SaveTemplate(r.actor, name.get<std::string>(),
                                         body->value("mapping", json()));
               if (!t) return std::unexpected(t.error());
               return Response::Json(200, {{"id", t->id},
                                           {"name", t->name},
                                           {"mapping", t->mapping},
                                           {"created_by", t->created_by},
                                           {"updated_at", core::FormatTime(t->updated_at)}});
             });

  server.Add(restinio::http_method_delete(),
             epr::path_to_params("/api/v1/imports/templates/", id_p), Access::kAuthenticated,
             [&svc](Request& r, int64_t id) -> core::Result<Response> {
               auto done = svc.DeleteTemplate(r.actor, id);
               if (!done) return std::unexpected(done.error());
               return Response::NoContent();
             });
}

}  // namespace kehu::importer
