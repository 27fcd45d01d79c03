// trace.jsonl: round trip and line-numbered errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "record/trace.h"

TEST_CASE("trace round trip keeps every entry in order") {
  std::vector<repro::TraceEntry> entries = {
      {1, 1, 0, "conv2d/kernel", std::string(64, '0')},
      {1, 1, 0, "conv2d/output", std::string(64, '1')},
      {938, 2, 0, "dense_1/kernel_grad", std::string(64, 'f')},
  };
  auto path = std::filesystem::temp_directory_path() /
              ("repro_test_trace_" + std::to_string(::getpid())) / "trace.jsonl";
  repro::write_trace(path.string(), entries);
  auto back = repro::read_trace(path.string());
  REQUIRE(back.size() == entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    CHECK(back[i].step == entries[i].step);
    CHECK(back[i].epoch == entries[i].epoch);
    CHECK(back[i].batch == entries[i].batch);
    CHECK(back[i].tensor == entries[i].tensor);
    CHECK(back[i].sha256 == entries[i].sha256);
  }
  CHECK(repro::trace_to_jsonl({entries[0]}) ==
        "{\"step\":1,\"epoch\":1,\"batch\":0,\"tensor\":\"conv2d/kernel\",\"sha256\":\"" +
            std::string(64, '0') + "\"}\n");
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("a malformed trace line is an input error with its line number") {
  std::string good = repro::trace_to_jsonl({{1, 1, 0, "dense/kernel", "ab"}});
  try {
    repro::parse_trace(good + "\n" + good + "{\"step\": 2,}\n", "t.jsonl");
    FAIL("no throw");
  } catch (const repro::InputError& e) {
    CHECK(std::string(e.what()).rfind("t.jsonl:4:12: invalid JSON at '}'", 0) == 0);
  }
  try {
    repro::parse_trace(
        "{\"step\": 2, \"epoch\": 1, \"batch\": 0, \"tensor\": 5, \"sha256\": \"x\"}\n", "t.jsonl");
    FAIL("no throw");
  } catch (const repro::InputError& e) {
    CHECK(std::string(e.what()).rfind("t.jsonl:1:1: a trace line needs \"tensor\"", 0) == 0);
  }
}
