// Two-step verification through the services, on SQLite and (with KEHU_TEST_PG_URL) PostgreSQL:
// enrolment, the second login step, replay refusal, recovery codes, throttling, disabling,
// resets, the role requirement and key rotation of the stored secrets.
#include "user/mfa.h"

#include <gtest/gtest.h>

#include <qrencode.h>

#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "core/time.h"
#include "crypto/totp.h"
#include "test_db.h"
#include "user/qr_svg.h"

namespace kehu::user {
namespace {

using testing::Engine;

constexpr const char* kPassword = "Gq7!zzxv-kehu";

class MfaTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().has_value());
    db_ = testing::OpenTestDb(GetParam());
    if (!db_) {
      if (GetParam() == Engine::kPostgres && !std::getenv("KEHU_TEST_PG_URL"))
        GTEST_SKIP() << "set KEHU_TEST_PG_URL";
      FAIL() << "cannot open test database";
    }
    audit_store_ = std::make_unique<audit::AuditStore>(*db_);
    audit_ = std::make_unique<audit::AuditLog>(*audit_store_);
    access_store_ = std::make_unique<access::AccessStore>(*db_);
    access_ = std::make_unique<access::AccessService>(*access_store_, *audit_);
    user_store_ = std::make_unique<UserStore>(*db_);
    LoginPolicy logins;
    logins.free_failures = 2;  // the third failure in a row makes the next attempt wait
    logins.lock_after = 6;
    users_ =
        std::make_unique<UserService>(*user_store_, *access_, *audit_, SessionPolicy{}, logins);
    mfa_store_ = std::make_unique<MfaStore>(*db_);
    mfa_ = std::make_unique<MfaService>(*user_store_, *mfa_store_, *users_, *audit_, cipher_);
  }

  // A user and the actor their session would have.
  core::Actor MakeActor(const std::string& name, const std::string& role = "sales") {
    NewUser nu;
    nu.username = name;
    nu.password = kPassword;
    nu.role = role;
    auto u = users_->Create(core::Actor::LocalAdmin(), nu);
    EXPECT_TRUE(u.has_value()) << (u ? "" : u.error().message());
    core::Actor a;
    a.user_id = u ? u->id : 0;
    a.username = name;
    a.ip = "127.0.0.1";
    EXPECT_TRUE(access_->Resolve(a, role, std::nullopt).has_value());
    return a;
  }

  // Waits while the current 30 s step has less than 4 s left, so that a test's codes stay
  // within one step of the server's clock.
  static int64_t FreshStep() {
    for (;;) {
      const int64_t ms = core::NowMs();
      if ((ms / 1000) % crypto::kTotpStepSeconds < crypto::kTotpStepSeconds - 4) {
        return crypto::TotpStep(ms / 1000);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  static std::string CodeAt(const std::string& base32, int64_t step) {
    auto secret = crypto::Base32Decode(base32);
    EXPECT_TRUE(secret.has_value());
    return *crypto::TotpCode(*secret, step * crypto::kTotpStepSeconds);
  }

  // Enrols the actor and confirms with the code of `step`; returns {secret, recovery codes}.
  std::pair<std::string, std::vector<std::string>> Enrol(const core::Actor& a, int64_t step) {
    auto e = mfa_->StartEnrolment(a);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message());
    auto codes = mfa_->ConfirmEnrolment(a, CodeAt(e->secret, step));
    EXPECT_TRUE(codes.has_value()) << (codes ? "" : codes.error().message());
    return {e->secret, codes.value_or(std::vector<std::string>{})};
  }

  std::string Token(const std::string& name) {
    auto r = users_->Login(name, kPassword, "127.0.0.1", "test");
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    EXPECT_TRUE(r && r->mfa) << "the password alone must not start a session";
    if (r) {
      EXPECT_TRUE(r->session_token.empty());
    }
    return r && r->mfa ? r->mfa->token : "";
  }

  static std::string CodeOf(const core::Result<LoginResult>& r) {
    if (r || r.error().details().empty()) return "";
    return r.error().details().front().code;
  }

  int64_t AuditCount(const std::string& action) {
    audit::ListQuery q;
    q.action = action;
    q.limit = 200;
    auto page = audit_->List(core::Actor::LocalAdmin(), q);
    EXPECT_TRUE(page.has_value());
    return page ? static_cast<int64_t>(page->items.size()) : -1;
  }

  crypto::KeyRing keys_ = crypto::KeyRing::FromKeys({{1, std::string(32, 'k')}});
  crypto::FieldCipher cipher_{keys_};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<audit::AuditStore> audit_store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<access::AccessStore> access_store_;
  std::unique_ptr<access::AccessService> access_;
  std::unique_ptr<UserStore> user_store_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<MfaStore> mfa_store_;
  std::unique_ptr<MfaService> mfa_;
};

TEST_P(MfaTest, EnrolmentGivesUriQrAndTenRecoveryCodesAndStoresTheSecretEncrypted) {
  const core::Actor a = MakeActor("wang");
  const int64_t step = FreshStep();
  auto e = mfa_->StartEnrolment(a);
  ASSERT_TRUE(e.has_value()) << e.error().message();
  EXPECT_EQ(e->secret.size(), 32u);
  EXPECT_EQ(e->otpauth_uri, "otpauth://totp/Kehu:wang?secret=" + e->secret + "&issuer=Kehu");
  EXPECT_TRUE(e->qr_svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_NE(e->qr_svg.find("<path"), std::string::npos);

  auto status = mfa_->Status(a);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->pending);
  EXPECT_FALSE(status->enabled);

  // Stored encrypted under the field cipher, never as the secret itself.
  auto stored = mfa_store_->Find(a.user_id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_TRUE((*stored)->secret.starts_with("k1:"));
  EXPECT_EQ((*stored)->secret.find(e->secret), std::string::npos);

  auto wrong = mfa_->ConfirmEnrolment(a, CodeAt(e->secret, step + 5));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().details().front().code, "wrong");
  EXPECT_FALSE(mfa_->ConfirmEnrolment(a, "12ab56").has_value());

  auto codes = mfa_->ConfirmEnrolment(a, CodeAt(e->secret, step));
  ASSERT_TRUE(codes.has_value()) << codes.error().message();
  ASSERT_EQ(codes->size(), 10u);
  std::set<std::string> unique(codes->begin(), codes->end());
  EXPECT_EQ(unique.size(), 10u);
  for (const auto& c : *codes) {
    EXPECT_TRUE(std::regex_match(c, std::regex("[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}"))) << c;
  }
  status = mfa_->Status(a);
  EXPECT_TRUE(status->enabled);
  EXPECT_EQ(status->recovery_codes_left, 10);
  EXPECT_EQ(AuditCount("auth.mfa_enable"), 1);
  // Enrolling again needs turning it off first.
  EXPECT_EQ(mfa_->StartEnrolment(a).error().code(), core::Code::kConflict);
  EXPECT_EQ(mfa_->ConfirmEnrolment(a, CodeAt(e->secret, step)).error().code(),
            core::Code::kConflict);
  auto u = users_->Get(a, a.user_id);
  EXPECT_TRUE(u->mfa_enabled);
}

TEST_P(MfaTest, LoginNeedsTheCodeAndRefusesWrongAndReusedCodes) {
  const core::Actor a = MakeActor("li");
  const int64_t step = FreshStep();
  auto [secret, recovery] = Enrol(a, step);

  const std::string token = Token("li");
  auto wrong = mfa_->CompleteLogin(token, CodeAt(secret, step + 7), "127.0.0.1", "test");
  EXPECT_EQ(wrong.error().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(CodeOf(wrong), "wrong");
  // The code used for the enrolment, and an older one, are spent.
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(token, CodeAt(secret, step), "127.0.0.1", "test")),
            "reused");
  auto ok = mfa_->CompleteLogin(token, CodeAt(secret, step + 1), "127.0.0.1", "test");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_FALSE(ok->session_token.empty());
  EXPECT_EQ(ok->user.username, "li");
  EXPECT_TRUE(users_->AuthenticateSession(ok->session_token).has_value());
  // The token is single-use.
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(token, CodeAt(secret, step + 1), "127.0.0.1", "test")),
            "expired");
  // A new login cannot replay the code just used, nor the one before it.
  const std::string again = Token("li");
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(again, CodeAt(secret, step + 1), "127.0.0.1", "test")),
            "reused");
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(again, CodeAt(secret, step - 1), "127.0.0.1", "test")),
            "reused");
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin("not-a-token", CodeAt(secret, step), "127.0.0.1", "t")),
            "expired");
  EXPECT_GE(AuditCount("auth.login_failed"), 4);
}

