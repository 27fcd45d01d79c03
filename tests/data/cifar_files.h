// Test helpers: CIFAR-10's binary archive in the official layout (cifar-10-binary.tar.gz holding
// cifar-10-batches-bin/data_batch_1..5.bin and test_batch.bin), written with few records per
// batch. Record r of batch b has label (b * 3 + r) % 10 and pixel bytes from pixel_value().
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace repro_test {

inline const std::vector<std::string>& cifar_batch_names() {
  static const std::vector<std::string> names = {"data_batch_1.bin", "data_batch_2.bin",
                                                 "data_batch_3.bin", "data_batch_4.bin",
                                                 "data_batch_5.bin", "test_batch.bin"};
  return names;
}

// The byte of channel `c` (0 red, 1 green, 2 blue) at pixel p (row * 32 + col) of record `id`.
inline uint8_t cifar_pixel(int id, int c, int p) {
  return static_cast<uint8_t>((id * 31 + c * 85 + p * 7) % 256);
}

inline int cifar_label(int batch, int record) { return (batch * 3 + record) % 10; }

// One batch file of `records` records; the record id is batch * 1000 + r.
inline std::string cifar_batch(int batch, int records) {
  std::string bytes;
  for (int r = 0; r < records; ++r) {
    bytes += static_cast<char>(cifar_label(batch, r));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p)
        bytes += static_cast<char>(cifar_pixel(batch * 1000 + r, c, p));
  }
  return bytes;
}

// A POSIX ustar member: header (name, mode, size, checksum, type '0', magic) and padded content.
inline std::string tar_member(const std::string& name, const std::string& content,
                              char type = '0') {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  auto octal = [&h](size_t at, size_t width, uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(value));
    h.replace(at, width - 1, text);
  };
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, content.size());
  octal(136, 12, 0);
  h[156] = type;
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (char c : h) sum += static_cast<uint8_t>(c);
  char check[8];
  std::snprintf(check, sizeof(check), "%06o", sum);
  h.replace(148, 7, std::string(check, 6) + '\0');
  return h + content + std::string((512 - content.size() % 512) % 512, '\0');
}

// The archive's tar bytes with `train_records` per training batch and `test_records` in the test
// batch; a folder member and a readme first, as the published archive has.
inline std::string cifar_tar(int train_records, int test_records) {
  std::string tar = tar_member("cifar-10-batches-bin/", "", '5');
  tar += tar_member("cifar-10-batches-bin/batches.meta.txt", "airplane\nautomobile\n");
  for (int b = 0; b < 6; ++b)
    tar += tar_member("cifar-10-batches-bin/" + cifar_batch_names()[b],
                      cifar_batch(b, b < 5 ? train_records : test_records));
  return tar + std::string(1024, '\0');
}

// cifar-10-binary.tar.gz in `dir`.
inline std::filesystem::path write_cifar_archive(const std::filesystem::path& dir,
                                                 int train_records, int test_records) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "cifar-10-binary.tar.gz";
  const std::string tar = cifar_tar(train_records, test_records);
  gzFile f = gzopen(path.string().c_str(), "wb");
  gzwrite(f, tar.data(), static_cast<unsigned>(tar.size()));
  gzclose(f);
  return path;
}

}  // namespace repro_test
