// Fuzz target "csv": the bytes as a dataset csv table with label column "label": the RFC 4180
// scanner, the number rule and the label rule; a table read must fill its stated shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/csv.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    repro::CsvLabels labels;
    const repro::Dataset d = repro::parse_csv(bytes, "t.csv", "label", labels);
    if (d.features.size() != static_cast<size_t>(d.count) * d.channels ||
        d.labels.size() != static_cast<size_t>(d.count) || d.count < 1 || d.channels < 1)
      repro_fuzz::finding("a table does not fill its shape");
    if (labels.named && labels.classes.size() > 256)
      repro_fuzz::finding("more than 256 named classes were accepted");
    // The same bytes as a test table of the same columns give the same rows.
    const repro::Dataset again = repro::parse_csv(bytes, "t.csv", "label", labels);
    if (again.features != d.features || again.labels != d.labels)
      repro_fuzz::finding("a second read of the same table differs");
  });
  return 0;
}