TEST_P(MfaTest, RecoveryCodesWorkOnceEach) {
  const core::Actor a = MakeActor("zhao");
  auto [secret, recovery] = Enrol(a, FreshStep());
  ASSERT_EQ(recovery.size(), 10u);
  // Typed in capitals with spaces: still the same code.
  std::string typed = recovery[3];
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto ok = mfa_->CompleteLogin(Token("zhao"), " " + typed + " ", "127.0.0.1", "test");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(AuditCount("auth.mfa_recovery_used"), 1);
  EXPECT_EQ(mfa_->Status(a)->recovery_codes_left, 9);
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(Token("zhao"), recovery[3], "127.0.0.1", "test")), "wrong");
  EXPECT_TRUE(mfa_->CompleteLogin(Token("zhao"), recovery[4], "127.0.0.1", "test").has_value());
  // Another user's codes do not open this account.
  const core::Actor b = MakeActor("qian");
  auto [secret_b, recovery_b] = Enrol(b, FreshStep());
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(Token("zhao"), recovery_b[0], "127.0.0.1", "t")), "wrong");

  // Regenerating needs a current app code and replaces them all.
  const int64_t step = FreshStep();
  EXPECT_EQ(mfa_->RegenerateRecoveryCodes(a, recovery[5]).error().code(), core::Code::kInvalid);
  auto fresh = mfa_->RegenerateRecoveryCodes(a, CodeAt(secret, step + 1));
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
  EXPECT_EQ(mfa_->Status(a)->recovery_codes_left, 10);
  EXPECT_TRUE(mfa_->CompleteLogin(Token("zhao"), (*fresh)[0], "127.0.0.1", "t").has_value());
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(Token("zhao"), recovery[6], "127.0.0.1", "t")), "wrong");
}

