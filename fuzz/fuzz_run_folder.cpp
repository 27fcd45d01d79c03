// Fuzz target "run_folder": the bytes as a run folder's three files, run.json, history.json and
// model.safetensors (cut at the first two NUL bytes; the safetensors part, which holds NULs of its
// own, is everything after the second), read and compared against themselves the way
// `repro compare` compares two run folders: architecture, final weights, histories, run.json.
// A folder must compare SAME with itself, exactly and with equal_nan.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compare/compare.h"
#include "fuzz_support.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find('\0');
  const size_t second = first == std::string::npos ? first : text.find('\0', first + 1);
  if (second == std::string::npos) return 0;
  repro_fuzz::expect_input_error([&] {
    repro::RunFolder folder;
    folder.path = "run";
    folder.run = repro::parse_run_record(text.substr(0, first), "run.json");
    folder.history =
        repro::parse_history(text.substr(first + 1, second - first - 1), "history.json");
    folder.weights =
        repro::parse_safetensors(std::string_view(text).substr(second + 1), "model.safetensors");
    if (!repro::architecture_difference(folder, folder).empty())
      repro_fuzz::finding("a run folder's architecture differs from itself");
    repro::CompareOptions exact;
    exact.exact = true;
    repro::CompareOptions tolerant;
    tolerant.equal_nan = true;
    for (const repro::CompareOptions& options : {exact, tolerant}) {
      const repro::CompareReport report = repro::compare_run_folders(folder, folder, options);
      if (!report.same) repro_fuzz::finding("a run folder differs from itself");
      if (report.weights.values != [&] {
            size_t n = 0;
            for (const repro::NamedTensor& t : folder.weights) n += t.data.size();
            return n;
          }())
        repro_fuzz::finding("not every weight was compared");
    }
  });
  return 0;
}
