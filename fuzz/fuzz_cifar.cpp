// Fuzz target "cifar": the bytes as CIFAR-10's binary archive (.tar.gz or .tar): gzip inflated on
// demand, ustar headers and member sizes bounded before anything is held, six batches of whole
// 3073-byte records with labels 0..9, turned into 32x32x3 HWC images.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/cifar.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  repro_fuzz::expect_input_error([&] {
    const repro::Splits s = repro::parse_cifar10_archive(
        std::string_view(reinterpret_cast<const char*>(data), size), "cifar-10-binary.tar.gz");
    for (const repro::Dataset* d : {&s.train, &s.test}) {
      if (d->images.size() != static_cast<size_t>(d->count) * d->image_size() ||
          d->labels.size() != static_cast<size_t>(d->count) || d->channels != 3)
        repro_fuzz::finding("images or labels do not fill their shape");
      for (uint8_t label : d->labels)
        if (label > 9) repro_fuzz::finding("a label outside 0..9 was accepted");
    }
  });
  return 0;
}
