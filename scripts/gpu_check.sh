#!/usr/bin/env bash
# Runs ON a GPU machine (CUDA, cuDNN from pip `nvidia-cudnn-cu13`, CMake, Python; no apt, no
# internet) with .device/ prepared by scripts/gpu_prepare.sh: builds repro with the cuDNN backend,
# runs the [cuda] tests, trains configs/mnist_recipe.yaml twice on the GPU and compares the runs
# with --exact, compares a one-epoch CPU run with the GPU history (max difference), and prints
# seconds per epoch. Every step is timed; the whole check must stay under 8 minutes.
# Not here: installing anything (gpu_prepare.sh does that on a machine with apt).
# Environment: REPRO_GPU_BUILD_DIR (default build-gpu), REPRO_GPU_SKIP_CPU=1 skips the CPU run,
# CUDNN_ROOT (default: the pip package nvidia.cudnn of python3), CUDACXX (default: nvcc on PATH).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
device=$root/.device
build=${REPRO_GPU_BUILD_DIR:-$root/build-gpu}
runs=$build/gpu_check_runs
logs=$build/gpu_check_logs
config=$root/configs/mnist_recipe.yaml
check_start=$(date +%s.%N)
step_start=$check_start

say() { echo "[gpu_check] $*"; }
fail() { echo "[gpu_check] FAILED: $*" >&2; exit 1; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }
begin() { step_start=$(date +%s.%N); say "== $*"; }
end() { say "   done in $(elapsed "$step_start") s"; }

begin "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || fail "nvidia-smi: no GPU visible"
nvcc_bin=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$nvcc_bin" ] || fail "nvcc not found (set CUDACXX)"
"$nvcc_bin" --version | tail -2
say "$(cmake --version | head -1), $(python3 --version), $(c++ --version | head -1)"
end

begin "unpack .device (from scripts/gpu_prepare.sh)"
if [ ! -d "$device/root/usr" ]; then
  [ -f "$device/root.tar.gz" ] || fail "no $device/root.tar.gz: run scripts/gpu_prepare.sh first and carry .device/root.tar.gz and .device/data"
  tar -xzf "$device/root.tar.gz" -C "$device"
fi
[ -f "$device/data/mnist/train-images-idx3-ubyte.gz" ] || fail "no MNIST in $device/data/mnist (scripts/gpu_prepare.sh copies it)"
prefix=$device/root/usr
arch_lib=$prefix/lib/x86_64-linux-gnu
end

begin "locate cuDNN (pip)"
# Before LD_LIBRARY_PATH changes, so python3 runs on its own libraries.
cudnn_root=${CUDNN_ROOT:-}
[ -n "$cudnn_root" ] || cudnn_root=$(python3 -c 'import os, nvidia.cudnn as m; print(os.path.dirname(m.__file__) if m.__file__ else list(m.__path__)[0])' 2>/dev/null || true)
if [ -z "$cudnn_root" ] || [ ! -f "$cudnn_root/include/cudnn.h" ]; then
  site=$(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))')
  header=$(find $site -path '*cudnn*/include/cudnn.h' -print -quit 2>/dev/null || true)
  [ -n "$header" ] || fail "cuDNN not found: pip install nvidia-cudnn-cu13, or set CUDNN_ROOT"
  cudnn_root=$(dirname "$(dirname "$header")")
fi
say "CUDNN_ROOT=$cudnn_root"
ls "$cudnn_root/lib" | grep -E '^libcudnn\.so' | head -3
end

begin "configure (Release, REPRO_WITH_CUDA=ON)"
# A rerun on a warm machine starts from empty run folders (a run folder holds one run).
rm -rf "$runs"
mkdir -p "$logs"
export CMAKE_PREFIX_PATH=$prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
export CPATH=$prefix/include:$prefix/include/x86_64-linux-gnu${CPATH:+:$CPATH}
export LIBRARY_PATH=$arch_lib${LIBRARY_PATH:+:$LIBRARY_PATH}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DREPRO_WITH_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc_bin" -DCUDNN_ROOT="$cudnn_root" > "$logs/configure.log" 2>&1 ||
  { tail -40 "$logs/configure.log"; fail "cmake configure"; }
grep -E 'repro: (CUDA|cuDNN)' "$logs/configure.log" || true
end

begin "build repro and test_cuda"
cmake --build "$build" -j "$(nproc)" --target repro test_cuda > "$logs/build.log" 2>&1 ||
  { grep -E 'error|Error' "$logs/build.log" | head -40; fail "build"; }
end