TEST_P(MfaTest, WrongCodesCountTowardTheLoginThrottle) {
  const core::Actor a = MakeActor("sun");
  const int64_t step = FreshStep();
  auto [secret, recovery] = Enrol(a, step);
  const std::string token = Token("sun");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(CodeOf(mfa_->CompleteLogin(token, "000000", "127.0.0.1", "t")), "wrong");
  }
  // Now blocked: even the right code waits (and the password step too).
  auto blocked = mfa_->CompleteLogin(token, CodeAt(secret, step + 1), "127.0.0.1", "t");
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code(), core::Code::kRateLimited);
  EXPECT_EQ(users_->Login("sun", kPassword, "127.0.0.1", "t").error().code(),
            core::Code::kRateLimited);
}

TEST_P(MfaTest, AHalfDoneLoginEndsAfterFiveWrongCodes) {
  const core::Actor a = MakeActor("zhou");
  auto [secret, recovery] = Enrol(a, FreshStep());
  const std::string token = Token("zhou");
  auto hash = crypto::TokenHash(token);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(user_store_->FailMfaChallenge(hash, 5).has_value());
  EXPECT_TRUE((*user_store_->FindMfaChallenge(hash)).has_value());
  EXPECT_EQ(*user_store_->FailMfaChallenge(hash, 5), 5);
  EXPECT_FALSE((*user_store_->FindMfaChallenge(hash)).has_value());
  EXPECT_EQ(CodeOf(mfa_->CompleteLogin(token, recovery[0], "127.0.0.1", "t")), "expired");
}

