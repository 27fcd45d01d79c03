// A data-parallel training step (see data_parallel.h): this rank's chunks forward and backward,
// per-image losses, and the chunk-ordered gradient combine over the communicator.
#include "train/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace repro {

namespace {

// Rank q's slice of the P flattened gradient elements: [P q / K, P (q + 1) / K).
size_t slice_begin(size_t total, int q, int ranks) {
  return static_cast<size_t>((static_cast<unsigned __int128>(total) * q) / ranks);
}

// Bytes rank r puts into the allgather: its folded slice, then per image a loss (double) and a
// correct flag (byte), then its stop request (byte).
size_t payload_bytes(size_t slice, int images) {
  return slice * sizeof(float) + static_cast<size_t>(images) * (sizeof(double) + 1) + 1;
}

// memcpy that allows empty ranges (an empty vector's data() may be null).
void copy_bytes(void* to, const void* from, size_t bytes) {
  if (bytes > 0) std::memcpy(to, from, bytes);
}

}  // namespace

RankSpan rank_span(int n, int rank, int ranks) {
  REPRO_CHECK(n > 0 && ranks > 0 && rank >= 0 && rank < ranks, "rank_span: bad arguments");
  const int chunks = chunk_count(n);
  RankSpan span;
  span.first_chunk = static_cast<int>(int64_t(chunks) * rank / ranks);
  const int end_chunk = static_cast<int>(int64_t(chunks) * (rank + 1) / ranks);
  span.chunks = end_chunk - span.first_chunk;
  span.first_image = span.first_chunk * kChunk;
  span.images = std::min(n, end_chunk * kChunk) - span.first_image;
  return span;
}

std::vector<double> DataParallel::Exchange::all_chunks(const std::vector<double>& local,
                                                       size_t width) {
  const int ranks = comm_.size();
  REPRO_CHECK(
      batch > 0 && local.size() == size_t(rank_span(batch, comm_.rank(), ranks).chunks) * width,
      "chunk sum exchange: this rank's sums do not match its share of the batch");
  std::vector<size_t> counts(ranks);
  for (int r = 0; r < ranks; ++r)
    counts[r] = size_t(rank_span(batch, r, ranks).chunks) * width * sizeof(double);
  std::vector<double> all(size_t(chunk_count(batch)) * width);
  comm_.allgatherv(local.data(), all.data(), counts);
  return all;
}

DataParallel::DataParallel(Communicator& comm, Model& model, Backend& backend)
    : comm_(comm), exchange_(comm), model_(model), backend_(backend), params_(model.parameters()) {
  model_.set_chunk_sum_exchange(&exchange_);
  for (const Parameter* p : params_) {
    REPRO_CHECK(p->chunk_grads.size() > 0, "DataParallel needs a model built with chunk_grads");
    offsets_.push_back(total_);
    total_ += p->size();
  }
}

