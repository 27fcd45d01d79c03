// repro schema and the configs it describes: the example configs and the configs the tests write
// (tests/e2e/schema_corpus/ gathers every layer, initializer, optimizer, schedule, callback and
// dataset form, and the tests' own small and graph configs) are valid against it under Debian's
// python3-jsonschema, each one first accepted by the decoder; an unknown key, a word outside a
// list and a number out of range are not. Also: --out, the --set key completion, a value that a
// later flag overrides is still checked, and scripts/package.sh's own check passes.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/error.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

const std::string kSource = REPRO_SOURCE_DIR;

// tests/config/config_test_helpers.h's small config and test_cli_graph.cpp's layer graph.
const char* kSmall =
    "seed: 1\n"
    "data:\n"
    "  dataset: mnist\n"
    "  batch_size: 8\n"
    "model:\n"
    "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n"
    "  - flatten: {}\n"
    "  - dense: {units: 10, activation: softmax}\n"
    "training:\n"
    "  epochs: 1\n";
const char* kGraph =
    "seed: 1\n"
    "data: {dataset: mnist, limit: 512, batch_size: 32, resize: [16, 16], shuffle_buffer: 0}\n"
    "model:\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu, name: stem}\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu}\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same}\n"
    "  - add: {inputs: [stem, conv2d_1]}\n"
    "  - activation: {activation: relu}\n"
    "  - maximum: {inputs: [activation, conv2d]}\n"
    "  - conv2d: {filters: 4, kernel_size: 1, strides: 2, inputs: [stem], name: side}\n"
    "  - max_pooling2d: {pool_size: 2, inputs: [maximum]}\n"
    "  - concatenate: {inputs: [max_pooling2d, side]}\n"
    "  - flatten: {}\n"
    "  - dense: {units: 10, activation: softmax}\n"
    "training: {epochs: 2, optimizer: adam, loss: sparse_categorical_crossentropy, "
    "metrics: [accuracy]}\n";

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

// scripts/schema_check.py under Debian's python3 (the one python3-jsonschema installs into).
repro_test::ScriptResult schema_check(const std::string& arguments) {
  return repro_test::run_check_script(
      "/usr/bin/python3 scripts/schema_check.py "
      "configs/config.schema.json " +
      arguments);
}

}  // namespace

