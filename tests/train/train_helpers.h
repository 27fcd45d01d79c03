// Small models and synthetic IDX datasets for the train tests, built in code so the tests do
// not depend on config files or on MNIST being present. Not a test framework: plain helpers.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "record/history.h"
#include "rng/seed_stream.h"

namespace repro::test {

inline LayerConfig conv(int filters, int kernel, Activation activation,
                        Padding padding = Padding::valid, int stride = 1) {
  LayerConfig l;
  l.kind = LayerKind::conv2d;
  l.filters = filters;
  l.kernel_size = {kernel, kernel};
  l.strides = {stride, stride};
  l.padding = padding;
  l.activation = activation;
  return l;
}

inline LayerConfig pool(int size) {
  LayerConfig l;
  l.kind = LayerKind::max_pooling2d;
  l.pool_size = {size, size};
  l.strides = {size, size};
  return l;
}

inline LayerConfig dropout(double rate) {
  LayerConfig l;
  l.kind = LayerKind::dropout;
  l.rate = rate;
  return l;
}

inline LayerConfig simple(LayerKind kind) {
  LayerConfig l;
  l.kind = kind;
  return l;
}

inline LayerConfig dense(int units, Activation activation) {
  LayerConfig l;
  l.kind = LayerKind::dense;
  l.units = units;
  l.activation = activation;
  return l;
}

// A config with an (h, w, 1) input (through data.resize) and the given layers.
inline RunConfig model_config(int h, int w, std::vector<LayerConfig> layers, int64_t seed = 3) {
  RunConfig config;
  config.name = "test";
  config.seed = seed;
  config.data.resize = {h, w};
  config.model = std::move(layers);
  return config;
}

// Deterministic pseudo-random floats in [lo, hi) from the seed stream (purpose shuffle, a = tag).
inline std::vector<float> random_floats(size_t n, uint32_t tag, float lo, float hi) {
  const StreamKey key = derive_key(99, Purpose::shuffle, tag, 1);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = lo + (hi - lo) * bits_to_unit_float(stream_bits(key, i));
  return out;
}

inline void write_be32(std::ofstream& out, uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                              static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

// Writes raw IDX files of `count` images (rows x cols) whose label (0..3) is the brightest
// quadrant: a pattern a small CNN learns in a few epochs.
inline void write_quadrant_idx(const std::string& images, const std::string& labels, int count,
                               int rows, int cols, uint32_t tag) {
  std::ofstream img(images, std::ios::binary), lab(labels, std::ios::binary);
  write_be32(img, 2051);
  write_be32(img, count);
  write_be32(img, rows);
  write_be32(img, cols);
  write_be32(lab, 2049);
  write_be32(lab, count);
  const StreamKey key = derive_key(1234, Purpose::shuffle, tag, 7);
  uint64_t counter = 0;
  for (int i = 0; i < count; ++i) {
    const int label = static_cast<int>(stream_bits(key, counter++) % 4);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const int quadrant = (r >= rows / 2 ? 2 : 0) + (c >= cols / 2 ? 1 : 0);
        uint32_t noise = stream_bits(key, counter++) % 96;
        const uint32_t value = quadrant == label ? 150 + noise : noise;
        img.put(static_cast<char>(value));
      }
    lab.put(static_cast<char>(label));
  }
}

// A config over a synthetic quadrant dataset (idx files in `dir`): 8x8 images, 4 classes.
inline RunConfig quadrant_config(const std::string& dir, int train_count, int test_count) {
  std::filesystem::create_directories(dir);
  write_quadrant_idx(dir + "/train-images", dir + "/train-labels", train_count, 8, 8, 1);
  write_quadrant_idx(dir + "/test-images", dir + "/test-labels", test_count, 8, 8, 2);
  RunConfig config =
      model_config(8, 8,
                   {conv(4, 3, Activation::relu, Padding::same), pool(2), dropout(0.1),
                    simple(LayerKind::flatten), dense(4, Activation::softmax)});
  config.data.dataset = "idx";
  config.data.train_images = dir + "/train-images";
  config.data.train_labels = dir + "/train-labels";
  config.data.test_images = dir + "/test-images";
  config.data.test_labels = dir + "/test-labels";
  config.data.batch_size = 16;
  config.training.epochs = 2;
  config.training.optimizer.learning_rate = 0.01;
  config.threads = 1;
  return config;
}

// The same keys and the same bits of every value.
inline bool same_history_bits(const History& a, const History& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, values] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second.size() != values.size()) return false;
    if (std::memcmp(values.data(), it->second.data(), values.size() * sizeof(double)) != 0)
      return false;
  }
  return true;
}

// A fresh temporary folder for one test.
inline std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("repro_train_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace repro::test
