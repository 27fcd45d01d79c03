// Fuzz target "trace": trace.jsonl bytes through repro::parse_trace, then the divergence search
// `repro compare` runs on two traces (here the trace against itself).
#include <cstddef>
#include <cstdint>
#include <string>

#include "compare/compare.h"
#include "fuzz_support.h"
#include "record/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    const std::vector<repro::TraceEntry> trace = repro::parse_trace(text, "trace.jsonl");
    size_t compared = 0;
    repro::first_trace_divergence(trace, trace, &compared);
    repro::trace_to_jsonl(trace);
  });
  return 0;
}
