#!/usr/bin/python3
"""PyTorch CPU peer for repro's configs/mnist_lstm.yaml (a speed peer, measured in the same run
by scripts/bench_lstm.sh).

The same model as far as PyTorch goes: MNIST as 28 timesteps of 28 pixels (/ 255), one LSTM of
128 units (batch_first), its last output into a dense layer of 10; Adam (lr 1e-3, eps 1e-7),
batch 64, full shuffle, validation on the test set after each epoch. nn.LSTM has no recurrent
dropout, so the peer runs without it; the input dropout (0.2) is nn.Dropout on the inputs (a mask
per element and timestep, where repro's is one per sequence).

Usage: mnist_lstm_peer.py MNIST_DIR [--epochs 1] [--threads 2] [--limit N]
Prints per epoch: training seconds, validation accuracy.
"""
import argparse, gzip, struct, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--limit", type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)


def idx(path):
    raw = gzip.open(path).read()
    dims = struct.unpack(">" + "I" * raw[3], raw[4:4 + 4 * raw[3]])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def images(name):
    return torch.tensor(idx(f"{a.data}/{name}").astype(np.float32) / 255.0)


xt, yt = images("train-images-idx3-ubyte.gz"), torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
xv, yv = images("t10k-images-idx3-ubyte.gz"), torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
if a.limit:
    xt, yt = xt[:a.limit], yt[:a.limit]


class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.drop = nn.Dropout(0.2)
        s.lstm = nn.LSTM(28, 128, batch_first=True)
        s.d = nn.Linear(128, 10)

    def forward(s, x):
        out, _ = s.lstm(s.drop(x))
        return s.d(out[:, -1])


m = Net()
opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
n = xt.shape[0]
for ep in range(a.epochs):
    t0 = time.time()
    m.train()
    perm = torch.randperm(n)
    for i in range(0, n, 64):
        j = perm[i:i + 64]
        loss = F.cross_entropy(m(xt[j]), yt[j])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds = time.time() - t0
    m.eval()
    with torch.no_grad():
        acc = sum(int((m(xv[i:i + 256]).argmax(1) == yv[i:i + 256]).sum()) for i in range(0, 10000, 256)) / 10000
    print(f"epoch {ep + 1}: {seconds:.3f} s, val_accuracy {acc:.4f}", flush=True)
