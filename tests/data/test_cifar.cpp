// CIFAR-10's binary archive read from generated files in the official layout: record order,
// labels and the CHW planes turned into Keras's HWC, from the .tar.gz, the plain .tar and the
// extracted folder; dataset: cifar10 through the lookup order; and each damaged archive refused
// with the file and the member named.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "cifar_files.h"
#include "core/error.h"
#include "data/cifar.h"
#include "data/dataset.h"
#include "idx_files.h"

using namespace repro_test;

namespace {

// Every value of `s` against the generator: 5 training batches of `train` records, then the test.
void require_pattern(const repro::Splits& s, int train, int test) {
  REQUIRE(s.train.count == 5 * train);
  REQUIRE(s.test.count == test);
  for (const repro::Dataset* d : {&s.train, &s.test}) {
    REQUIRE(d->rows == 32);
    REQUIRE(d->cols == 32);
    REQUIRE(d->channels == 3);
    REQUIRE(d->images.size() == static_cast<size_t>(d->count) * 3072);
  }
  for (int i = 0; i < s.train.count + s.test.count; ++i) {
    const bool is_train = i < s.train.count;
    const repro::Dataset& d = is_train ? s.train : s.test;
    const int index = is_train ? i : i - static_cast<int>(s.train.count);
    const int batch = is_train ? index / train : 5, record = is_train ? index % train : index;
    REQUIRE(d.labels[index] == cifar_label(batch, record));
    const uint8_t* image = d.images.data() + static_cast<size_t>(index) * 3072;
    for (int p = 0; p < 1024; ++p)
      for (int c = 0; c < 3; ++c)
        if (image[p * 3 + c] != cifar_pixel(batch * 1000 + record, c, p))
          FAIL("image " << index << " pixel " << p << " channel " << c << " differs");
  }
}

std::string error_of(const std::string& bytes) {
  try {
    repro::parse_cifar10_archive(bytes, "c.tar.gz");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the CIFAR-10 archive reads into 32x32x3 HWC images in record order") {
  const fs::path dir = scratch_dir("cifar");
  SECTION("from the .tar.gz") {
    require_pattern(repro::read_cifar10(write_cifar_archive(dir, 3, 4).string()), 3, 4);
  }
  SECTION("from a plain .tar") {
    write_raw(dir / "c.tar", cifar_tar(2, 1));
    require_pattern(repro::read_cifar10((dir / "c.tar").string()), 2, 1);
  }
  SECTION("from the extracted folder, its files named with their SHA-256") {
    for (int b = 0; b < 6; ++b)
      write_raw(dir / "bin" / cifar_batch_names()[b], cifar_batch(b, b < 5 ? 2 : 3));
    const repro::Splits s = repro::read_cifar10((dir / "bin").string());
    require_pattern(s, 2, 3);
    REQUIRE(s.files.size() == 6);
    REQUIRE(s.files[5].find("test_batch.bin (sha256 ") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("dataset cifar10 finds the archive or the extracted folder and applies data.limit") {
  const fs::path root = scratch_dir("cifar_lookup");
  const char* old = std::getenv("REPRO_DATA_DIR");
  const std::string saved = old ? old : "";
  setenv("REPRO_DATA_DIR", (root / "env").string().c_str(), 1);
  write_cifar_archive(root / "env/cifar10", 4, 2);
  for (int b = 0; b < 6; ++b)
    write_raw(root / "given/cifar-10-batches-bin" / cifar_batch_names()[b],
              cifar_batch(b, b < 5 ? 1 : 1));
  repro::DataConfig config;
  config.dataset = "cifar10";
  require_pattern(repro::load_splits(config), 4, 2);
  config.dir = (root / "given").string();
  require_pattern(repro::load_splits(config), 1, 1);
  config.dir = "";
  config.limit = 6;
  const repro::Splits limited = repro::load_splits(config);
  REQUIRE(limited.train.count == 6);
  REQUIRE(limited.train.images.size() == 6u * 3072);
  REQUIRE(limited.test.count == 2);
  if (old)
    setenv("REPRO_DATA_DIR", saved.c_str(), 1);
  else
    unsetenv("REPRO_DATA_DIR");
  fs::remove_all(root);
}

TEST_CASE("a damaged CIFAR-10 archive is one error naming the file and the member") {
  const std::string good = cifar_tar(1, 1);
  const std::string batch2 = "cifar-10-batches-bin/data_batch_2.bin";
  SECTION("a label outside 0..9") {
    std::string tar = good;
    const size_t at = tar.find(batch2);
    const size_t first_record = (at / 512 + 1) * 512;
    tar[first_record] = 10;
    const std::string e = error_of(tar);
    CHECK(e.find("c.tar.gz (data_batch_2.bin): record 0 has label 10") != std::string::npos);
  }
  SECTION("a missing batch") {
    std::string tar = tar_member("cifar-10-batches-bin/data_batch_1.bin", cifar_batch(0, 1));
    const std::string e = error_of(tar);
    CHECK(e.find("not CIFAR-10's binary archive (no data_batch_2.bin, data_batch_3.bin") !=
          std::string::npos);
  }
  SECTION("an archive cut inside a batch") {
    const std::string e = error_of(good.substr(0, good.find(batch2) + 512 + 100));
    CHECK(e.find(batch2 + " is cut short") != std::string::npos);
  }
  SECTION("a batch that is not whole records") {
    std::string tar = tar_member("x/data_batch_1.bin", cifar_batch(0, 1) + "xy");
    for (int b = 1; b < 6; ++b) tar += tar_member("x/" + cifar_batch_names()[b], cifar_batch(b, 1));
    CHECK(error_of(tar).find("3075 bytes, not a whole number of 3073-byte") != std::string::npos);
  }
  SECTION("a member claiming more bytes than the archive may hold") {
    std::string tar = tar_member("x/data_batch_1.bin", "");
    tar.replace(124, 11, "77777777777");
    CHECK(error_of(tar).find("past the 512 MiB a CIFAR-10 archive holds") != std::string::npos);
  }
  SECTION("a batch claiming more records than CIFAR-10 publishes") {
    std::string tar = tar_member("x/data_batch_1.bin", "");
    tar.replace(124, 11, "00200000000");  // 32 MiB, over 10,000 records
    CHECK(error_of(tar).find("a CIFAR-10 batch holds at most 30730000") != std::string::npos);
  }
  SECTION("a header whose size is not a number") {
    std::string tar = good;
    tar.replace(124, 11, "zzzzzzzzzzz");
    CHECK(error_of(tar).find("damaged tar header at byte 0") != std::string::npos);
  }
  SECTION("bytes that are not a tar at all") {
    CHECK(error_of(std::string(100, 'x')).find("not CIFAR-10's binary archive") !=
          std::string::npos);
  }
}
