// What data parallelism rests on: a rank's share of a batch (whole chunks) computed alone gives
// the same bits, image for image and chunk for chunk, as the whole batch in one model; the
// chunk gradients folded in chunk order are the one-process gradient; the shares tile the batch;
// batch normalization's statistics over a split batch come out whole; launchers are recognised.
#include <catch2/catch.hpp>

#include <barrier>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "backend/backend.h"
#include "config/config.h"
#include "dist/communicator.h"
#include "nn/model.h"
#include "train/data_parallel.h"
#include "train_helpers.h"

using namespace repro;

namespace {

std::vector<float> download(Backend& backend, const float* data, size_t n) {
  std::vector<float> host(n);
  backend.download(data, host.data(), n);
  return host;
}

bool same_bits(const float* a, const float* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

// Everything one training step leaves behind, on the host.
struct StepBits {
  std::vector<std::vector<float>> outputs, output_grads;  // per layer (n, out) plain
  std::vector<std::vector<float>> chunk_grads;            // per parameter (chunks, size)
};

// Forward, per-image loss (scale 1/batch) and backward of images [first, first + n) of x.
StepBits train_part(Model& model, Backend& backend, const std::vector<float>& x,
                    const std::vector<int32_t>& y, int first, int n, int batch) {
  ForwardContext ctx{true, 812, 3};
  ctx.first_image = first;
  ctx.batch_images = batch;
  const size_t image = model.input_shape().size();
  const float* logits = model.forward(x.data() + size_t(first) * image, n, ctx);
  for (int i = 0; i < n; ++i)
    backend.softmax_cross_entropy(logits + size_t(i) * 10, y.data() + first + i, 1, 10,
                                  model.dlogits() + size_t(i) * 10, 1.0f / float(batch));
  model.backward(n);
  StepBits bits;
  for (size_t l = 0; l < model.layers().size(); ++l) {
    const size_t count = model.layers()[l]->out_shape().size() * size_t(n);
    bits.outputs.push_back(download(backend, model.layer_output(l), count));
    bits.output_grads.push_back(download(backend, model.layer_output_grad(l), count));
  }
  const size_t chunks = size_t(chunk_count(n));
  for (const Parameter* p : model.parameters())
    bits.chunk_grads.push_back(download(backend, p->chunk_grads.data(), chunks * p->size()));
  return bits;
}

RunConfig recipe() {
  return load_config(std::string(REPRO_SOURCE_DIR) + "/configs/mnist_recipe.yaml", {});
}

// MNIST read row by row through the wrappers: a bidirectional lstm with both dropouts, a
// time_distributed dense (whose op sums 8 rows of N * T) and a dense.
RunConfig wrappers() {
  return parse_config(
      "seed: 5\nmodel:\n  - reshape: {target_shape: [28, 28]}\n"
      "  - bidirectional: {layer: {lstm: {units: 6, dropout: 0.2, recurrent_dropout: 0.3, "
      "return_sequences: true}}}\n"
      "  - time_distributed: {layer: {dense: {units: 3, activation: tanh}}}\n"
      "  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n",
      "wrappers.yaml");
}

}  // namespace

TEST_CASE("rank spans are whole chunks that tile the batch in rank order", "[data_parallel]") {
  for (int n : {1, 7, 8, 9, 60, 64, 100}) {
    for (int ranks : {1, 2, 3, 4, 9}) {
      int next_image = 0, next_chunk = 0;
      for (int r = 0; r < ranks; ++r) {
        const RankSpan s = rank_span(n, r, ranks);
        INFO("n " << n << " ranks " << ranks << " rank " << r);
        CHECK(s.first_image == next_image);
        CHECK(s.first_chunk == next_chunk);
        CHECK(s.first_image == s.first_chunk * kChunk);
        CHECK(s.chunks == chunk_count(s.images));
        next_image += s.images;
        next_chunk += s.chunks;
      }
      CHECK(next_image == n);
    }
  }
  // 3 chunks over 4 ranks: one rank gets none.
  CHECK(rank_span(20, 0, 4).images == 0);
  CHECK(rank_span(20, 3, 4).images == 4);
}

TEST_CASE(
    "a share of the batch computed alone gives the whole batch's bits, image by image and "
    "chunk by chunk",
    "[data_parallel][onednn]") {
  for (const RunConfig& config : {recipe(), wrappers()})
    for (int batch : {64, 60}) {  // a full batch and a short last one (chunks of 8 and one of 4)
      auto whole_backend = make_backend("onednn", BackendOptions{2, true});
      Model whole(config, *whole_backend, 64, true);
      const std::vector<float> x =
          test::random_floats(whole.input_shape().size() * batch, 11, 0.0f, 1.0f);
      std::vector<int32_t> y(batch);
      for (int i = 0; i < batch; ++i) y[i] = (7 * i + 3) % 10;
      const StepBits all = train_part(whole, *whole_backend, x, y, 0, batch, batch);

      // Shares as 1 to 8 ranks would hold them, on 1 and 2 threads.
      for (auto [first, n, threads] :
           {std::tuple{0, 8, 1}, std::tuple{8, 16, 2}, std::tuple{24, 32, 1},
            std::tuple{16, batch - 16, 2}, std::tuple{batch - 12, 12, 1}}) {
        if (first % kChunk != 0) continue;
        auto backend = make_backend("onednn", BackendOptions{threads, true});
        Model part(config, *backend, 64, true);
        const StepBits mine = train_part(part, *backend, x, y, first, n, batch);
        for (size_t l = 0; l < mine.outputs.size(); ++l) {
          const size_t per_image = part.layers()[l]->out_shape().size();
          INFO("batch " << batch << " images " << first << "+" << n << " threads " << threads
                        << " layer " << part.layers()[l]->name());
          CHECK(same_bits(mine.outputs[l].data(), all.outputs[l].data() + first * per_image,
                          n * per_image));
          CHECK(same_bits(mine.output_grads[l].data(),
                          all.output_grads[l].data() + first * per_image, n * per_image));
        }
        for (size_t p = 0; p < mine.chunk_grads.size(); ++p) {
          const size_t size = part.parameters()[p]->size();
          INFO("batch " << batch << " images " << first << "+" << n << " "
                        << part.parameters()[p]->name);
          CHECK(same_bits(mine.chunk_grads[p].data(),
                          all.chunk_grads[p].data() + (first / kChunk) * size,
                          mine.chunk_grads[p].size()));
        }
      }

      // The chunk gradients folded in chunk order are the one-process gradient.
      auto plain_backend = make_backend("onednn", BackendOptions{2, true});
      Model plain(config, *plain_backend, 64);
      ForwardContext ctx{true, 812, 3};
      const float* logits = plain.forward(x.data(), batch, ctx);
      plain_backend->softmax_cross_entropy(logits, y.data(), batch, 10, plain.dlogits(),
                                           1.0f / float(batch));
      plain.backward(batch);
      const int chunks = chunk_count(batch);
      for (size_t p = 0; p < plain.parameters().size(); ++p) {
        const Parameter& param = *plain.parameters()[p];
        const std::vector<float> grad = download(*plain_backend, param.grad.data(), param.size());
        std::vector<float> folded(param.size());
        for (size_t j = 0; j < param.size(); ++j) {
          float acc = all.chunk_grads[p][j];
          for (int c = 1; c < chunks; ++c) acc += all.chunk_grads[p][c * param.size() + j];
          folded[j] = acc;
        }
        INFO("batch " << batch << " " << param.name);
        CHECK(same_bits(folded.data(), grad.data(), grad.size()));
      }
    }
}

namespace {

// Two ranks in one process: each thread's model holds its share of a batch, and all_chunks()
// meets the other thread at a barrier and returns both shares' chunk sums in rank order.
class TwoThreadExchange {
 public:
  struct Rank : ChunkSumExchange {
    Rank(TwoThreadExchange* s, int r) : shared(s), rank(r) {}
    TwoThreadExchange* shared;
    int rank;
    std::vector<double> all_chunks(const std::vector<double>& local, size_t) override {
      shared->parts_[rank] = local;
      shared->sync_.arrive_and_wait();
      std::vector<double> all = shared->parts_[0];
      all.insert(all.end(), shared->parts_[1].begin(), shared->parts_[1].end());
      shared->sync_.arrive_and_wait();  // both have read before either writes again
      return all;
    }
  };
  Rank ranks[2] = {Rank(this, 0), Rank(this, 1)};

