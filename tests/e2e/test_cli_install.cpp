// cmake --install into a temporary prefix: the installed repro runs from another directory with
// the installed example configs (summary, and a training where MNIST is found), without any path
// into the source or build tree.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>

#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;

TEST_CASE("cmake --install puts a working repro and its example configs under the prefix") {
  const fs::path prefix = repro_test::scratch_dir("install");
  const fs::path build = fs::path(REPRO_EXE).parent_path();
  const auto installed = repro_test::run_shell("cmake --install '" + build.string() +
                                               "' --prefix '" + prefix.string() + "'");
  INFO(installed.out);
  REQUIRE(installed.exit_code == 0);
  const fs::path repro = prefix / "bin/repro";
  REQUIRE(fs::exists(repro));
  REQUIRE(fs::exists(prefix / "share/repro/configs/mnist_recipe.yaml"));
  REQUIRE(fs::exists(prefix / "share/doc/repro/README.md"));
  // The man page and completions, written by the installed repro from its command definitions.
  const fs::path page = prefix / "share/man/man1/repro.1";
  const std::string roff = repro_test::slurp_file(page);
  CHECK(contains(roff, ".SS \"repro train\""));
  CHECK(contains(roff, ".SS \"repro data verify\""));
  CHECK(contains(roff, ".B \\-\\-overwrite"));
  if (repro_test::run_shell("command -v man").exit_code == 0) {  // man-db renders it
    const auto man = repro_test::run_shell("MANWIDTH=100 man -l '" + page.string() + "'");
    INFO(man.out);
    CHECK(man.exit_code == 0);
    CHECK(contains(man.out, "repro data verify"));
  }
  const fs::path bash = prefix / "share/bash-completion/completions/repro";
  const auto completed = repro_test::run_shell(
      "bash -c 'source \"" + bash.string() +
      "\"; COMP_WORDS=(repro data ve); COMP_CWORD=2; _repro; echo \"${COMPREPLY[*]}\"; "
      "COMP_WORDS=(repro train x.yaml --ov); COMP_CWORD=3; _repro; echo \"${COMPREPLY[*]}\"'");
  INFO(completed.out);
  CHECK(completed.exit_code == 0);
  CHECK(completed.out == "verify\n--overwrite\n");
  CHECK(fs::file_size(prefix / "share/zsh/site-functions/_repro") > 0);
  CHECK(contains(repro_test::slurp_file(prefix / "share/fish/vendor_completions.d/repro.fish"),
                 "complete -c repro -n '__fish_seen_subcommand_from train' -l overwrite"));
  const std::string run = "cd '" + prefix.string() + "' && '" + repro.string() + "' ";
  const auto summary = repro_test::run_shell(run + "summary share/repro/configs/resnet_small.yaml");
  INFO(summary.out);
  CHECK(summary.exit_code == 0);
  CHECK(contains(summary.out, "Total params: 78,426"));
  const std::string env = repro_test::data_env();
  if (env.empty()) {
    fs::remove_all(prefix);
    REPRO_SKIP("no MNIST found: the installed repro's training is not run");
  }
  const auto trained =
      repro_test::run_shell("cd '" + prefix.string() + "' && " + env + " '" + repro.string() +
                            "' train share/repro/configs/tiny.yaml --quiet "
                            "--epochs 1 --out run");
  INFO(trained.out);
  CHECK(trained.exit_code == 0);
  CHECK(fs::exists(prefix / "run/model.safetensors"));
  fs::remove_all(prefix);
}
