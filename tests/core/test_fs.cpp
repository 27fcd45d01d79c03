// Atomic writes: the content lands whole or not at all.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/error.h"
#include "core/fs.h"

namespace fs = std::filesystem;

TEST_CASE("write_file_atomic writes the whole content and leaves no temp file") {
  fs::path dir = fs::temp_directory_path() / "repro_test_fs";
  fs::remove_all(dir);
  repro::write_file_atomic(dir / "a" / "b.txt", "hello");
  REQUIRE(repro::read_file(dir / "a" / "b.txt") == "hello");
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir / "a")) {
    (void)e;
    ++entries;
  }
  REQUIRE(entries == 1);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomic into an unwritable place throws and leaves nothing") {
  fs::path dir = fs::temp_directory_path() / "repro_test_fs_ro";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // A regular file where a folder is needed makes the write fail.
  repro::write_file_atomic(dir / "file", "x");
  REQUIRE_THROWS_AS(repro::write_file_atomic(dir / "file" / "inner.txt", "y"), repro::RuntimeError);
  REQUIRE(repro::read_file(dir / "file") == "x");
  fs::remove_all(dir);
}

TEST_CASE("read_file of a missing file is an input error naming it") {
  try {
    repro::read_file("/nonexistent/repro.txt");
    FAIL("no throw");
  } catch (const repro::InputError& e) {
    REQUIRE(std::string(e.what()).find("/nonexistent/repro.txt") != std::string::npos);
  }
}
