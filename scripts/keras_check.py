#!/usr/bin/python3
"""Checks a `repro export --format keras|weights.h5` file with h5py, independently of repro.

    /usr/bin/python3 scripts/keras_check.py RUN FILE     FILE: model.keras or model.weights.h5

Reads FILE as Keras 3 does (a .keras zip of metadata.json, config.json and model.weights.h5, or
the .weights.h5 alone) and RUN/model.safetensors with NumPy, and requires, from Keras's saving
rules (keras/src/saving/saving_lib.py):
  - every layer group is layers/<to_snake_case(class)>[_N] in layer order (from config.json for a
    .keras archive), with the layer's name as its vars group's `name` attribute;
  - each layer's variables, in Keras's order (kernel, bias; gamma, beta, moving_mean,
    moving_variance), are float32 and equal to the run's tensors bit for bit;
  - the optimizer group, when present: iteration (int64), the learning rate (float32) unless the
    config has a schedule, then one slot per trainable tensor and slot kind.
Prints one line per layer and PASS; exit 0 pass, 1 fail, 2 bad use, 77 skipped (no h5py or
NumPy), with the reason on the last line.
"""
import io
import json
import re
import struct
import sys
import zipfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIPPED: {e.name} is not installed (Debian: python3-h5py python3-numpy)")
    sys.exit(77)

KERAS_ORDER = ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


def to_snake_case(name):  # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + begin : 8 + n + end], "<f4").reshape(info["shape"])
    return out


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        print("keras_check: give a run folder and its export: keras_check.py RUN FILE",
              file=sys.stderr)
        sys.exit(2)
    run, path = sys.argv[1], sys.argv[2]
    tensors = read_safetensors(f"{run}/model.safetensors")
    layer_classes = None
    if path.endswith(".keras"):
        archive = zipfile.ZipFile(path)
        names = sorted(archive.namelist())
        if names != ["config.json", "metadata.json", "model.weights.h5"]:
            fail(f"archive members {names}")
        metadata = json.loads(archive.read("metadata.json"))
        print(f"metadata.json: keras_version {metadata['keras_version']}, "
              f"date_saved {metadata['date_saved']}")
        config = json.loads(archive.read("config.json"))
        if config["class_name"] != "Sequential":
            fail(f"config.json class_name {config['class_name']}")
        layer_classes = [(l["class_name"], l["config"]["name"])
                         for l in config["config"]["layers"] if l["class_name"] != "InputLayer"]
        h5 = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    else:
        h5 = h5py.File(path, "r")

    if h5["vars"].attrs.get("name") != "sequential":
        fail("the root vars group is not named 'sequential'")
    groups = list(h5["layers"].keys())
    if layer_classes is not None:
        used, expected = {}, []
        for class_name, _ in layer_classes:
            base = to_snake_case(class_name)
            n = used.get(base, -1) + 1
            used[base] = n
            expected.append(base if n == 0 else f"{base}_{n}")
        if sorted(expected) != sorted(groups):
            fail(f"layer groups {groups}, Keras would name them {expected}")
        order = list(zip(expected, [name for _, name in layer_classes]))
    else:
        order = [(g, h5["layers"][g]["vars"].attrs["name"]) for g in groups]

    checked = 0
    trainable = 0
    for group, layer in order:
        vars_group = h5["layers"][group]["vars"]
        if vars_group.attrs.get("name") != layer:
            fail(f"layers/{group}/vars is named {vars_group.attrs.get('name')!r}, not {layer!r}")
        mine = sorted((k for k in tensors if k.startswith(layer + "/")),
                      key=lambda k: KERAS_ORDER.index(k.split("/")[-1]))
        if len(vars_group) != len(mine):
            fail(f"layers/{group} holds {len(vars_group)} variables, the run has {len(mine)}")
        for i, name in enumerate(mine):
            value = vars_group[str(i)]
            if value.dtype != np.float32 or value.shape != tensors[name].shape:
                fail(f"layers/{group}/vars/{i}: {value.dtype} {value.shape}, "
                     f"{name} is float32 {tensors[name].shape}")
            if value[()].tobytes() != tensors[name].astype("<f4").tobytes():
                fail(f"layers/{group}/vars/{i} differs from {name}")
            checked += 1
            trainable += name.split("/")[-1] in ("kernel", "bias", "gamma", "beta")
        print(f"layers/{group} ({layer}): {len(mine)} tensors identical")
    if checked != len(tensors):
        fail(f"{checked} of the run's {len(tensors)} tensors are in the file")

    if "optimizer" in h5:
        opt = h5["optimizer"]["vars"]
        iteration = opt["0"]
        if iteration.dtype != np.int64 or iteration.shape != ():
            fail(f"optimizer/vars/0 is {iteration.dtype} {iteration.shape}, not an int64 iteration")
        slots = len(opt) - 1 - (1 if "1" in opt and opt["1"].shape == () else 0)
        if trainable == 0 or slots % trainable != 0:
            fail(f"optimizer/vars holds {slots} slots for {trainable} trainable tensors")
        print(f"optimizer ({opt.attrs['name']}): iteration {iteration[()]}, "
              f"{slots // trainable} slots per trainable tensor")
    print(f"PASS: {checked} tensors in {path} equal {run}/model.safetensors bit for bit")


main()
