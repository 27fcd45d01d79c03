// Fuzz target "npy": the bytes as a .npy file (repro predict's input), parsed, and a float32 one
// written back and parsed again to the same shape and values.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "record/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    const repro::NpyArray a = repro::parse_npy(text, "input.npy");
    if (a.descr != "<f4") return;
    std::vector<float> values(a.data.size() / sizeof(float));
    if (!values.empty()) std::memcpy(values.data(), a.data.data(), values.size() * sizeof(float));
    const repro::NpyArray back = repro::parse_npy(repro::npy_float32(a.shape, values), "back.npy");
    if (back.shape != a.shape || back.data != a.data)
      repro_fuzz::finding("a float32 .npy does not survive a write and a read");
  });
  return 0;
}
