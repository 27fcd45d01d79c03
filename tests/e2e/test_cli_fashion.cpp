// The Fashion-MNIST config that uses every layer beyond the recipe: its summary counts batch
// norm's moving statistics as non-trainable like Keras, and its first steps are bit-identical
// at 1 and 2 threads and for 1 and 3 data workers. Skipped where Fashion-MNIST is not installed.
#include <catch2/catch.hpp>
#include <filesystem>

#include "run_cli.h"
#include "support/skip.h"

using repro_test::run_repro;

TEST_CASE("repro summary of the Fashion-MNIST config counts non-trainable parameters like Keras") {
  auto r = run_repro("", "summary configs/fashion_bn_aug.yaml");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("batch_normalization (BatchNormalization)") != std::string::npos);
  CHECK(r.out.find("random_flip (RandomFlip)") != std::string::npos);
  CHECK(r.out.find("Total params: 20,682\n") != std::string::npos);
  CHECK(r.out.find("Trainable params: 20,586\n") != std::string::npos);
  CHECK(r.out.find("Non-trainable params: 96\n") != std::string::npos);
}

TEST_CASE(
    "the Fashion-MNIST config's first steps are bit-identical at 1 and 2 threads and for "
    "1 and 3 data workers") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    REPRO_SKIP("no Fashion-MNIST (apt-get install dataset-fashion-mnist)");
  }
  const auto out = repro_test::scratch_dir("check_fashion");
  auto r = run_repro("", "check configs/fashion_bn_aug.yaml --steps 12 --vary threads=1,2 --out '" +
                             out.string() + "'");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  // The augmentation runs in the model, keyed by image position: the data workers change nothing.
  auto workers = run_repro("",
                           "check configs/fashion_bn_aug.yaml --steps 12 --vary "
                           "data.num_parallel_calls=1,3 --out '" +
                               out.string() + "'");
  INFO(workers.out << workers.err);
  CHECK(workers.exit_code == 0);
  std::filesystem::remove_all(out);
}
