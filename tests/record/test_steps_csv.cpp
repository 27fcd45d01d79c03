// steps.csv: the text the trainer writes, read back bit for bit, and one-line errors with line
// and column for a file that is not one.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "record/steps.h"

namespace {

std::string parse_error(const std::string& text) {
  try {
    repro::parse_steps_csv(text, "steps.csv");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("steps.csv text is exact: the header, Python's float repr, seconds to the millisecond") {
  const std::vector<repro::StepRecord> rows = {
      {10, 1, 9, 0.1f, 2.3025851f, 2.25f, 0.001f, 0.123456}};
  CHECK(repro::steps_to_csv(rows) ==
        "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n"
        "10,1,9,0.10000000149011612,2.3025851249694824,2.25,0.0010000000474974513,0.123\n");
}

TEST_CASE("steps.csv read back gives the written float bits, NaN included") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<repro::StepRecord> rows = {
      {10, 1, 9, 0.1f, 2.3025851f, 2.25f, 0.001f, 1.5},
      {20, 2, 0, 0.97f, 1e-7f, nan, 3e-4f, 2.25},
  };
  const auto back = repro::parse_steps_csv(repro::steps_to_csv(rows), "steps.csv");
  REQUIRE(back.size() == 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(back[i].step == rows[i].step);
    CHECK(back[i].epoch == rows[i].epoch);
    CHECK(back[i].batch == rows[i].batch);
    CHECK(back[i].accuracy == rows[i].accuracy);
    CHECK(back[i].loss == rows[i].loss);
    CHECK(back[i].learning_rate == rows[i].learning_rate);
    CHECK(back[i].wall_seconds == rows[i].wall_seconds);
  }
  CHECK(back[0].batch_loss == 2.25f);
  CHECK(std::isnan(back[1].batch_loss));
}

TEST_CASE("steps.csv columns are found by name, extra columns and CRLF are accepted") {
  const auto rows = repro::parse_steps_csv(
      "epoch,step,note,batch,loss,accuracy,batch_loss,learning_rate,wall_seconds\r\n"
      "2,30,x,5,0.5,0.75,0.4,0.01,3.5\r\n",
      "steps.csv");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].step == 30);
  CHECK(rows[0].epoch == 2);
  CHECK(rows[0].batch == 5);
  CHECK(rows[0].loss == 0.5f);
  CHECK(rows[0].accuracy == 0.75f);
  CHECK(repro::parse_steps_csv(
            "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n", "s")
            .empty());
}

TEST_CASE("a damaged steps.csv is one line naming the file, line, column and what is wrong") {
  const std::string header =
      "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n";
  CHECK(parse_error("") == "steps.csv:1:1: empty; expected the header step,epoch,batch,...");
  CHECK(parse_error("step,epoch,batch,accuracy,batch_loss,learning_rate,wall_seconds\n") ==
        "steps.csv:1:1: the header has no column \"loss\"; is this a steps.csv written by repro "
        "train?");
  CHECK(parse_error(header + "10,1,9,0.5,0.5,0.5,0.001\n") ==
        "steps.csv:2:1: a row of 7 values under a header of 8");
  CHECK(parse_error(header + "10,1,9,0.5,0.5,0.5,0.001,1\n\n20,1,19,0.5,0.5,0.5,0.001,2\n") ==
        "steps.csv:3:1: a row of 1 values under a header of 8");
  CHECK(parse_error(header + "0,1,9,0.5,0.5,0.5,0.001,1\n") ==
        "steps.csv:2:1: step must be an integer from 1 to 9223372036854775807 (got \"0\")");
  CHECK(parse_error(header + "10,1.5,9,0.5,0.5,0.5,0.001,1\n") ==
        "steps.csv:2:4: epoch must be an integer from 1 to 1000000 (got \"1.5\")");
  CHECK(parse_error(header + "99999999999999999999,1,9,0.5,0.5,0.5,0.001,1\n") ==
        "steps.csv:2:1: step must be an integer from 1 to 9223372036854775807 (got "
        "\"99999999999999999999\")");
  CHECK(parse_error(header + "10,1,9,0.5,,0.5,0.001,1\n") ==
        "steps.csv:2:12: loss must be a number (got \"\")");
}
