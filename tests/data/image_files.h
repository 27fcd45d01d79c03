// Test helpers: image files with known pixels. PNG written here (signature, IHDR, one zlib IDAT,
// optional PLTE, IEND) for 8-bit gray, RGB, RGBA and palette images; JPEG through Debian's cjpeg
// (libjpeg-turbo-progs) from a binary PPM, and decoded by its djpeg for the reference values.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace repro_test {

// PNG color types: 0 gray, 2 RGB, 3 palette, 6 RGBA. `pixels` are (rows, cols, samples) bytes,
// samples 1, 3, 1 (palette index) or 4; `palette` is RGB triples for type 3.
// `depth` 16 takes two bytes per sample (big-endian).
inline std::string png_bytes(const std::vector<uint8_t>& pixels, int rows, int cols, int color,
                             const std::vector<uint8_t>& palette = {}, int depth = 8) {
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char((v >> 16) & 255), char((v >> 8) & 255), char(v & 255)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()));
    return be32(uint32_t(data.size())) + body + be32(uint32_t(crc));
  };
  const int samples = (color == 0 || color == 3 ? 1 : color == 2 ? 3 : 4) * depth / 8;
  std::string raw;
  for (int r = 0; r < rows; ++r)
    raw += '\0' + std::string(reinterpret_cast<const char*>(pixels.data()) + r * cols * samples,
                              static_cast<size_t>(cols * samples));
  uLongf size = compressBound(uLong(raw.size()));
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
            reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()), 9);
  packed.resize(size);
  std::string ihdr = be32(uint32_t(cols)) + be32(uint32_t(rows));
  ihdr += std::string{char(depth), char(color), '\0', '\0', '\0'};
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr);
  if (color == 3) png += chunk("PLTE", std::string(palette.begin(), palette.end()));
  return png + chunk("IDAT", packed) + chunk("IEND", "");
}

inline std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// (rows, cols, 3) test pattern: smooth enough for JPEG, distinct per image `id`.
inline std::vector<uint8_t> rgb_pattern(int rows, int cols, int id) {
  std::vector<uint8_t> px;
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x)
      for (int c = 0; c < 3; ++c)
        px.push_back(static_cast<uint8_t>((x * 9 + y * 5 + c * 70 + id * 31) % 256));
  return px;
}

inline bool have_libjpeg_tools() {
  return std::system("command -v cjpeg >/dev/null 2>&1 && command -v djpeg >/dev/null 2>&1") == 0;
}

// A JPEG of an RGB pattern, 4:2:0 subsampled (cjpeg -sample 2x2), at `path`.
inline void write_jpeg(const std::filesystem::path& path, const std::vector<uint8_t>& rgb, int rows,
                       int cols) {
  std::filesystem::create_directories(path.parent_path());
  const std::string ppm = path.string() + ".ppm";
  std::ofstream(ppm, std::ios::binary) << "P6\n"
                                       << cols << " " << rows << "\n255\n"
                                       << std::string(rgb.begin(), rgb.end());
  const std::string command =
      "cjpeg -quality 80 -sample 2x2 -outfile '" + path.string() + "' '" + ppm + "'";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("cjpeg failed: " + command);
  std::filesystem::remove(ppm);
}

// djpeg's decoding with TensorFlow's settings (-dct fast; fancy upsampling is its default): the
// pixels (rows, cols, channels), channels 1 (-grayscale) or 3.
inline std::vector<uint8_t> djpeg_pixels(const std::filesystem::path& jpeg, int channels) {
  const std::string out = jpeg.string() + ".pnm";
  const std::string command = std::string("djpeg -dct fast ") +
                              (channels == 1 ? "-grayscale " : "") + "-pnm -outfile '" + out +
                              "' '" + jpeg.string() + "'";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("djpeg failed: " + command);
  std::ifstream in(out, std::ios::binary);
  std::string magic;
  int w = 0, h = 0, max = 0;
  in >> magic >> w >> h >> max;
  in.get();
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * channels);
  in.read(reinterpret_cast<char*>(px.data()), static_cast<std::streamsize>(px.size()));
  std::filesystem::remove(out);
  return px;
}

}  // namespace repro_test
