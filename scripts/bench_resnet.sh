#!/usr/bin/env bash
# Benchmarks configs/resnet_small.yaml (a layer graph: residual blocks, batch norm, add) against
# the same model in PyTorch (bench/resnet_small_peer.py), in one run, 2 threads each: seconds of
# one training epoch (validation excluded) and images/s, each the median of BENCH_RUNS runs,
# repro's test accuracy, and the ratio repro / PyTorch.
# Env: REPRO_FASHION_DIR (the four Fashion-MNIST .gz files; default Debian's
#      /usr/share/datasets/fashion-mnist), REPRO_BUILD_DIR, BENCH_RUNS (default 1), BENCH_LIMIT
#      (train on the first N images; default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=bench_resnet
data=${REPRO_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
data_hint="apt-get install dataset-fashion-mnist or set REPRO_FASHION_DIR"
config=$root/configs/resnet_small.yaml
config_args=(--set data.dataset=idx --set "data.train_images=$data/train-images-idx3-ubyte.gz"
             --set "data.train_labels=$data/train-labels-idx1-ubyte.gz"
             --set "data.test_images=$data/t10k-images-idx3-ubyte.gz"
             --set "data.test_labels=$data/t10k-labels-idx1-ubyte.gz")
peer=$root/bench/resnet_small_peer.py
title="resnet_small, 1 epoch, 2 threads"
repro_label="repro (determinism on)"
peer_suffix=""
source "$root/scripts/bench_against_peer.sh"
