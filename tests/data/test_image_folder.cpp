// image_folder and its decoder: PNG pixels exactly as written (gray, RGB, RGBA, palette, and the
// gray/RGB conversions), JPEG pixels equal to djpeg's with TensorFlow's settings, Keras's folder
// order and labels, the folder digest, every bad file named, and the pipeline's decoding the same
// for any worker count.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cmath>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "data/image_folder.h"
#include "data/pipeline.h"
#include "idx_files.h"
#include "image_files.h"

using namespace repro_test;

namespace {

std::string decode_error(const std::string& bytes, int channels = 3) {
  try {
    repro::decode_image(bytes, "x.png", channels);
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<uint8_t> gray_pattern(int rows, int cols, int id) {
  std::vector<uint8_t> px;
  for (int p = 0; p < rows * cols; ++p) px.push_back(static_cast<uint8_t>((p * 13 + id * 7) % 256));
  return px;
}

}  // namespace

TEST_CASE("PNG images decode to the written pixels, converted as TensorFlow converts them") {
  const std::vector<uint8_t> rgb = rgb_pattern(5, 7, 1);
  SECTION("RGB to RGB, and RGBA with its alpha dropped") {
    const auto d = repro::decode_image(png_bytes(rgb, 5, 7, 2), "a.png", 3);
    REQUIRE(d.rows == 5);
    REQUIRE(d.cols == 7);
    REQUIRE(d.pixels == rgb);
    std::vector<uint8_t> rgba;
    for (size_t p = 0; p < rgb.size(); p += 3)
      rgba.insert(rgba.end(), {rgb[p], rgb[p + 1], rgb[p + 2], static_cast<uint8_t>(p)});
    REQUIRE(repro::decode_image(png_bytes(rgba, 5, 7, 6), "a.png", 3).pixels == rgb);
  }
  SECTION("gray to gray, and gray to RGB by copying") {
    const std::vector<uint8_t> gray = gray_pattern(4, 6, 2);
    REQUIRE(repro::decode_image(png_bytes(gray, 4, 6, 0), "g.png", 1).pixels == gray);
    const auto d = repro::decode_image(png_bytes(gray, 4, 6, 0), "g.png", 3);
    for (size_t p = 0; p < gray.size(); ++p)
      for (int c = 0; c < 3; ++c) REQUIRE(d.pixels[p * 3 + c] == gray[p]);
  }
  SECTION("a palette image expands to its colors") {
    const std::vector<uint8_t> palette = {10, 20, 30, 200, 100, 0, 7, 8, 9};
    const std::vector<uint8_t> index = {0, 1, 2, 2, 1, 0};
    const auto d = repro::decode_image(png_bytes(index, 2, 3, 3, palette), "p.png", 3);
    for (size_t p = 0; p < index.size(); ++p)
      for (int c = 0; c < 3; ++c) REQUIRE(d.pixels[p * 3 + c] == palette[index[p] * 3 + c]);
  }
  SECTION("color to gray: gray pixels unchanged, others by the 0.299/0.587/0.114 weights") {
    const std::vector<uint8_t> px = {50, 50, 50,  255, 0,   0,  0, 255, 0,
                                     0,  0,  255, 200, 120, 40, 9, 9,   9};
    const auto d = repro::decode_image(png_bytes(px, 1, 6, 2), "c.png", 1);
    REQUIRE(d.channels == 1);
    REQUIRE(d.pixels[0] == 50);
    REQUIRE(d.pixels[5] == 9);
    for (int p = 1; p < 5; ++p) {
      const double y = 0.299 * px[p * 3] + 0.587 * px[p * 3 + 1] + 0.114 * px[p * 3 + 2];
      INFO("pixel " << p << ": " << int(d.pixels[p]) << " vs " << y);
      REQUIRE(std::fabs(d.pixels[p] - y) <= 1.0);
    }
  }
}

TEST_CASE("JPEG images decode to djpeg's pixels with TensorFlow's fast IDCT and upsampling") {
  if (!have_libjpeg_tools()) REPRO_SKIP("no cjpeg/djpeg (apt-get install libjpeg-turbo-progs)");
  const fs::path dir = scratch_dir("jpeg");
  const fs::path jpeg = dir / "a.jpg";
  write_jpeg(jpeg, rgb_pattern(13, 17, 3), 13, 17);
  const std::string bytes = read_file_bytes(jpeg);
  for (int channels : {3, 1}) {
    INFO(channels << " channel(s)");
    const auto d = repro::decode_image(bytes, jpeg.string(), channels);
    REQUIRE(d.rows == 13);
    REQUIRE(d.cols == 17);
    REQUIRE(d.pixels == djpeg_pixels(jpeg, channels));
  }
  const auto header = repro::probe_image(bytes, jpeg.string());
  REQUIRE(header.format == repro::ImageFormat::jpeg);
  REQUIRE(header.rows == 13);
  CHECK(decode_error(bytes.substr(0, bytes.size() / 2)).find("damaged JPEG") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("bad image files are one error naming the file and the fix") {
  const std::string png = png_bytes(gray_pattern(4, 4, 0), 4, 4, 0);
  CHECK(decode_error("hello") == "x.png: not an image (no PNG or JPEG signature)");
  CHECK(decode_error(png.substr(0, png.size() - 20)).find("x.png: damaged PNG") == 0);
  CHECK(decode_error("BM" + std::string(60, '\0'))
            .find("a BMP file, which repro does not decode; "
                  "convert it to PNG") != std::string::npos);
  // 100000 pixels wide: refused from the header, before any pixel is allocated.
  const std::string wide = png_bytes(std::vector<uint8_t>(100000, 0), 1, 100000, 0);
  CHECK(decode_error(wide) == "x.png: damaged PNG (Invalid IHDR data)");
  const std::string deep = png_bytes(std::vector<uint8_t>(32, 1), 4, 4, 0, {}, 16);
  CHECK(decode_error(deep).find("x.png: a 16-bit PNG; convert it to 8 bits") == 0);
}

TEST_CASE("image_folder reads Keras's layout in Keras's order with a digest of the folder") {
  const fs::path root = scratch_dir("image_folder");
  const auto gray = [](int id) { return png_bytes(gray_pattern(3, 4, id), 3, 4, 0); };
  write_bytes(root / "cats/b.png", gray(1));
  write_bytes(root / "cats/a.PNG", gray(2));
  write_bytes(root / "cats/z/sub.png", gray(3));
  write_bytes(root / "cats/notes.txt", "not an image, not listed");
  write_bytes(root / "ants/x.png", gray(4));
  write_bytes(root / ".hidden/y.png", gray(5));
  write_bytes(root / "README", "a file, not a class");
  const repro::ImageFolder f = repro::read_image_folder(root.string(), 1, 3, 4);
  REQUIRE(f.class_names == std::vector<std::string>{"ants", "cats"});
  REQUIRE(f.data.count == 4);
  REQUIRE(f.data.labels == std::vector<uint8_t>{0, 1, 1, 1});
  const std::vector<std::string> names = {"ants/x.png", "cats/a.PNG", "cats/b.png",
                                          "cats/z/sub.png"};
  for (size_t i = 0; i < names.size(); ++i) REQUIRE(f.data.names[i] == (root / names[i]).string());
  REQUIRE(f.data.encoded[1] == gray(2));
  REQUIRE(f.sha256.size() == 64);

  SECTION("the digest follows names and contents") {
    write_bytes(root / "cats/b.png", gray(9));
    REQUIRE(repro::read_image_folder(root.string(), 1, 3, 4).sha256 != f.sha256);
  }
  SECTION("a file with an image name that is not an image") {
    write_bytes(root / "cats/c.jpg", "text");
    REQUIRE_THROWS_WITH(
        repro::read_image_folder(root.string(), 1, 3, 4),
        (root / "cats/c.jpg").string() + ": not an image (no PNG or JPEG signature)");
  }
  SECTION("an empty class folder") {
    fs::create_directories(root / "dogs");
    REQUIRE_THROWS_WITH(repro::read_image_folder(root.string(), 1, 3, 4),
                        Catch::StartsWith((root / "dogs").string() + ": no image files"));
  }
  SECTION("no class folders, or no folder") {
    const fs::path flat = scratch_dir("image_folder_flat");
    write_bytes(flat / "a.png", gray(1));
    REQUIRE_THROWS_WITH(repro::read_image_folder(flat.string(), 1, 3, 4),
                        Catch::Contains("no class folders"));
    REQUIRE_THROWS_WITH(repro::read_image_folder((flat / "none").string(), 1, 3, 4),
                        Catch::Contains("no such folder"));
    fs::remove_all(flat);
  }
  SECTION("a test folder with other classes") {
    write_bytes(root.string() + "_test/ants/t.png", gray(1));
    repro::DataConfig data;
    data.dataset = "image_folder";
    data.directory = root.string();
    data.test_directory = root.string() + "_test";
    data.color_mode = "grayscale";
    data.image_size = {3, 4};
    REQUIRE_THROWS_WITH(
        repro::read_image_folder_splits(data),
        Catch::Contains("its classes (ants) are not data.directory's (ants, cats)"));
    fs::remove_all(root.string() + "_test");
  }
  fs::remove_all(root);
}

TEST_CASE("the pipeline decodes and resizes image files the same for any worker count") {
  const fs::path root = scratch_dir("image_folder_pipeline");
  // Mixed sizes and formats: every image is resized to 6x5 in the map.
  for (int i = 0; i < 10; ++i) {
    const int rows = 4 + i % 4, cols = 5 + i % 3;
    write_bytes(root / (i % 2 ? "b" : "a") / ("img" + std::to_string(i) + ".png"),
                png_bytes(rgb_pattern(rows, cols, i), rows, cols, 2));
  }
  const repro::ImageFolder f = repro::read_image_folder(root.string(), 3, 6, 5);
  std::vector<std::vector<float>> outputs;
  for (int workers : {1, 3}) {
    repro::PipelineOptions o;
    o.seed = 5;
    o.batch_size = 4;
    o.workers = workers;
    repro::Pipeline p(f.data, o);
    p.start_epoch(0);
    repro::Batch b;
    std::vector<float> all;
    while (p.next(b)) all.insert(all.end(), b.x.begin(), b.x.end());
    REQUIRE(all.size() == 10u * 3 * 6 * 5);
    outputs.push_back(all);
  }
  REQUIRE(outputs[0] == outputs[1]);
  // An image already 6x5 is only scaled: channel planes of pixel / 255.
  const fs::path same = scratch_dir("image_folder_same");
  const std::vector<uint8_t> px = rgb_pattern(6, 5, 4);
  write_bytes(same / "k/one.png", png_bytes(px, 6, 5, 2));
  const repro::ImageFolder one = repro::read_image_folder(same.string(), 3, 6, 5);
  repro::PipelineOptions o;
  o.shuffle = false;
  repro::Pipeline p(one.data, o);
  p.start_epoch(0);
  repro::Batch b;
  REQUIRE(p.next(b));
  for (int c = 0; c < 3; ++c)
    for (int q = 0; q < 30; ++q)
      REQUIRE(b.x[c * 30 + q] == static_cast<float>(px[q * 3 + c]) / 255.0f);
  fs::remove_all(root);
  fs::remove_all(same);
}