ParallelStep DataParallel::step(const Batch& batch, ForwardContext ctx, bool stop_requested) {
  const int n = batch.size;
  const RankSpan mine = rank_span(n, comm_.rank(), comm_.size());
  const int classes = model_.classes();
  std::vector<double> losses(mine.images);
  std::vector<uint8_t> correct(mine.images);
  exchange_.batch = n;
  ctx.batch_images = n;
  if (mine.images == 0) model_.join_exchanges(ctx);
  if (mine.images > 0) {
    ctx.first_image = mine.first_image;
    const size_t image_size = model_.input_shape().size();
    const float* logits =
        model_.forward(batch.x.data() + size_t(mine.first_image) * image_size, mine.images, ctx);
    // One image at a time: its loss is then the term the one-process batch sum adds, and the
    // sum below adds those terms in the same order, from 0.
    float* dlogits = model_.dlogits();
    const float scale = 1.0f / static_cast<float>(n);
    for (int i = 0; i < mine.images; ++i) {
      const LossSums one = backend_.softmax_cross_entropy(
          logits + size_t(i) * classes, batch.y.data() + mine.first_image + i, 1, classes,
          dlogits + size_t(i) * classes, scale);
      losses[i] = one.loss;
      correct[i] = static_cast<uint8_t>(one.correct);
    }
    model_.backward(mine.images);
  }
  ParallelStep out;
  const auto start = std::chrono::steady_clock::now();
  const uint64_t bytes_before = comm_.bytes_sent();
  combine_gradients(n, mine, losses, correct, stop_requested, out);
  combine_bytes_ += comm_.bytes_sent() - bytes_before;
  combine_steps_ += 1;
  combine_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

void DataParallel::combine_gradients(int n, const RankSpan& mine, const std::vector<double>& losses,
                                     const std::vector<uint8_t>& correct, bool stop,
                                     ParallelStep& out) {
  const int ranks = comm_.size(), me = comm_.rank();
  const int chunks = chunk_count(n);
  std::vector<RankSpan> spans(ranks);
  for (int r = 0; r < ranks; ++r) spans[r] = rank_span(n, r, ranks);

  // This rank's chunk gradients, flattened: chunk_host_ (local chunks, P).
  chunk_host_.resize(size_t(mine.chunks) * total_);
  std::vector<float> rows;
  for (size_t p = 0; p < params_.size(); ++p) {
    const size_t size = params_[p]->size();
    rows.resize(size_t(mine.chunks) * size);
    if (!rows.empty()) backend_.download(params_[p]->chunk_grads.data(), rows.data(), rows.size());
    for (int c = 0; c < mine.chunks; ++c)
      copy_bytes(chunk_host_.data() + size_t(c) * total_ + offsets_[p],
                 rows.data() + size_t(c) * size, size * sizeof(float));
  }

  // 1. Each rank q gets its slice of every local chunk, chunks in order.
  std::vector<size_t> send_counts(ranks), recv_counts(ranks);
  send_.resize(size_t(mine.chunks) * total_);
  size_t at = 0;
  for (int q = 0; q < ranks; ++q) {
    const size_t begin = slice_begin(total_, q, ranks), end = slice_begin(total_, q + 1, ranks);
    for (int c = 0; c < mine.chunks; ++c) {
      copy_bytes(send_.data() + at, chunk_host_.data() + size_t(c) * total_ + begin,
                 (end - begin) * sizeof(float));
      at += end - begin;
    }
    send_counts[q] = size_t(mine.chunks) * (end - begin) * sizeof(float);
  }
  const size_t begin = slice_begin(total_, me, ranks),
               slice = slice_begin(total_, me + 1, ranks) - begin;
  for (int r = 0; r < ranks; ++r) recv_counts[r] = size_t(spans[r].chunks) * slice * sizeof(float);
  recv_.resize(size_t(chunks) * slice);
  comm_.alltoallv(send_.data(), send_counts, recv_.data(), recv_counts);

  // 2. The fold of the backend's one-process path, element by element: acc = g_0; acc += g_c.
  folded_.resize(slice);
  for (size_t j = 0; j < slice; ++j) {
    float acc = recv_[j];
    for (int c = 1; c < chunks; ++c) acc += recv_[size_t(c) * slice + j];
    folded_[j] = acc;
  }

  // 3. Every rank gets every slice, loss, correct flag and stop request.
  std::vector<size_t> counts(ranks);
  size_t total_bytes = 0;
  for (int r = 0; r < ranks; ++r) {
    counts[r] = payload_bytes(slice_begin(total_, r + 1, ranks) - slice_begin(total_, r, ranks),
                              spans[r].images);
    total_bytes += counts[r];
  }
  payload_.resize(counts[me]);
  char* put = payload_.data();
  copy_bytes(put, folded_.data(), slice * sizeof(float));
  put += slice * sizeof(float);
  copy_bytes(put, losses.data(), losses.size() * sizeof(double));
  put += losses.size() * sizeof(double);
  copy_bytes(put, correct.data(), correct.size());
  put += correct.size();
  *put = stop ? 1 : 0;
  gathered_.resize(total_bytes);
  comm_.allgatherv(payload_.data(), gathered_.data(), counts);

  std::vector<float> gradient(total_);
  const char* get = gathered_.data();
  out.sums = LossSums{};
  for (int r = 0; r < ranks; ++r) {
    const size_t b = slice_begin(total_, r, ranks), e = slice_begin(total_, r + 1, ranks);
    copy_bytes(gradient.data() + b, get, (e - b) * sizeof(float));
    get += (e - b) * sizeof(float);
    // Images come in rank order, which is image order: the loss sum adds them as one process.
    for (int i = 0; i < spans[r].images; ++i) {
      double loss = 0;
      std::memcpy(&loss, get + size_t(i) * sizeof(double), sizeof(double));
      out.sums.loss += loss;
    }
    get += size_t(spans[r].images) * sizeof(double);
    for (int i = 0; i < spans[r].images; ++i) out.sums.correct += static_cast<uint8_t>(get[i]);
    get += spans[r].images;
    out.stop = out.stop || *get != 0;
    get += 1;
  }
  for (size_t p = 0; p < params_.size(); ++p)
    backend_.upload(&gradient[offsets_[p]], params_[p]->grad.data(), params_[p]->size());
}

std::vector<float> DataParallel::gather_layer(size_t i, bool grad, int n) {
  const int ranks = comm_.size();
  const RankSpan mine = rank_span(n, comm_.rank(), ranks);
  const size_t per_image = model_.layers()[i]->out_shape().size();
  std::vector<float> local(size_t(mine.images) * per_image);
  if (!local.empty()) {
    const float* data = grad ? model_.layer_output_grad(i) : model_.layer_output(i);
    backend_.download(data, local.data(), local.size());
  }
  std::vector<size_t> counts(ranks);
  for (int r = 0; r < ranks; ++r)
    counts[r] = size_t(rank_span(n, r, ranks).images) * per_image * sizeof(float);
  std::vector<float> all(size_t(n) * per_image);
  comm_.allgatherv(local.data(), all.data(), counts);
  return all;
}

void DataParallel::evaluate_batch(const Batch& batch) {
  const RankSpan mine = rank_span(batch.size, comm_.rank(), comm_.size());
  eval_sizes_.push_back(batch.size);
  if (mine.images == 0) return;
  ForwardContext ctx;
  ctx.training = false;
  const size_t image_size = model_.input_shape().size();
  const int classes = model_.classes();
  const float* logits =
      model_.forward(batch.x.data() + size_t(mine.first_image) * image_size, mine.images, ctx);
  for (int i = 0; i < mine.images; ++i) {
    const LossSums one = backend_.softmax_cross_entropy(logits + size_t(i) * classes,
                                                        batch.y.data() + mine.first_image + i, 1,
                                                        classes, nullptr, 1.0f);
    eval_losses_.push_back(one.loss);
    eval_correct_.push_back(static_cast<uint8_t>(one.correct));
  }
}

LossSums DataParallel::finish_evaluation(int64_t& seen) {
  const int ranks = comm_.size();
  // Rank r's images over all batches: their losses, then their correct flags.
  std::vector<size_t> images(ranks, 0), counts(ranks);
  size_t total_bytes = 0;
  for (int r = 0; r < ranks; ++r) {
    for (int n : eval_sizes_) images[r] += size_t(rank_span(n, r, ranks).images);
    counts[r] = images[r] * (sizeof(double) + 1);
    total_bytes += counts[r];
  }
  REPRO_CHECK(images[comm_.rank()] == eval_losses_.size(), "evaluation: lost track of images");
  std::vector<char> mine(counts[comm_.rank()]), all(total_bytes);
  copy_bytes(mine.data(), eval_losses_.data(), eval_losses_.size() * sizeof(double));
  copy_bytes(mine.data() + eval_losses_.size() * sizeof(double), eval_correct_.data(),
             eval_correct_.size());
  comm_.allgatherv(mine.data(), all.data(), counts);

  std::vector<size_t> base(ranks, 0), cursor(ranks, 0);  // rank r's section, next image in it
  for (int r = 1; r < ranks; ++r) base[r] = base[r - 1] + counts[r - 1];
  LossSums sums;
  seen = 0;
  for (int n : eval_sizes_) {
    double batch_loss = 0;
    for (int r = 0; r < ranks; ++r) {
      const int count = rank_span(n, r, ranks).images;
      for (int i = 0; i < count; ++i, ++cursor[r]) {
        double loss = 0;
        std::memcpy(&loss, all.data() + base[r] + cursor[r] * sizeof(double), sizeof(double));
        batch_loss += loss;
        sums.correct += static_cast<uint8_t>(all[base[r] + images[r] * sizeof(double) + cursor[r]]);
      }
    }
    sums.loss += batch_loss;
    seen += n;
  }
  eval_sizes_.clear();
  eval_losses_.clear();
  eval_correct_.clear();
  return sums;
}

}  // namespace repro
