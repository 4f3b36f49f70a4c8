// --check-config as the unit sees it: the LoadCredential= line read from the unit and its
// drop-ins, the places systemd takes the credential from, and the check's verdict and exit
// status for each way the token can (or cannot) reach the daemon.
#include "service/check_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "config/systemd_unit.h"
#include "temp_dir.h"

namespace orc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kUnit = R"([Unit]
Description=x
# LoadCredential=cloudflare-api-token:/in/a/comment
[Service]
ExecStart=/usr/bin/origin-reconciler
LoadCredential=cloudflare-api-token:/etc/origin-reconciler/cloudflare-api-token
)";

TEST(LoadCredential, ReadsTheServiceSectionsLineForTheId) {
  EXPECT_EQ(load_credential({kUnit}, kTokenCredential),
            "/etc/origin-reconciler/cloudflare-api-token");
  EXPECT_EQ(load_credential({kUnit}, "other"), std::nullopt);
  EXPECT_EQ(load_credential({"[Unit]\nLoadCredential=cloudflare-api-token:/x\n"}, kTokenCredential),
            std::nullopt)
      << "only [Service] counts";
  EXPECT_EQ(
      load_credential({"[Service]\n; LoadCredential=cloudflare-api-token:/x\n"}, kTokenCredential),
      std::nullopt);
  EXPECT_EQ(
      load_credential({"[Service]\nLoadCredential = cloudflare-api-token\n"}, kTokenCredential), "")
      << "no path: the credstores";
  EXPECT_EQ(
      load_credential({"[Service]\nLoadCredential=cloudflare-api-token-2:/y\n"}, kTokenCredential),
      std::nullopt)
      << "another id that starts the same";
  EXPECT_EQ(load_credential({"[Service]\nEnvironment=A=1 \\\n  B=2\n"
                             "LoadCredential=cloudflare-api-token:/z\n"},
                            kTokenCredential),
            "/z")
      << "a continued line ends where its backslash stops";
}

TEST(LoadCredential, DropInsComeAfterTheUnitAndAnEmptyLineClears) {
  const std::string dropin = "[Service]\nLoadCredential=cloudflare-api-token:/srv/token\n";
  EXPECT_EQ(load_credential({kUnit, dropin}, kTokenCredential), "/srv/token");
  EXPECT_EQ(load_credential({kUnit, "[Service]\nLoadCredential=\n"}, kTokenCredential),
            std::nullopt);
  EXPECT_EQ(load_credential({kUnit, "[Service]\nLoadCredential=\n", dropin}, kTokenCredential),
            "/srv/token");
}

TEST(CredentialCandidates, AbsoluteAsItIsElseTheCredstoresInOrder) {
  EXPECT_EQ(credential_candidates("/etc/x/token", kTokenCredential, "/r"),
            std::vector<fs::path>{"/r/etc/x/token"});
  EXPECT_EQ(credential_candidates("", kTokenCredential, "/"),
            (std::vector<fs::path>{"/etc/credstore/cloudflare-api-token",
                                   "/run/credstore/cloudflare-api-token",
                                   "/usr/lib/credstore/cloudflare-api-token"}));
  EXPECT_EQ(credential_candidates("cf/token", kTokenCredential, "/").front(),
            fs::path("/etc/credstore/cf/token"));
}

class UnitFiles : public testing::TempDirTest {};

TEST_F(UnitFiles, TheFirstFolderHoldingTheUnitThenEveryDropInByName) {
  EXPECT_TRUE(unit_files(kUnitName, dir_).empty());
  write("lib/systemd/system/origin-reconciler.service", kUnit);
  const fs::path etc_unit = write("etc/systemd/system/origin-reconciler.service", kUnit);
  const fs::path b = write("lib/systemd/system/origin-reconciler.service.d/b.conf", "");
  write("lib/systemd/system/origin-reconciler.service.d/a.conf", "");
  const fs::path a = write("etc/systemd/system/origin-reconciler.service.d/a.conf", "");
  write("etc/systemd/system/origin-reconciler.service.d/ignored.txt", "");
  EXPECT_EQ(unit_files(kUnitName, dir_), (std::vector<fs::path>{etc_unit, a, b}));
}

const char* no_env(const char*) {
  return nullptr;
}
const char* token_env(const char* name) {
  return std::strcmp(name, "CLOUDFLARE_API_TOKEN") == 0 ? "tok-from-env" : nullptr;
}

// A machine below dir_: the packaged unit installed, the token where it names it.
class CheckConfig : public testing::TempDirTest {
 protected:
  void install_unit(const std::string& text = kUnit) {
    write("lib/systemd/system/origin-reconciler.service", text);
  }
  fs::path write_token(const std::string& content, unsigned mode = 0600) {
    const fs::path p = write("etc/origin-reconciler/cloudflare-api-token", content);
    ::chmod(p.c_str(), mode);
    return p;
  }
  int check(CheckConfigOptions o = {}) {
    if (o.getenv == nullptr) o.getenv = &no_env;
    o.root = dir_;
    out_.str("");
    err_.str("");
    return check_config(config_, {}, o, out_, err_);
  }
  Config config_;
  std::ostringstream out_, err_;
};

