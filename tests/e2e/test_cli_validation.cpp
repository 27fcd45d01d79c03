// data.validation_split end to end: the held-out images are history.json's validation data (and
// `evaluate --split validation` gives its last values bit for bit), the run still tests on the
// test split, the bits hold across worker and thread counts and resume; data without a test split
// trains on the split alone and says it has no test evaluation.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "array_files.h"
#include "record/history.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

nlohmann::json json_of(const fs::path& p) {
  return nlohmann::json::parse(repro_test::slurp_file(p));
}

}  // namespace

TEST_CASE("validation_split validates on the held-out images, reproducibly and across resume") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_validation_split");
  const std::string args = "train configs/tiny.yaml --quiet --set data.validation_split=0.25";
  const auto a = run_repro(env, args + " --out" + quoted(root / "a"));
  INFO(a.err);
  REQUIRE(a.exit_code == 0);

  // The validation values are the held-out images' (not the test split's): evaluate agrees.
  const nlohmann::json history = json_of(root / "a/history.json");
  const nlohmann::json run = json_of(root / "a/run.json");
  REQUIRE(history["val_accuracy"].size() == 2);
  const auto val = run_repro(env, "evaluate" + quoted(root / "a") + " --split validation --json");
  INFO(val.out << val.err);
  REQUIRE(val.exit_code == 0);
  const nlohmann::json v = nlohmann::json::parse(val.out);
  CHECK(v["loss"].get<double>() == history["val_loss"].back().get<double>());
  CHECK(v["accuracy"].get<double>() == history["val_accuracy"].back().get<double>());
  CHECK(run["tested"] == true);
  CHECK(run["test_accuracy"].get<double>() != history["val_accuracy"].back().get<double>());
  const auto test = run_repro(env, "evaluate" + quoted(root / "a"));
  CHECK(contains(test.out, "run.json recorded the same test loss and accuracy, bit for bit"));
  CHECK(
      contains(repro_test::slurp_file(root / "a/run.json"), "\"data.validation_split\": \"0.25\""));

  // 384 of the 512 images train: 12 batches of 32 per epoch.
  const auto steps = run_repro(env,
                               "train configs/tiny.yaml --set data.validation_split=0.25 "
                               "--epochs 1 --out" +
                                   quoted(root / "steps"));
  CHECK(contains(steps.out, "12/12"));

  for (const char* vary : {"data.num_parallel_calls=1,3", "threads=1,2"}) {
    const auto check = run_repro(env,
                                 "check configs/tiny.yaml --set data.validation_split=0.25 "
                                 "--vary " +
                                     std::string(vary) + " --out" + quoted(root / "check"));
    INFO(vary << "\n" << check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK(contains(check.out, "PASS: 2 runs bit-identical"));
  }

  // Stopped after epoch 1, then resumed: the same bits as the run straight through.
  const std::string resume = args + " --set training.checkpoint=true";
  REQUIRE(run_repro(env, resume + " --epochs 1 --out" + quoted(root / "c")).exit_code == 0);
  REQUIRE(run_repro(env, resume + " --resume" + quoted(root / "c")).exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "c"));
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));
  fs::remove_all(root);
}

TEST_CASE("data without a test split trains on validation_split and has no test evaluation") {
  const fs::path root = repro_test::scratch_dir("cli_no_test_split");
  // 200 28x28 images of a learnable pattern: class k is bright in row band k.
  std::string images, labels;
  for (int i = 0; i < 200; ++i) {
    const int k = i % 10;
    for (int p = 0; p < 784; ++p)
      images += static_cast<char>((p / 28) / 3 == k ? 200 + i % 50 : i % 7);
    labels += static_cast<char>(k);
  }
  repro_test::write_zip(root / "train.npz",
                        {{"x_train.npy", repro_test::npy_bytes("|u1", {200, 28, 28}, images)},
                         {"y_train.npy", repro_test::npy_bytes("|u1", {200}, labels)}});
  const std::string args =
      "train configs/tiny.yaml --set data.dataset=npz --set data.limit=0 "
      "--set data.path='" +
      (root / "train.npz").string() + "'";

  const auto refused = run_repro("", args + " --out" + quoted(root / "refused"));
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.err,
                 "data without a test split leaves training.validation nothing to "
                 "evaluate: set data.validation_split (e.g. 0.2) or "
                 "training.validation: false"));
  CHECK_FALSE(fs::exists(root / "refused"));

  const auto a =
      run_repro("", args + " --set data.validation_split=0.2 --out" + quoted(root / "a"));
  INFO(a.out << a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(contains(a.out,
                 "The data has no test split: no test evaluation (run.json's "
                 "test_accuracy is null)"));
  CHECK_FALSE(contains(a.out, "Model accuracy on test data"));
  const nlohmann::json run = json_of(root / "a/run.json");
  CHECK(run["tested"] == false);
  CHECK(run["test_accuracy"].is_null());
  CHECK(run["completed"] == true);
  CHECK(json_of(root / "a/history.json")["val_accuracy"].size() == 2);
  const auto b =
      run_repro("", args + " --set data.validation_split=0.2 --quiet --out" + quoted(root / "b"));
  REQUIRE(b.exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "b"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));
  // Other data (one label changed): compare names the data's digests among the differences.
  labels[0] = static_cast<char>(labels[0] == 0 ? 1 : 0);
  repro_test::write_zip(root / "changed.npz",
                        {{"x_train.npy", repro_test::npy_bytes("|u1", {200, 28, 28}, images)},
                         {"y_train.npy", repro_test::npy_bytes("|u1", {200}, labels)}});
  const auto changed =
      run_repro("",
                "train configs/tiny.yaml --set data.dataset=npz --set "
                "data.limit=0 --set data.validation_split=0.2 --quiet "
                "--set data.path='" +
                    (root / "changed.npz").string() + "' --out" + quoted(root / "changed"));
  REQUIRE(changed.exit_code == 0);
  const auto differs = run_repro("", "compare" + quoted(root / "a") + quoted(root / "changed"));
  INFO(differs.out);
  CHECK(contains(differs.out, "data (sha256)"));
  const auto no_test = run_repro("", "evaluate" + quoted(root / "a"));
  CHECK(no_test.exit_code == 2);
  CHECK(contains(no_test.err, "the run's data (npz) has no test split"));
  const auto no_validation =
      run_repro("", args + " --set training.validation=false --quiet --out" + quoted(root / "c"));
  CHECK(no_validation.exit_code == 0);
  fs::remove_all(root);
}