TEST_CASE("repro schema prints the schema, and --out writes the same through a rename") {
  const auto printed = run_repro("", "schema");
  REQUIRE(printed.exit_code == 0);
  CHECK(printed.out == repro_test::slurp_file(kSource + "/configs/config.schema.json"));
  const fs::path dir = repro_test::scratch_dir("schema_out");
  const auto written = run_repro("", "schema --out" + quoted(dir / "sub/config.schema.json"));
  INFO(written.err);
  CHECK(written.exit_code == 0);
  CHECK(contains(written.out, "Wrote the config schema to "));
  CHECK(repro_test::slurp_file(dir / "sub/config.schema.json") == printed.out);
  CHECK(std::distance(fs::directory_iterator(dir / "sub"), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("every example config and every config the tests write is valid against the schema") {
  if (!fs::exists("/usr/bin/python3")) REPRO_SKIP("no /usr/bin/python3 (Debian's python3)");
  const fs::path dir = repro_test::scratch_dir("schema_valid");
  std::ofstream(dir / "small.yaml") << kSmall;
  std::ofstream(dir / "graph.yaml") << kGraph;
  std::string files = " configs/*.yaml" + quoted(dir / "small.yaml") + quoted(dir / "graph.yaml");
  std::vector<fs::path> all{dir / "small.yaml", dir / "graph.yaml"};
  for (const auto& entry : fs::directory_iterator(kSource + "/configs"))
    if (entry.path().extension() == ".yaml") all.push_back(entry.path());
  for (const auto& entry : fs::directory_iterator(kSource + "/tests/e2e/schema_corpus")) {
    files += quoted(entry.path());
    all.push_back(entry.path());
  }
  // Each is a config the decoder and validation accept, so the schema must accept it too.
  for (const fs::path& file : all) {
    INFO(file);
    CHECK_NOTHROW(repro::load_config(file.string()));
  }
  const auto checked = schema_check(files);
  fs::remove_all(dir);
  INFO(checked.out);
  if (checked.skipped) return;
  CHECK(checked.exit_code == 0);
  CHECK(contains(checked.out, "PASS: " + std::to_string(all.size()) + " of "));
}

TEST_CASE("a config with an unknown key, a word outside a list or a number out of range is not") {
  if (!fs::exists("/usr/bin/python3")) REPRO_SKIP("no /usr/bin/python3 (Debian's python3)");
  const fs::path dir = repro_test::scratch_dir("schema_invalid");
  const std::vector<std::pair<std::string, std::string>> bad{
      {"top_key.yaml", std::string("sede: 1\n") + kSmall},
      {"data_key.yaml", "data: {dataset: mnist, batch_sise: 8}\n"},
      {"layer_argument.yaml", "model:\n  - dense: {units: 10, activation: softmax, unit: 3}\n"},
      {"layer.yaml", "model:\n  - densse: {units: 10}\n"},
      {"activation.yaml", "model:\n  - dense: {units: 10, activation: softmaxx}\n"},
      {"dataset.yaml", "data: {dataset: mnits}\n"},
      {"optimizer_argument.yaml", "training: {optimizer: {name: sgd, beta_1: 0.9}}\n"},
      {"initializer.yaml",
       "model:\n  - dense: {units: 4, kernel_initializer: {name: zeros, "
       "seed: 1}}\n"},
      {"range.yaml", "training: {epochs: 0}\n"},
      {"batch.yaml", "data: {batch_size: 70000}\n"}};
  std::string files;
  for (const auto& [name, text] : bad) {
    std::ofstream(dir / name) << text;
    files += quoted(dir / name);
    INFO(name);
    CHECK_THROWS_AS(repro::parse_config(text, name), repro::InputError);  // the decoder agrees
  }
  const auto checked = schema_check("--expect-invalid" + files);
  fs::remove_all(dir);
  INFO(checked.out);
  if (checked.skipped) return;
  CHECK(checked.exit_code == 0);
  CHECK(contains(checked.out, "PASS: 10 of 10 files invalid"));
  CHECK(contains(checked.out, "'batch_sise' was unexpected"));
  CHECK(contains(checked.out, "'softmaxx' is not one of"));
}

TEST_CASE("bash and fish complete --set keys from the schema") {
  const fs::path dir = repro_test::scratch_dir("schema_completion");
  const auto bash = run_repro("", "completion bash");
  REQUIRE(bash.exit_code == 0);
  std::ofstream(dir / "repro.bash") << bash.out;
  const auto completed = repro_test::run_shell(
      "bash -c 'source" + quoted(dir / "repro.bash") +
      "; COMP_WORDS=(repro train x.yaml --set training.ep); COMP_CWORD=4; _repro; "
      "echo \"${COMPREPLY[*]}\"; COMP_WORDS=(repro check x.yaml --set data.keys.x_t); "
      "COMP_CWORD=4; _repro; echo \"${COMPREPLY[*]}\"'");
  INFO(completed.out);
  CHECK(completed.exit_code == 0);
  CHECK(completed.out == "training.epochs=\ndata.keys.x_train= data.keys.x_test=\n");
  const auto fish = run_repro("", "completion fish");
  CHECK(contains(fish.out,
                 "complete -c repro -n '__fish_seen_subcommand_from train' -l set -x "
                 "-a 'seed= rng= determinism="));
  fs::remove_all(dir);
}

TEST_CASE("repro train checks a --set value that --epochs overrides") {
  const auto trained =
      run_repro("",
                "train configs/tiny.yaml --set training.epochs=999999999999999999999999 "
                "--epochs 1 --out /nonexistent/never");
  CHECK(trained.exit_code == 2);
  CHECK(trained.err ==
        "repro: --set training.epochs=999999999999999999999999: training.epochs must be an "
        "integer from 1 to 1000000 (got `999999999999999999999999`, past the 64-bit integer "
        "range)\n");
}

TEST_CASE("scripts/package.sh builds a .deb whose repro installs, runs and trains") {
  // About 25 s on two cores (cpack, dpkg-shlibdeps, dpkg -i, a one-epoch training); skipped
  // (exit 77) where dpkg-deb or dpkg-shlibdeps is missing. REPRO_TEST_PACKAGE=0 skips it.
  if (const char* run = std::getenv("REPRO_TEST_PACKAGE"); run && std::string(run) == "0")
    REPRO_SKIP("REPRO_TEST_PACKAGE=0: scripts/package.sh is not run");
  const fs::path build = fs::path(REPRO_EXE).parent_path();
  const auto packaged =
      repro_test::run_check_script("REPRO_BUILD_DIR='" + build.string() + "' scripts/package.sh");
  INFO(packaged.out);
  if (packaged.skipped) return;
  CHECK(packaged.exit_code == 0);
  CHECK(contains(packaged.out, "PASS: the package installs"));
}
