#!/usr/bin/python3
"""PyTorch CPU peer for repro's configs/resnet_small.yaml (a speed peer, measured in the same run
by scripts/bench_resnet.sh).

The same model: a 3x3 stem (16, no bias) + batch norm + relu; an identity block at 16 channels;
two blocks with a stride-2 3x3 convolution and a 1x1 stride-2 projection shortcut (32, 64), each
convolution without bias and followed by batch norm (eps 1e-3, momentum 0.01 = Keras's 0.99),
add, relu; global average pooling; dense 10. Adam (lr 2e-3, eps 1e-7), batch 64, full shuffle,
pixels / 255, validation on the test set after each epoch.

Usage: resnet_small_peer.py DATA_DIR [--epochs 1] [--threads 2] [--limit N]
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
torch.manual_seed(7)


def idx(path):
    raw = gzip.open(path).read()
    dims = struct.unpack(">" + "I" * raw[3], raw[4:4 + 4 * raw[3]])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def images(name):
    return torch.tensor(idx(f"{a.data}/{name}").astype(np.float32) / 255.0)[:, None]


xt, yt = images("train-images-idx3-ubyte.gz"), torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
xv, yv = images("t10k-images-idx3-ubyte.gz"), torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
if a.limit:
    xt, yt = xt[:a.limit], yt[:a.limit]


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1, s.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), bn(cout)
        s.c2, s.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), bn(cout)
        s.proj = None
        if stride != 1:
            s.proj, s.pb = nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout)

    def forward(s, x):
        y = s.b2(s.c2(F.relu(s.b1(s.c1(x)))))
        return F.relu(y + (s.pb(s.proj(x)) if s.proj is not None else x))


class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem, s.sb = nn.Conv2d(1, 16, 3, 1, 1, bias=False), bn(16)
        s.blocks = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        s.d = nn.Linear(64, 10)

    def forward(s, x):
        x = s.blocks(F.relu(s.sb(s.stem(x))))
        return s.d(x.mean((2, 3)))


m = Net()
opt = torch.optim.Adam(m.parameters(), lr=2e-3, betas=(0.9, 0.999), eps=1e-7)
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