TEST_P(MfaTest, DisableNeedsPasswordOrCodeAndIsRefusedWhenTheRoleRequiresIt) {
  core::Actor a = MakeActor("wu");
  const int64_t step = FreshStep();
  auto [secret, recovery] = Enrol(a, step);
  EXPECT_EQ(mfa_->Disable(a, "", "").error().details().front().code, "required");
  EXPECT_EQ(mfa_->Disable(a, "not the password", "").error().details().front().code, "wrong");
  EXPECT_EQ(mfa_->Disable(a, "", CodeAt(secret, step)).error().details().front().code, "reused");
  a.mfa_required = true;
  auto refused = mfa_->Disable(a, kPassword, "");
  EXPECT_EQ(refused.error().code(), core::Code::kForbidden);
  EXPECT_EQ(refused.error().details().front().code, "required_by_role");
  a.mfa_required = false;
  ASSERT_TRUE(mfa_->Disable(a, kPassword, "").has_value());
  EXPECT_FALSE(mfa_->Status(a)->enabled);
  EXPECT_EQ(AuditCount("auth.mfa_disable"), 1);
  // The password alone logs in again.
  auto r = users_->Login("wu", kPassword, "127.0.0.1", "t");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->mfa.has_value());
  EXPECT_FALSE(r->session_token.empty());
}

TEST_P(MfaTest, AdministratorsResetOthersButNotThemselves) {
  const core::Actor admin = MakeActor("boss", "admin");
  const core::Actor a = MakeActor("zheng");
  Enrol(a, FreshStep());
  EXPECT_EQ(mfa_->Reset(a, admin.user_id).error().code(), core::Code::kForbidden);
  EXPECT_EQ(mfa_->Reset(admin, admin.user_id).error().details().front().code, "self");
  EXPECT_EQ(mfa_->Reset(admin, 99999).error().code(), core::Code::kNotFound);
  auto was = mfa_->Reset(admin, a.user_id);
  ASSERT_TRUE(was.has_value());
  EXPECT_TRUE(*was);
  EXPECT_FALSE(mfa_->Status(a)->enabled);
  EXPECT_EQ(AuditCount("auth.mfa_reset"), 1);
  EXPECT_FALSE(*mfa_->ResetByName(core::Actor::LocalAdmin(), "zheng"));
  EXPECT_EQ(mfa_->ResetByName(core::Actor::LocalAdmin(), "nobody").error().code(),
            core::Code::kNotFound);
}

TEST_P(MfaTest, ARoleRequiringMfaLimitsSessionsUntilTheUserEnrols) {
  auto roles = access_->ListRoles(core::Actor::LocalAdmin());
  ASSERT_TRUE(roles.has_value());
  const access::Role* service = nullptr;
  for (const auto& r : *roles) {
    if (r.key == "service") service = &r;
  }
  ASSERT_NE(service, nullptr);
  access::RoleInput in;
  in.mfa_required = true;
  auto changed = access_->UpdateRole(core::Actor::LocalAdmin(), service->id, service->version, in);
  ASSERT_TRUE(changed.has_value()) << changed.error().message();
  EXPECT_TRUE(changed->mfa_required);

  const core::Actor a = MakeActor("feng", "service");
  EXPECT_TRUE(a.mfa_required);
  auto login = users_->Login("feng", kPassword, "127.0.0.1", "t");
  ASSERT_TRUE(login.has_value());
  EXPECT_TRUE(login->mfa_enrollment_required);
  EXPECT_FALSE(login->session_token.empty());
  auto auth = users_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(auth.has_value());
  EXPECT_TRUE(auth->mfa_enrollment_required);
  Enrol(a, FreshStep());
  auth = users_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(auth.has_value());
  EXPECT_FALSE(auth->mfa_enrollment_required);
  EXPECT_EQ(mfa_->Disable(a, kPassword, "").error().code(), core::Code::kForbidden);
}