TEST_F(CheckConfig, AsRunByTheReadmeTheInstalledUnitsCredentialIsChecked) {
  install_unit();
  const fs::path token = write_token("tok-secret\n");
  EXPECT_EQ(check(), kCheckOk) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("credentials: none in this environment"));
  EXPECT_THAT(out_.str(),
              HasSubstr("credentials: systemd credential cloudflare-api-token "
                        "(LoadCredential=cloudflare-api-token:/etc/origin-reconciler/"
                        "cloudflare-api-token in " +
                        (dir_ / "lib/systemd/system/origin-reconciler.service").string() + ") " +
                        token.string() + ": ok"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("refuse")));
  EXPECT_THAT(out_.str(), Not(HasSubstr("tok-secret")));
}

TEST_F(CheckConfig, AMissingOrEmptyCredentialMeansTheDaemonWouldNotStart) {
  install_unit();
  EXPECT_EQ(check(), kCheckNoCredential);
  EXPECT_THAT(out_.str(), HasSubstr("cloudflare-api-token does not exist (systemd fails the start "
                                    "with 243/CREDENTIALS) (the daemon would refuse to start)"));
  write_token(" \n");
  EXPECT_EQ(check(), kCheckNoCredential);
  EXPECT_THAT(out_.str(), HasSubstr("is empty (the daemon would refuse to start)"));
}

TEST_F(CheckConfig, ACredentialOthersCanReadIsAWarningAndAnErrorWithStrict) {
  install_unit();
  const fs::path token = write_token("tok\n", 0644);
  EXPECT_EQ(check(), kCheckOk);
  EXPECT_THAT(out_.str(), HasSubstr("warning: "));
  EXPECT_THAT(out_.str(), HasSubstr("chmod go-rwx " + token.string()));
  EXPECT_EQ(check({.strict = true}), kCheckInvalid);
  EXPECT_THAT(err_.str(), HasSubstr("(an error with --strict)"));
}

TEST_F(CheckConfig, ADropInMovesTheCredential) {
  install_unit();
  write("etc/systemd/system/origin-reconciler.service.d/token.conf",
        "[Service]\nLoadCredential=cloudflare-api-token:/srv/cf-token\n");
  write_token("tok\n");  // where the packaged unit would look: not where this one does
  EXPECT_EQ(check({.unit = fs::path()}), kCheckNoCredential);
  EXPECT_THAT(out_.str(), HasSubstr("/srv/cf-token does not exist"));
  EXPECT_THAT(out_.str(), HasSubstr("(drop-ins: "));
  write("srv/cf-token", "tok\n");
  ::chmod((dir_ / "srv/cf-token").c_str(), 0600);
  EXPECT_EQ(check({.unit = fs::path()}), kCheckOk) << out_.str();
}

TEST_F(CheckConfig, WithTheUnitTheShellsTokenDoesNotCount) {
  install_unit();
  CheckConfigOptions o;
  o.getenv = &token_env;
  EXPECT_EQ(check(o), kCheckOk) << "this shell has a token";
  EXPECT_THAT(out_.str(), HasSubstr("credentials: env CLOUDFLARE_API_TOKEN"));
  o.unit = fs::path();
  EXPECT_EQ(check(o), kCheckNoCredential) << "the unit has none";
}

TEST_F(CheckConfig, AUnitWithoutTheCredentialLine) {
  install_unit("[Service]\nExecStart=/usr/bin/origin-reconciler\n");
  EXPECT_EQ(check(), kCheckNoCredential);
  EXPECT_THAT(out_.str(), HasSubstr("has no LoadCredential=cloudflare-api-token"));
}

TEST_F(CheckConfig, UnitNamesAFileOrTheInstalledOne) {
  EXPECT_EQ(check({.unit = fs::path()}), kCheckInvalid);
  EXPECT_THAT(out_.str(), HasSubstr("--unit: no origin-reconciler.service in"));
  const fs::path unit = write("u.service", "[Service]\nLoadCredential=cloudflare-api-token:/t\n");
  write("t", "tok\n");
  ::chmod((dir_ / "t").c_str(), 0600);
  EXPECT_EQ(check({.unit = unit}), kCheckOk) << out_.str();
}

TEST_F(CheckConfig, NoUnitInstalledChecksThePackagedUnitsSource) {
  EXPECT_EQ(check(), kCheckNoCredential);
  EXPECT_THAT(out_.str(), HasSubstr("of the packaged unit, not installed here"));
  write_token("tok\n");
  EXPECT_EQ(check(), kCheckOk);
}

TEST_F(CheckConfig, ACredentialsDirectoryIsWhereTheUnitPutsTheToken) {
  const fs::path creds = dir_ / "creds";
  EXPECT_EQ(check({.credentials_directory = creds}), kCheckNoCredential);
  write("creds/cloudflare-api-token", "tok\n");
  ::chmod((creds / "cloudflare-api-token").c_str(), 0400);
  EXPECT_EQ(check({.credentials_directory = creds}), kCheckOk) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("(--credentials-directory) " +
                                    (creds / "cloudflare-api-token").string() + ": ok"));
}

TEST_F(CheckConfig, ATokenFileComesFirstAndTheUnitSaysWhyItIsUnwise) {
  install_unit();
  const fs::path file = write("token", "tok\n");
  ::chmod(file.c_str(), 0600);
  config_.cloudflare.token_file = file;
  EXPECT_EQ(check({.unit = fs::path()}), kCheckOk) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("credentials: token_file " + file.string()));
  EXPECT_THAT(out_.str(), HasSubstr("note: cloudflare.token_file comes before the unit's"));
}

TEST_F(CheckConfig, OnlyRootCanReadTheSourceAsSystemdDoes) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  install_unit();
  write_token("tok\n", 0000);
  EXPECT_EQ(check(), kCheckOk) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("its content was not read"));
}

}  // namespace
}  // namespace orc
