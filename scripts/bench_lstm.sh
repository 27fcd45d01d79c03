#!/usr/bin/env bash
# Benchmarks configs/mnist_lstm.yaml (an LSTM over MNIST rows with dropout and recurrent_dropout)
# against the same model in PyTorch (bench/mnist_lstm_peer.py, without recurrent dropout, which
# nn.LSTM cannot do), in one run, 2 threads each: seconds of one training epoch (validation
# excluded) and images/s, each the median of BENCH_RUNS runs, the test accuracy after that
# epoch, and the ratio repro / PyTorch.
# Env: REPRO_DATA_DIR (a folder holding mnist/ with the four .gz files), REPRO_BUILD_DIR,
#      BENCH_RUNS (default 1), BENCH_LIMIT (train on the first N images; default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=bench_lstm
data=${REPRO_DATA_DIR:-}/mnist
data_hint="set REPRO_DATA_DIR to a folder holding mnist/"
config=$root/configs/mnist_lstm.yaml
config_args=()
peer=$root/bench/mnist_lstm_peer.py
title="mnist_lstm, 1 epoch, 2 threads"
repro_label="repro (dropout + recurrent_dropout)"
peer_suffix=" (no recurrent dropout)"
source "$root/scripts/bench_against_peer.sh"