TEST_P(MfaTest, KeyRotationReencryptsTheSecrets) {
  const core::Actor a = MakeActor("chen");
  auto [secret, recovery] = Enrol(a, FreshStep());
  EXPECT_EQ(*mfa_->SecretsOnKey(1), 1);
  cipher_.Reload(crypto::KeyRing::FromKeys({{1, std::string(32, 'k')}, {2, std::string(32, 'n')}}));
  EXPECT_EQ(mfa_->Reencrypt(a).error().code(), core::Code::kForbidden);
  EXPECT_EQ(*mfa_->Reencrypt(core::Actor::LocalAdmin()), 1);
  EXPECT_EQ(*mfa_->SecretsOnKey(1), 0);
  EXPECT_EQ(*mfa_->SecretsOnKey(2), 1);
  EXPECT_EQ(*mfa_->Reencrypt(core::Actor::LocalAdmin()), 0);
  // The old key can go; the codes still match.
  cipher_.Reload(crypto::KeyRing::FromKeys({{2, std::string(32, 'n')}}));
  const int64_t step = FreshStep();
  EXPECT_TRUE(
      mfa_->CompleteLogin(Token("chen"), CodeAt(secret, step + 1), "127.0.0.1", "t").has_value());
}

INSTANTIATE_TEST_SUITE_P(Engines, MfaTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         testing::EngineName);

TEST(QrSvg, DrawsAScalableBlackOnWhiteCode) {
  auto svg = QrSvg("otpauth://totp/Kehu:wang?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Kehu");
  ASSERT_TRUE(svg.has_value());
  EXPECT_TRUE(svg->starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
  EXPECT_NE(svg->find("fill=\"#fff\""), std::string::npos);
  EXPECT_NE(svg->find("<path fill=\"#000\" d=\"M"), std::string::npos);
  EXPECT_EQ(svg->find("<script"), std::string::npos);
  // Versions grow with the text: a longer text makes a larger symbol.
  EXPECT_GT(QrSvg(std::string(300, 'a'))->size(), QrSvg("a")->size());
  EXPECT_FALSE(QrSvg("").has_value());
  EXPECT_FALSE(QrSvg(std::string(5000, 'a')).has_value());
}

TEST(QrSvg, DrawsExactlyTheModulesOfTheQrCode) {
  const std::string text = "otpauth://totp/Kehu:%E5%BC%A0?secret=JBSWY3DPEHPK3PXP&issuer=Kehu";
  auto svg = QrSvg(text);
  ASSERT_TRUE(svg.has_value());
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(
      QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  ASSERT_TRUE(qr);
  const int w = qr->width, quiet = 4;
  EXPECT_NE(svg->find("viewBox=\"0 0 " + std::to_string(w + 2 * quiet) + " " +
                      std::to_string(w + 2 * quiet) + "\""),
            std::string::npos);
  // Paint the path's runs ("M x y h n v1 h-n z") back into a grid and compare.
  std::vector<std::vector<int>> grid(w, std::vector<int>(w, 0));
  std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
  const std::string path = svg->substr(svg->find(" d=\"") + 4);
  int runs = 0;
  for (std::sregex_iterator it(path.begin(), path.end(), run), end; it != end; ++it, ++runs) {
    const int x = std::stoi((*it)[1]) - quiet, y = std::stoi((*it)[2]) - quiet;
    const int n = std::stoi((*it)[3]);
    ASSERT_EQ(n, std::stoi((*it)[4]));
    ASSERT_TRUE(x >= 0 && y >= 0 && y < w && x + n <= w);
    for (int i = 0; i < n; ++i) grid[y][x + i]++;
  }
  EXPECT_GT(runs, 0);
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      ASSERT_EQ(grid[y][x], qr->data[y * w + x] & 1) << "module " << x << "," << y;
    }
  }
}

}  // namespace
}  // namespace kehu::user
