// The dataset registry: SHA-256, verify (OK/FAIL/missing), the lookup order, data.limit, and
// fetch through a local mirror (REPRO_DATA_MIRROR=file://...), including a checksum mismatch.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cstdlib>
#include <optional>

#include "core/error.h"
#include "data/dataset.h"
#include "idx_files.h"
#include "record/run_record.h"

using namespace repro_test;

namespace {

// Sets an environment variable for one scope and restores the old value.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(const std::string& n, const std::string& value) : name(n) {
    if (const char* v = std::getenv(n.c_str())) old = v;
    setenv(n.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old)
      setenv(name.c_str(), old->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("sha256_file gives the FIPS 180-2 value for abc") {
  const fs::path dir = scratch_dir("sha");
  write_raw(dir / "abc", "abc");
  REQUIRE(repro::sha256_file((dir / "abc").string()) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fs::remove_all(dir);
}

TEST_CASE("verify reports a checksum mismatch on a local file and missing files") {
  const fs::path dir = scratch_dir("verify");
  write_raw(dir / "train-images-idx3-ubyte.gz", "not the real file");
  const auto checks = repro::verify_dataset("mnist", dir.string());
  REQUIRE(checks.size() == 4);
  REQUIRE(checks[0].present);
  REQUIRE_FALSE(checks[0].ok);
  REQUIRE(checks[0].expected == "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609");
  REQUIRE(checks[0].sha256 == repro::sha256_file((dir / "train-images-idx3-ubyte.gz").string()));
  for (int i = 1; i < 4; ++i) REQUIRE_FALSE(checks[i].present);

  const std::string mnist = real_mnist_dir();
  if (!mnist.empty()) {
    fs::copy_file(mnist + "/t10k-labels-idx1-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
    const auto again = repro::verify_dataset("mnist", dir.string());
    REQUIRE(again[3].present);
    REQUIRE(again[3].ok);
  }
  fs::remove_all(dir);
}

TEST_CASE("the lookup order is data.dir then REPRO_DATA_DIR then the cache") {
  const fs::path root = scratch_dir("lookup");
  ScopedEnv cache("XDG_CACHE_HOME", (root / "cache").string());
  ScopedEnv data_dir("REPRO_DATA_DIR", (root / "env").string());
  REQUIRE(repro::dataset_search_dirs("mnist", "/d") ==
          std::vector<std::string>{"/d", (root / "env/mnist").string(),
                                   (root / "cache/repro/datasets/mnist").string()});
  REQUIRE(repro::dataset_search_dirs("fashion_mnist", "").back() ==
          "/usr/share/datasets/fashion-mnist");
  REQUIRE_THROWS_AS(repro::dataset_search_dirs("cifar", ""), repro::InputError);

  // Three copies of different sizes tell which folder was used; raw (uncompressed) names work too.
  write_pattern_set(root / "cache/repro/datasets/mnist", 30, 5, true);
  write_pattern_set(root / "env/mnist", 20, 5, false);
  write_pattern_set(root / "given", 10, 5, true);
  repro::DataConfig config;
  config.dir = (root / "given").string();
  REQUIRE(repro::load_splits(config).train.count == 10);
  config.dir = "";
  const auto from_env = repro::load_splits(config);
  REQUIRE(from_env.train.count == 20);
  REQUIRE(from_env.files[0] == (root / "env/mnist/train-images-idx3-ubyte").string() + " (sha256 " +
                                   repro::sha256_file(root / "env/mnist/train-images-idx3-ubyte") +
                                   ")");
  fs::remove_all(root / "env");
  REQUIRE(repro::load_splits(config).train.count == 30);

  SECTION("data.limit takes the first N training images and leaves the test split") {
    config.limit = 7;
    const auto limited = repro::load_splits(config);
    REQUIRE(limited.train.count == 7);
    REQUIRE(limited.train.images.size() == 7u * 28 * 28);
    REQUIRE(limited.train.labels == pattern_labels(7));
    REQUIRE(limited.test.count == 5);
  }
  SECTION("dataset idx reads the four configured paths") {
    repro::DataConfig idx;
    idx.dataset = "idx";
    const fs::path given = root / "given";
    idx.train_images = (given / "train-images-idx3-ubyte.gz").string();
    idx.train_labels = (given / "train-labels-idx1-ubyte.gz").string();
    idx.test_images = (given / "t10k-images-idx3-ubyte.gz").string();
    idx.test_labels = (given / "t10k-labels-idx1-ubyte.gz").string();
    REQUIRE(repro::load_splits(idx).train.count == 10);
    idx.test_labels = "";
    REQUIRE_THROWS_AS(repro::load_splits(idx), repro::InputError);
  }
  fs::remove_all(root);
}

TEST_CASE("fetch downloads through a mirror and deletes a download whose checksum differs") {
  const fs::path root = scratch_dir("fetch");
  ScopedEnv cache("XDG_CACHE_HOME", (root / "cache").string());
  const fs::path cache_dir = root / "cache/repro/datasets/mnist";

  SECTION("a mirror serving a wrong file: error, nothing left behind") {
    write_pattern_set(root / "mirror", 10, 5, true);  // right names, wrong content
    ScopedEnv mirror("REPRO_DATA_MIRROR", "file://" + (root / "mirror").string());
    try {
      repro::fetch_dataset("mnist", "");
      FAIL("fetch accepted a file with the wrong checksum");
    } catch (const repro::RuntimeError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("checksum mismatch") != std::string::npos);
      CHECK(message.find("deleted") != std::string::npos);
    }
    int entries = 0;
    for (auto& e : fs::directory_iterator(cache_dir)) {
      (void)e;
      ++entries;
    }
    REQUIRE(entries == 0);
  }
  SECTION("an unreachable mirror: error saying how to provide the files") {
    ScopedEnv mirror("REPRO_DATA_MIRROR", "file://" + (root / "nowhere").string());
    repro::DataConfig config;
    config.dir = (root / "empty").string();
    ScopedEnv data_dir("REPRO_DATA_DIR", (root / "none").string());
    try {
      repro::load_splits(config);
      FAIL("load_splits succeeded without any files");
    } catch (const repro::RuntimeError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("cannot download mnist") != std::string::npos);
      CHECK(message.find("--set data.dir=") != std::string::npos);
      CHECK(message.find("REPRO_DATA_DIR") != std::string::npos);
    }
  }
  SECTION("a download cut short (the real files, truncated): nothing under the final names") {
    const std::string mnist = real_mnist_dir();
    if (mnist.empty()) {
      REPRO_SKIP("real MNIST not found: set REPRO_DATA_DIR to run the download test");
    }
    fs::create_directories(root / "short");
    for (const auto& entry : fs::directory_iterator(mnist)) {
      if (entry.path().extension() != ".gz") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(root / "short" / entry.path().filename(), std::ios::binary)
          << bytes.substr(0, bytes.size() / 3);
    }
    ScopedEnv mirror("REPRO_DATA_MIRROR", "file://" + (root / "short").string());
    REQUIRE_THROWS_AS(repro::fetch_dataset("mnist", ""), repro::RuntimeError);
    int entries = 0;
    for (auto& e : fs::directory_iterator(cache_dir)) {
      (void)e;
      ++entries;
    }
    REQUIRE(entries == 0);
  }
  SECTION("a mirror with the real files: downloaded into the cache, verified, then loaded") {
    const std::string mnist = real_mnist_dir();
    if (mnist.empty()) {
      REPRO_SKIP("real MNIST not found: set REPRO_DATA_DIR to run the download test");
    }
    ScopedEnv mirror("REPRO_DATA_MIRROR", "file://" + mnist);
    const auto fetched = repro::fetch_dataset("mnist", "");
    for (const auto& c : fetched) {
      REQUIRE(c.downloaded);
      REQUIRE(c.ok);
      REQUIRE(fs::path(c.path).parent_path() == cache_dir);
    }
    REQUIRE_FALSE(repro::fetch_dataset("mnist", "")[0].downloaded);  // already there
    repro::DataConfig config;
    ScopedEnv data_dir("REPRO_DATA_DIR", (root / "none").string());
    REQUIRE(repro::load_splits(config).files[0].rfind(
                (cache_dir / "train-images-idx3-ubyte.gz").string() + " (sha256 440fcabf73cc", 0) ==
            0);
  }
  fs::remove_all(root);
}

TEST_CASE("cifar10 downloads are checked against the publishers' MD5 and deleted on mismatch") {
  const fs::path root = scratch_dir("fetch_cifar");
  write_raw(root / "abc", "abc");
  REQUIRE(repro::md5_file((root / "abc").string()) == "900150983cd24fb0d6963f7d28e17f72");
  ScopedEnv cache("XDG_CACHE_HOME", (root / "cache").string());
  write_raw(root / "mirror/cifar-10-binary.tar.gz", "a generated archive, not the published one");
  ScopedEnv mirror("REPRO_DATA_MIRROR", "file://" + (root / "mirror").string());
  try {
    repro::fetch_dataset("cifar10", "");
    FAIL("fetch accepted an archive with the wrong MD5");
  } catch (const repro::RuntimeError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("checksum mismatch: MD5 ") != std::string::npos);
    CHECK(message.find("expected c32a1d4ab5d03f1284b67883e8d87530") != std::string::npos);
    CHECK(message.find("deleted") != std::string::npos);
  }
  REQUIRE(fs::is_empty(root / "cache/repro/datasets/cifar10"));
  fs::remove_all(root);
}