 private:
  std::barrier<> sync_{2};
  std::vector<double> parts_[2];
};

}  // namespace

TEST_CASE(
    "batch normalization split over two ranks gives the whole batch's bits through the chunk sum "
    "exchange, a rank without images included",
    "[data_parallel][onednn]") {
  const RunConfig config = test::model_config(
      8, 8,
      {test::conv(4, 3, Activation::relu), test::simple(LayerKind::batch_normalization),
       test::simple(LayerKind::flatten), test::dense(12, Activation::linear),
       test::simple(LayerKind::batch_normalization), test::dense(10, Activation::softmax)});
  // 40 images: 5 chunks split 16 + 24; 8 images: one chunk, the second rank holds none.
  for (auto [batch, split] : {std::pair{40, 16}, std::pair{8, 8}}) {
    auto whole_backend = make_backend("onednn", BackendOptions{1, true});
    Model whole(config, *whole_backend, 64, true);
    const std::vector<float> x =
        test::random_floats(whole.input_shape().size() * batch, 12, 0.0f, 1.0f);
    std::vector<int32_t> y(batch);
    for (int i = 0; i < batch; ++i) y[i] = (3 * i + 1) % 10;
    const StepBits all = train_part(whole, *whole_backend, x, y, 0, batch, batch);

    TwoThreadExchange exchange;
    std::unique_ptr<Backend> backends[2];
    std::unique_ptr<Model> models[2];
    StepBits bits[2];
    for (int r = 0; r < 2; ++r) {
      backends[r] = make_backend("onednn", BackendOptions{1 + r, true});
      models[r] = std::make_unique<Model>(config, *backends[r], 64, true);
      models[r]->set_chunk_sum_exchange(&exchange.ranks[r]);
    }
    const int firsts[2] = {0, split}, counts[2] = {split, batch - split};
    {
      std::vector<std::thread> threads;
      for (int r = 0; r < 2; ++r)
        threads.emplace_back([&, r] {
          if (counts[r] == 0) {
            ForwardContext ctx{true, 812, 3};
            ctx.batch_images = batch;
            models[r]->join_exchanges(ctx);
          } else {
            bits[r] = train_part(*models[r], *backends[r], x, y, firsts[r], counts[r], batch);
          }
        });
      for (auto& t : threads) t.join();
    }
    for (int r = 0; r < 2; ++r) {
      INFO("batch " << batch << " rank " << r);
      for (size_t l = 0; l < bits[r].outputs.size(); ++l) {
        const size_t per_image = models[r]->layers()[l]->out_shape().size();
        INFO("layer " << models[r]->layers()[l]->name());
        CHECK(same_bits(bits[r].outputs[l].data(), all.outputs[l].data() + firsts[r] * per_image,
                        counts[r] * per_image));
        CHECK(same_bits(bits[r].output_grads[l].data(),
                        all.output_grads[l].data() + firsts[r] * per_image, counts[r] * per_image));
      }
      for (size_t p = 0; p < bits[r].chunk_grads.size(); ++p) {
        const size_t size = models[r]->parameters()[p]->size();
        CHECK(same_bits(bits[r].chunk_grads[p].data(),
                        all.chunk_grads[p].data() + (firsts[r] / kChunk) * size,
                        bits[r].chunk_grads[p].size()));
      }
      // The moving statistics moved alike on both ranks, the one without images too.
      const std::vector<NamedTensor> mine = models[r]->export_weights(),
                                     reference = whole.export_weights();
      REQUIRE(mine.size() == reference.size());
      for (size_t w = 0; w < mine.size(); ++w) {
        INFO(mine[w].name);
        CHECK(same_bits(mine[w].data.data(), reference[w].data.data(), mine[w].data.size()));
      }
    }
  }
}

TEST_CASE("the launcher's rank and size are read from Open MPI, PMI and PMIx variables",
          "[data_parallel]") {
  const char* names[] = {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                         "PMIX_RANK"};
  for (const char* name : names) REQUIRE(std::getenv(name) == nullptr);  // not under mpirun
  CHECK_FALSE(launch_from_environment().launched);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_RANK", "3", 1);
  const Launch ompi = launch_from_environment();
  CHECK((ompi.launched && ompi.size == 4 && ompi.rank == 3));
  unsetenv("OMPI_COMM_WORLD_SIZE");
  unsetenv("OMPI_COMM_WORLD_RANK");
  setenv("PMI_SIZE", "2", 1);
  setenv("PMI_RANK", "1", 1);
  const Launch pmi = launch_from_environment();
  CHECK((pmi.launched && pmi.size == 2 && pmi.rank == 1));
  unsetenv("PMI_SIZE");
  unsetenv("PMI_RANK");
  setenv("PMIX_RANK", "5", 1);  // PMIx alone gives no size
  const Launch pmix = launch_from_environment();
  CHECK((pmix.launched && pmix.size == 0 && pmix.rank == 5));
  setenv("PMIX_RANK", "x", 1);  // not a number: ignored
  CHECK_FALSE(launch_from_environment().launched);
  unsetenv("PMIX_RANK");
}
