// Fuzz target "history": the bytes as a history.json and as a run.json, read and compared the
// way `repro compare` does (lib/compare), against themselves.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compare/compare.h"
#include "fuzz_support.h"
#include "record/history.h"
#include "record/run_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro::CompareOptions exact;
  exact.exact = true;
  repro::CompareOptions tolerant;
  tolerant.equal_nan = true;
  repro_fuzz::expect_input_error([&] {
    const repro::History history = repro::parse_history(text, "history.json");
    if (!repro::compare_histories(history, history, exact).same) {
      repro_fuzz::finding("a history differs from itself under --exact");
    }
    repro::compare_histories(history, history, tolerant);
    repro::history_to_json(history);
  });
  repro_fuzz::expect_input_error([&] {
    const repro::RunRecord record = repro::parse_run_record(text, "run.json");
    repro::CompareReport report;
    repro::compare_run_records(record, record, exact, report);
    if (report.first_weights_epoch != 0 || !report.environment.empty()) {
      repro_fuzz::finding("a run.json differs from itself");
    }
    repro::run_record_to_json(record);
  });
  return 0;
}
