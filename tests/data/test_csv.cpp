// dataset csv: RFC 4180 fields, the number rule (double, then float32, whatever the locale), the
// label rule (class numbers or sorted names), the test table's agreement with the training
// table, and every bad row named by its line.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <clocale>
#include <cstring>

#include "core/error.h"
#include "data/csv.h"
#include "idx_files.h"

namespace {

repro::Dataset parse(const std::string& text, const std::string& label = "y") {
  repro::CsvLabels labels;
  return repro::parse_csv(text, "t.csv", label, labels);
}

std::string error_of(const std::string& text, const std::string& label = "y") {
  try {
    parse(text, label);
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "";
}

float bits_of(const std::string& number) { return parse("a,y\n" + number + ",0\n").features[0]; }

}  // namespace

TEST_CASE("a table's fields follow RFC 4180 and its numbers one locale-free rule") {
  const repro::Dataset d = parse(
      "a,\"y\",b\r\n"
      "1.5,1,-2\r\n"
      "\r\n"
      " +3 ,\"0\", 1e-3\n"
      "\".5\",2,\"5.\"\n");
  REQUIRE(d.count == 3);
  REQUIRE(d.channels == 2);
  REQUIRE(d.rows == 1);
  REQUIRE(d.features == std::vector<float>{1.5f, -2.0f, 3.0f, 1e-3f, 0.5f, 5.0f});
  REQUIRE(d.labels == std::vector<uint8_t>{1, 0, 2});
  // A quoted label may hold commas, quotes and line breaks; lines count from 1 across them.
  const repro::Dataset named = parse("y,a\n\"x, \"\"1\"\"\nz\",4\nb,5\n");
  REQUIRE(named.labels == std::vector<uint8_t>{1, 0});  // sorted: "b" < "x, \"1\"\nz"
  CHECK(error_of("y,a\n\"x\nz\",4\nb,q\n") ==
        "t.csv:4: column 'a' is 'q', not a number (decimal, as 1.5, -2 or 3e-4; no locale, no "
        "inf or nan)");

  // To the nearest double, then to float32 (pandas, then astype): this value is a hair above the
  // midpoint between the floats 1 and 1 + 2^-23, so a direct float parse gives 1 + 2^-23, but the
  // double is the midpoint itself, which rounds to even: 1.
  CHECK(bits_of("1.0000000596046447753906250000000001") == 1.0f);
  CHECK(bits_of("0.1") == 0.1f);
}

TEST_CASE("a table's numbers do not change with the process's locale") {
  // A locale whose decimal separator is a comma (as German writes 1,5), where one is installed.
  const char* found = nullptr;
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"})
    if (!found && std::setlocale(LC_NUMERIC, name)) found = name;
  if (!found) REPRO_SKIP("no locale with a decimal comma is installed (e.g. locales: de_DE.UTF-8)");
  const float value = bits_of("2.25");
  const std::string rejected = error_of("a,y\n\"2,25\",1\n");
  std::setlocale(LC_NUMERIC, "C");
  CHECK(value == 2.25f);
  CHECK(rejected.find("not a number") != std::string::npos);
}

TEST_CASE("labels are class numbers when every one is a whole number 0..255, else sorted names") {
  REQUIRE(parse("a,y\n1,7\n2,0\n").labels == std::vector<uint8_t>{7, 0});
  REQUIRE(parse("a,y\n1,dog\n2,cat\n3,dog\n").labels == std::vector<uint8_t>{1, 0, 1});
  REQUIRE(parse("a,y\n1,2\n2,cat\n").labels == std::vector<uint8_t>{0, 1});  // "2" < "cat"
  CHECK(error_of("a,y\n1,256\n") ==
        "t.csv:2: label '256' is not a class number 0..255 like the training table's labels");

  // The test table takes the training table's classes and columns.
  repro::CsvLabels labels;
  repro::parse_csv("a,y\n1,dog\n2,cat\n", "train.csv", "y", labels);
  REQUIRE(repro::parse_csv("a,y\n1,cat\n", "test.csv", "y", labels).labels ==
          std::vector<uint8_t>{0});
  REQUIRE_THROWS_WITH(repro::parse_csv("a,y\n1,cow\n", "test.csv", "y", labels),
                      "test.csv:2: label 'cow' is not among the training table's classes");
  REQUIRE_THROWS_WITH(repro::parse_csv("y,a\n1,cat\n", "test.csv", "y", labels),
                      "test.csv:1: its columns are not the training table's (a, y)");
}

TEST_CASE("every bad table is one error naming the file and the line") {
  CHECK(error_of("") == "t.csv: an empty table; the first line must name the columns");
  CHECK(error_of("a,b\n1,2\n") == "t.csv:1: no column 'y' (data.label); the header names a, b");
  CHECK(error_of("a,y,a\n1,2,3\n") ==
        "t.csv:1: the column name 'a' appears twice; name every column once");
  CHECK(error_of("a,y\n") == "t.csv: a header but no rows");
  CHECK(error_of("y\n1\n") == "t.csv: only the label column; a table needs feature columns too");
  CHECK(error_of("a,y\n1,2\n3\n") ==
        "t.csv:3: 1 fields, but the header has 2; every row needs one field per column");
  CHECK(error_of("a,y\n,2\n") == "t.csv:2: column 'a' is empty; every feature needs a number");
  for (const char* bad : {"inf", "nan", "1,5", "0x10", "1e999", "1.2.3", "--1"})
    CHECK(error_of(std::string("a,y\n\"") + bad + "\",1\n").find("not a number") !=
          std::string::npos);
  CHECK(error_of("a,y\n\"1,1\n") ==
        "t.csv:2: a quoted field is never closed (a quote inside a field is written \"\")");
  CHECK(error_of("a,y\n\"1\"x,1\n") ==
        "t.csv:2: text after a closing quote; quote the whole field");
}

TEST_CASE("a csv source reads the training and test tables and resolves the feature count") {
  const repro_test::fs::path root = repro_test::scratch_dir("csv");
  repro_test::write_raw(root / "train.csv", "f1,label,f2\n1,cat,2\n3,dog,4\n5,cat,6\n");
  repro_test::write_raw(root / "test.csv", "f1,label,f2\n7,dog,8\n");
  repro::RunConfig config;
  config.data.dataset = "csv";
  config.data.path = (root / "train.csv").string();
  config.data.test_path = (root / "test.csv").string();
  config.data.label = "label";
  repro::resolve_input(config);
  REQUIRE(config.data.features == 2);
  const repro::Splits s = repro::load_splits(config.data);
  REQUIRE(s.train.features == std::vector<float>{1, 2, 3, 4, 5, 6});
  REQUIRE(s.train.labels == std::vector<uint8_t>{0, 1, 0});
  REQUIRE(s.test.labels == std::vector<uint8_t>{1});
  REQUIRE(s.files.size() == 2);
  REQUIRE(s.files[0].find("train.csv (sha256 ") != std::string::npos);
  config.data.limit = 2;
  config.data.validation_split = 0.5;
  const repro::Splits held = repro::load_splits(config.data);
  REQUIRE(held.train.features == std::vector<float>{1, 2});
  REQUIRE(held.validation.features == std::vector<float>{3, 4});
  repro_test::fs::remove_all(root);
}
