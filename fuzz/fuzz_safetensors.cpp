// Fuzz target "safetensors": the bytes of a model.safetensors or checkpoint file through the
// reader; an accepted file must hold exactly as many floats as its shapes say.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "record/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    std::map<std::string, std::string> metadata;
    for (const repro::NamedTensor& t :
         repro::parse_safetensors(bytes, "fuzz.safetensors", &metadata)) {
      uint64_t count = 1;
      bool overflow = false, empty = false;
      for (int64_t d : t.shape) {
        if (d < 0) repro_fuzz::finding("an accepted tensor has a negative dimension");
        empty = empty || d == 0;
        overflow = overflow || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count);
      }
      if (empty) count = 0;
      if (overflow && !empty) repro_fuzz::finding("an accepted tensor's shape overflows 64 bits");
      if (count != t.data.size()) {
        repro_fuzz::finding("an accepted tensor's data disagrees with its shape");
      }
    }
  });
  return 0;
}
