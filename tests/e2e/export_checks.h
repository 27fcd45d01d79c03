// What the end-to-end tests ask of a run's exports, in one place: the Keras archive read by h5py
// (scripts/keras_check.py) and by `repro import keras`, and the ONNX export run by ONNX Runtime
// against `repro predict` (scripts/onnx_check.sh). A check whose tool is missing (no h5py, no npm)
// reports itself skipped and asserts nothing.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "run_cli.h"

namespace repro_test {

// `repro export RUN --format keras --out FILE`, keras_check.py on it, then `repro import keras`
// of it; returns keras_check.py's output (empty when skipped) and the imported config.
struct KerasRoundTrip {
  std::string checked, imported;
};
inline KerasRoundTrip keras_round_trip(const std::filesystem::path& run,
                                       const std::filesystem::path& file) {
  const auto quoted = [](const std::filesystem::path& p) { return " '" + p.string() + "'"; };
  const auto exported =
      run_repro("", "export" + quoted(run) + " --format keras --out" + quoted(file));
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  const auto check = run_check_script("/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) +
                                      "/scripts/keras_check.py'" + quoted(run) + quoted(file));
  INFO(check.out);
  if (!check.skipped) CHECK(check.exit_code == 0);
  const auto imported = run_repro("", "import keras" + quoted(file));
  INFO(imported.err);
  CHECK(imported.exit_code == 0);
  return {check.skipped ? "" : check.out, imported.out};
}

// scripts/onnx_check.sh RUN [ARGS]: ONNX Runtime agrees with repro predict (PASS).
inline void check_onnx_runtime(const std::string& env, const std::filesystem::path& run,
                               const std::string& args = "") {
  const auto onnx = run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                     "/scripts/onnx_check.sh' '" + run.string() + "'" + args);
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "PASS"));
  }
}

}  // namespace repro_test
