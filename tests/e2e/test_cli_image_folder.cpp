// dataset: image_folder end to end on a folder the test writes: three classes of PNG and JPEG
// photos of mixed sizes (a red, a green and a blue class under noise), configs/image_folder.yaml
// learns them, the bits hold for any worker and thread count, run.json names the folder's digest,
// predict decodes a file as training did, and a bad file stops training before it starts.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/image_files.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

// Image `i` of class `k` (0 red, 1 green, 2 blue): that channel bright, the others dim, noise.
std::vector<uint8_t> class_image(int k, int i, int rows, int cols) {
  std::vector<uint8_t> px;
  for (int p = 0; p < rows * cols; ++p)
    for (int c = 0; c < 3; ++c)
      px.push_back(static_cast<uint8_t>((c == k ? 150 : 30) + (p * 37 + i * 11 + c * 5) % 60));
  return px;
}

}  // namespace

TEST_CASE("dataset image_folder learns a folder of PNG and JPEG files, reproducibly") {
  const bool jpeg = repro_test::have_libjpeg_tools();
  const fs::path root = repro_test::scratch_dir("cli_image_folder");
  const fs::path photos = root / "photos";
  const char* classes[] = {"blue_ish", "green_ish", "red_ish"};  // sorted: labels 0, 1, 2
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 20; ++i) {
      const int rows = 20 + i % 7, cols = 24 + i % 5;
      const std::vector<uint8_t> px = class_image(2 - k, i, rows, cols);
      const fs::path dir = photos / classes[k];
      if (jpeg && i % 3 == 0)
        repro_test::write_jpeg(dir / ("p" + std::to_string(i) + ".jpg"), px, rows, cols);
      else
        repro_test::write_bytes(dir / ("p" + std::to_string(i) + ".png"),
                                repro_test::png_bytes(px, rows, cols, 2));
    }
  const std::string config =
      "configs/image_folder.yaml --set data.directory='" + photos.string() + "'";

  const auto trained = run_repro("", "train " + config + " --out" + quoted(root / "a"));
  INFO(trained.out << trained.err);
  REQUIRE(trained.exit_code == 0);
  CHECK(contains(trained.out, "The data has no test split"));
  const auto history = nlohmann::json::parse(repro_test::slurp_file(root / "a/history.json"));
  // 60 images, the last 12 (in Keras's file order: the red class) validate. The classes are far
  // apart in color, so the held-out images are learned.
  CHECK(history["val_accuracy"].back().get<double>() >= 0.9);
  const auto run = nlohmann::json::parse(repro_test::slurp_file(root / "a/run.json"));
  const std::string files = run["data_files"][0].get<std::string>();
  CHECK(contains(files, "(folder sha256 "));
  CHECK(contains(files, "60 images in 3 classes"));

  for (const char* vary : {"data.num_parallel_calls=1,3", "threads=1,2"}) {
    const auto check = run_repro(
        "", "check " + config + " --steps 6 --vary " + vary + " --out" + quoted(root / "check"));
    INFO(vary << "\n" << check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK(contains(check.out, "PASS: 2 runs bit-identical"));
  }

  // predict decodes and resizes a file as the pipeline did: a red photo is class 2.
  const auto predicted =
      run_repro("", "predict" + quoted(root / "a") + quoted(photos / "red_ish/p1.png"));
  INFO(predicted.out << predicted.err);
  CHECK(predicted.exit_code == 0);
  CHECK(predicted.out.rfind("predicted,p0,p1,p2\n2,", 0) == 0);

  // A file named as an image that is not one: exit 2 before training, the file named.
  repro_test::write_bytes(photos / "green_ish/broken.png", "not a png");
  const auto bad = run_repro("", "train " + config + " --out" + quoted(root / "bad"));
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, (photos / "green_ish/broken.png").string() +
                              ": not an image (no PNG or JPEG signature)"));
  CHECK_FALSE(fs::exists(root / "bad"));
  fs::remove_all(root);
  if (!jpeg) REPRO_SKIP("no cjpeg (apt-get install libjpeg-turbo-progs): the folder held PNG only");
}
