#!/usr/bin/env bash
# Images per second of the input pipeline for one full training epoch per data source (shuffle,
# batch 64, the map: decode for image files, scale, resize), with 1 and 2 map workers (median of
# 3 epochs), plus each source's load time:
#   mnist         the IDX files, 28x28 -> 32x32 (the recipe)
#   npz           the same MNIST training images as an .npz (numpy.savez), 28x28 -> 32x32
#   cifar10       a generated archive of the official size (50,000 + 10,000 records), 32x32x3
#   image_folder  5,000 generated 64x64 RGB photos in 10 classes, as PNG, then as JPEG, -> 32x32x3
#   csv           a generated table of 50,000 rows, a label and 64 numeric features
# The generated data lives in a temporary folder; MNIST comes from the normal lookup (e.g.
# $REPRO_DATA_DIR/mnist) or MNIST_DIR. Needs /usr/bin/python3 with NumPy, and cjpeg for JPEG.
# Usage: scripts/bench_data.sh [MNIST_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
if [ ! -x "$build/repro" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${REPRO_CMAKE_ARGS:-} > /dev/null
  cmake --build "$build" --target repro -j "$(nproc)" > /dev/null
fi
mnist=${1:-${REPRO_DATA_DIR:-$root/../shared/data}/mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"

bench() {  # NAME, then repro data bench arguments
  local name=$1
  shift
  echo "== $name"
  "$build/repro" data bench "$@"
}

bench "mnist (IDX)" --dir "$mnist"

/usr/bin/python3 - "$mnist" "$work" <<'EOF'
import gzip, io, os, struct, sys, tarfile, zlib
import numpy as np

mnist, work = sys.argv[1], sys.argv[2]
def idx(name):
    with gzip.open(os.path.join(mnist, name)) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
np.savez(os.path.join(work, "mnist.npz"),
         x_train=idx("train-images-idx3-ubyte.gz"), y_train=idx("train-labels-idx1-ubyte.gz"),
         x_test=idx("t10k-images-idx3-ubyte.gz"), y_test=idx("t10k-labels-idx1-ubyte.gz"))

rng = np.random.default_rng(0)
os.makedirs(os.path.join(work, "cifar10"))
with tarfile.open(os.path.join(work, "cifar10", "cifar-10-binary.tar.gz"), "w:gz") as tar:
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = np.empty((10000, 3073), np.uint8)
        records[:, 0] = rng.integers(0, 10, 10000)
        records[:, 1:] = rng.integers(0, 256, (10000, 3072))
        info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
        info.size = records.nbytes
        tar.addfile(info, io.BytesIO(records.tobytes()))

def png(pixels):
    h, w, _ = pixels.shape
    raw = b"".join(b"\0" + pixels[r].tobytes() for r in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
y, x = np.mgrid[0:64, 0:64]
for i in range(5000):
    k = i % 10
    img = np.stack([(x * (k + 1) + y * 3 + i) % 256, (y * (k + 2) + i * 7) % 256,
                    (x + y + k * 25) % 256], axis=-1).astype(np.uint8)
    for kind in ("png", "ppm"):
        folder = os.path.join(work, kind, f"class_{k}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{i:05d}.{kind}")
        with open(path, "wb") as f:
            f.write(png(img) if kind == "png" else b"P6\n64 64\n255\n" + img.tobytes())

# A table of 50,000 rows: a label and 64 numeric features written as numbers are (integers,
# decimals, exponents), as csv reads them.
with open(os.path.join(work, "table.csv"), "w") as f:
    f.write("label," + ",".join(f"f{j}" for j in range(64)) + "\n")
    values = rng.normal(0, 10, (50000, 64))
    for i in range(50000):
        f.write(f"{i % 10}," + ",".join(f"{v:.6g}" for v in values[i]) + "\n")
EOF

cat > "$work/npz.yaml" <<EOF
data: {dataset: npz, path: $work/mnist.npz, resize: [32, 32]}
model: [{flatten: {}}, {dense: {units: 10}}]
EOF
bench "npz (numpy.savez of the MNIST arrays)" --config "$work/npz.yaml"
bench "cifar10 (generated archive of the official size)" --dir "$work/cifar10" \
  --config "$root/configs/cifar10_cnn.yaml"
cat > "$work/png.yaml" <<EOF
data: {dataset: image_folder, directory: $work/png, image_size: [32, 32]}
model: [{flatten: {}}, {dense: {units: 10}}]
EOF
bench "image_folder, PNG (5,000 files of 64x64x3)" --config "$work/png.yaml"
cat > "$work/csv.yaml" <<EOF
data: {dataset: csv, path: $work/table.csv, label: label}
model: [{dense: {units: 10}}]
EOF
bench "csv (50,000 rows of 64 numeric features)" --config "$work/csv.yaml"
if command -v cjpeg > /dev/null; then
  mkdir -p "$work/jpeg"
  for d in "$work"/ppm/*; do
    mkdir -p "$work/jpeg/$(basename "$d")"
    for f in "$d"/*.ppm; do
      cjpeg -quality 90 -outfile "$work/jpeg/$(basename "$d")/$(basename "$f" .ppm).jpg" "$f"
    done
  done
  bench "image_folder, JPEG (5,000 files of 64x64x3)" --config "$work/png.yaml" \
    --set data.directory="$work/jpeg"
else
  echo "== image_folder, JPEG: skipped (no cjpeg; apt-get install libjpeg-turbo-progs)"
fi