begin "runtime libraries"
# Libraries of the carried tree whose SONAME this machine lacks, linked into one folder for the
# loader; the system keeps its own copies of everything else (the build does not put the carried
# folder on the RUNPATH: LIBRARY_PATH makes it an implicit link directory). cuDNN's pip folder first.
mkdir -p "$device/lib"
rm -f "$device/lib"/*
known=$({ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | awk '{print $1}' | sort -u)
for lib in "$arch_lib"/*.so*; do
  [ -f "$lib" ] && [ ! -L "$lib" ] || continue
  soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
  if [ -n "$soname" ] && ! grep -qxF "$soname" <<< "$known"; then
    ln -sf "$lib" "$device/lib/$soname"
  fi
done
export LD_LIBRARY_PATH=$cudnn_root/lib:$device/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "$(ls "$device/lib" | wc -l) carried libraries on LD_LIBRARY_PATH"
ldd "$build/repro" "$build/librepro_cudnn.so" | grep -E 'not found' && fail "unresolved libraries (above)"
end

begin "[cuda] tests"
"$build/tests/test_cuda" "[cuda]" --durations yes 2>&1 | tee "$logs/test_cuda.log" | grep -E '^[0-9.]+ s:|passed|failed|FAILED' || true
grep -q 'All tests passed' "$logs/test_cuda.log" || { cat "$logs/test_cuda.log" | tail -60; fail "[cuda] tests"; }
if grep -q 'REPRO_SKIPPED: no CUDA device' "$logs/test_cuda.log"; then fail "the [cuda] tests saw no device"; fi
end

export REPRO_DATA_DIR=$device/data
rm -rf "$runs"
mkdir -p "$runs"
for run in a b; do
  begin "train the recipe on the GPU, run $run"
  "$build/repro" train "$config" --device cuda --out "$runs/gpu_$run" || fail "repro train --device cuda (run $run)"
  end
done

begin "compare the two GPU runs (--exact)"
"$build/repro" compare "$runs/gpu_a" "$runs/gpu_b" --exact || fail "the two GPU runs differ"
end

begin "determinism: portable, GPU against CPU bits (200 steps)"
"$build/repro" check "$config" --set determinism=portable --vary device=cpu,cuda --steps 200 \
  --out "$runs/portable" || fail "determinism: portable gives other bits on the GPU than on the CPU"
end

if [ "${REPRO_GPU_SKIP_CPU:-0}" != 1 ]; then
  begin "train one epoch on the CPU (onednn)"
  "$build/repro" train "$config" --device cpu --epochs 1 --out "$runs/cpu" || fail "repro train --device cpu"
  end
fi

begin "summary"
python3 - "$runs" <<'EOF'
import json, os, sys
runs = sys.argv[1]
def load(name, file):
    with open(os.path.join(runs, name, file)) as f:
        return json.load(f)
gpu, record = load("gpu_a", "history.json"), load("gpu_a", "run.json")
print("[gpu_check] backend:", record["backend"], "| determinism:", record["determinism"], "|",
      record.get("environment", {}).get("backend", ""))
seconds = [e["seconds"] for e in record["epochs"]]
print("[gpu_check] seconds per epoch (GPU):", ", ".join(f"{s:.3f}" for s in seconds),
      "| target <= 0.5 s:", "met" if max(seconds) <= 0.5 else "NOT met")
print(f"[gpu_check] GPU test accuracy {record['test_accuracy']:.4f}, test loss {record['test_loss']:.4f}")
if os.path.exists(os.path.join(runs, "cpu", "history.json")):
    cpu = load("cpu", "history.json")
    cpu_seconds = [e["seconds"] for e in load("cpu", "run.json")["epochs"]]
    print("[gpu_check] seconds per epoch (CPU):", ", ".join(f"{s:.3f}" for s in cpu_seconds))
    for key in sorted(cpu):
        n = min(len(cpu[key]), len(gpu[key]))
        diff = max(abs(a - b) for a, b in zip(cpu[key][:n], gpu[key][:n]))
        print(f"[gpu_check] CPU vs GPU {key}, epoch 1: cpu {cpu[key][0]!r} gpu {gpu[key][0]!r} max |diff| {diff:.3g}")
if record["test_accuracy"] < 0.95:
    sys.exit("[gpu_check] FAILED: test accuracy below 0.95")
EOF
end
total=$(elapsed "$check_start")
if python3 -c "import sys; sys.exit(float(sys.argv[1]) > 480)" "$total"; then
  say "PASSED in $total s (limit 480 s)"
else
  say "PASSED, but took $total s: OVER the 480 s limit (REPRO_GPU_SKIP_CPU=1 drops the CPU run)"
fi
