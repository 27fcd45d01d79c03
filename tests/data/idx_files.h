// Test helpers: writes small IDX files (gzip or raw, optionally damaged) and finds the real MNIST
// copy ($REPRO_DATA_DIR/mnist, else ../shared/data/mnist next to the source tree).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace repro_test {

namespace fs = std::filesystem;

inline std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                             const std::vector<uint8_t>& payload) {
  std::string s;
  auto put = [&s](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xFF);
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  s.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return s;
}

inline void write_raw(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void write_gzip(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// (count, rows, cols): pixel p of image i is (i * 7 + p) % 256.
inline std::vector<uint8_t> pattern_images(uint32_t count, uint32_t rows, uint32_t cols) {
  std::vector<uint8_t> px(static_cast<size_t>(count) * rows * cols);
  for (size_t i = 0; i < count; ++i)
    for (size_t p = 0; p < rows * cols; ++p)
      px[i * rows * cols + p] = static_cast<uint8_t>((i * 7 + p) % 256);
  return px;
}

// (count): label of image i is i % 10.
inline std::vector<uint8_t> pattern_labels(uint32_t count) {
  std::vector<uint8_t> l(count);
  for (uint32_t i = 0; i < count; ++i) l[i] = static_cast<uint8_t>(i % 10);
  return l;
}

// A pattern train and test split as the four MNIST file names (raw or .gz) in `dir`.
inline void write_pattern_set(const fs::path& dir, uint32_t train, uint32_t test, bool gzip) {
  const std::string ext = gzip ? ".gz" : "";
  auto write = gzip ? write_gzip : write_raw;
  write(dir / ("train-images-idx3-ubyte" + ext),
        idx_bytes(2051, {train, 28, 28}, pattern_images(train, 28, 28)));
  write(dir / ("train-labels-idx1-ubyte" + ext), idx_bytes(2049, {train}, pattern_labels(train)));
  write(dir / ("t10k-images-idx3-ubyte" + ext),
        idx_bytes(2051, {test, 28, 28}, pattern_images(test, 28, 28)));
  write(dir / ("t10k-labels-idx1-ubyte" + ext), idx_bytes(2049, {test}, pattern_labels(test)));
}

inline fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("repro_test_data_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The folder holding the real MNIST .gz files, or "" when this machine has none.
inline std::string real_mnist_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("REPRO_DATA_DIR"))
    candidates.push_back(fs::path(env) / "mnist");
  candidates.push_back(fs::path(REPRO_SOURCE_DIR) / ".." / "shared" / "data" / "mnist");
  for (const auto& c : candidates) {
    if (fs::exists(c / "train-images-idx3-ubyte.gz") &&
        fs::exists(c / "t10k-labels-idx1-ubyte.gz")) {
      return c.lexically_normal().string();
    }
  }
  return "";
}

}  // namespace repro_test
