// Fuzz target "idx": the IDX reader (gzip and raw). The input is an images file, then
// kLabelsMark, then a labels file; without the mark both files are the whole input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/dataset.h"
#include "fuzz_support.h"

namespace {
constexpr std::string_view kLabelsMark = "--labels--";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string images(input), labels(input);
  const size_t mark = input.find(kLabelsMark);
  if (mark != std::string_view::npos) {
    images = input.substr(0, mark);
    labels = input.substr(mark + kLabelsMark.size());
  }
  repro_fuzz::expect_input_error([&] {
    const repro::Dataset d = repro::parse_idx(images, "images.idx", labels, "labels.idx");
    if (d.count <= 0 || d.rows <= 0 || d.cols <= 0 ||
        d.images.size() != static_cast<size_t>(d.count) * d.rows * d.cols ||
        d.labels.size() != static_cast<size_t>(d.count)) {
      repro_fuzz::finding("an accepted IDX pair has sizes that disagree with its header");
    }
    for (uint8_t label : d.labels) {
      if (label > 9) repro_fuzz::finding("an accepted IDX labels file holds a label over 9");
    }
  });
  return 0;
}
