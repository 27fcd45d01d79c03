#!/usr/bin/python3
"""Checks a `repro export --format keras|weights.h5` file with h5py, independently of repro.

    /usr/bin/python3 scripts/keras_check.py RUN FILE     FILE: model.keras or model.weights.h5

Reads FILE as Keras 3 does (a .keras zip of metadata.json, config.json and model.weights.h5, or
the .weights.h5 alone) and RUN/model.safetensors with NumPy, and requires, from Keras's saving
rules (keras/src/saving/saving_lib.py):
  - every layer group is layers/<to_snake_case(class)>[_N] in the order of model.layers (from
    config.json for a .keras archive), with the layer's name as its vars group's `name`
    attribute, and the root vars named as the model. A Sequential model's layers are config.json's
    less the InputLayer; a Functional model's are all of them, the InputLayer included, in the
    order keras/src/ops/function.py's map_graph gives them, worked out here from the layers'
    inbound_nodes and output_layers;
  - each layer's variables, in Keras's order (kernel, bias; gamma, beta, moving_mean,
    moving_variance), are float32 and equal to the run's tensors bit for bit; a layer's
    variables may sit in its sub-layers' groups (an RNN's cell/vars, a Bidirectional's
    forward_layer and backward_layer, a TimeDistributed's layer), taken in vars_groups' order;
  - the optimizer group, when present: iteration (int64), the learning rate (float32) unless the
    config has a schedule, then one slot per trainable tensor and slot kind; with config.json,
    each slot has the shape of its tensor, the trainable tensors taken in model.layers order.
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

KERAS_ORDER = ["embeddings", "kernel", "recurrent_kernel", "depthwise_kernel", "pointwise_kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


TRAINABLE = ("embeddings", "kernel", "recurrent_kernel", "depthwise_kernel", "pointwise_kernel", "bias",
             "gamma", "beta")
# A wrapper's sub-layers in the order their variables come in model.weights: Bidirectional's
# forward_layer, then backward_layer; TimeDistributed's layer; an RNN's cell.
CHILD_ORDER = ["forward_layer", "backward_layer", "layer", "cell"]


def vars_groups(group, path):
    """(path, vars group) of a layer's group and its sub-layers', own first, then the children in
    CHILD_ORDER (Keras saves each object's own variables, then walks its attributes)."""
    if "vars" in group:
        yield path, group["vars"]
    children = [k for k in group.keys() if k != "vars"]
    children.sort(key=lambda k: (CHILD_ORDER.index(k) if k in CHILD_ORDER else len(CHILD_ORDER), k))
    for k in children:
        yield from vars_groups(group[k], f"{path}/{k}")


def tensor_rank(name):
    """A run's tensor "<layer>[/<sub-layer>]/<variable>" in the order Keras holds them: the
    forward sub-layer's before the backward one's, each in KERAS_ORDER."""
    parts = name.split("/")
    middle = "/".join(parts[1:-1])
    sub = 0 if not middle else 1 if middle.startswith("forward_") else 2 if middle.startswith("backward_") else 3
    return (sub, middle, KERAS_ORDER.index(parts[-1]))


def to_snake_case(name):  # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_tensor_names(value):
    """The layer names of the __keras_tensor__ objects in a call's args, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [n for v in value.values() for n in keras_tensor_names(v)]
    if isinstance(value, list):
        return [n for v in value for n in keras_tensor_names(v)]
    return []


def output_names(value):
    """output_layers: one [name, node, tensor] triple or a list of them."""
    if len(value) == 3 and isinstance(value[0], str):
        return [value[0]]
    return [n for v in value for n in output_names(v)]


def functional_layers(model):
    """model.layers of a Functional config: function.py's _build_map (a depth-first walk from the
    outputs through each call's input tensors, numbering layers as first reached) and map_graph
    (a layer's depth is its longest path to an output; deepest first, ties by that number)."""
    layers = {l["name"]: l for l in model["layers"]}
    takes = {}
    for name, layer in layers.items():
        calls = layer["inbound_nodes"]
        if len(calls) > 1:
            fail(f"layer {name} is called {len(calls)} times")
        takes[name] = keras_tensor_names(calls[0]["args"]) if calls else []
    index, finished, post_order = {}, set(), []

    def walk(name):
        if name in finished:
            return
        index.setdefault(name, len(index))
        for parent in takes[name]:
            walk(parent)
        finished.add(name)
        post_order.append(name)

    for name in output_names(model["output_layers"]):
        walk(name)
    depth = {}
    for name in reversed(post_order):
        d = depth.setdefault(name, 0)
        for parent in takes[name]:
            depth[parent] = max(depth.get(parent, 0), d + 1)
    if len(post_order) != len(layers):
        fail(f"layers {sorted(set(layers) - set(post_order))} do not reach the output")
    order = sorted(post_order, key=lambda n: (-depth[n], index[n]))
    return [(layers[n]["class_name"], n) for n in order]


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
    optimizer_class = None
    if path.endswith(".keras"):
        archive = zipfile.ZipFile(path)
        names = sorted(archive.namelist())
        if names != ["config.json", "metadata.json", "model.weights.h5"]:
            fail(f"archive members {names}")
        metadata = json.loads(archive.read("metadata.json"))
        print(f"metadata.json: keras_version {metadata['keras_version']}, "
              f"date_saved {metadata['date_saved']}")
        config = json.loads(archive.read("config.json"))
        if config["class_name"] == "Sequential":
            layer_classes = [(l["class_name"], l["config"]["name"])
                             for l in config["config"]["layers"]
                             if l["class_name"] != "InputLayer"]
        elif config["class_name"] == "Functional":
            if config["module"] != "keras.src.models.functional":
                fail(f"config.json module {config['module']}")
            layer_classes = functional_layers(config["config"])
        else:
            fail(f"config.json class_name {config['class_name']}")
        model_names = [config["config"]["name"]]
        optimizer_class = config.get("compile_config", {}).get("optimizer", {}).get("class_name")
        h5 = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    else:
        model_names = ["sequential", "functional"]
        h5 = h5py.File(path, "r")

    if h5["vars"].attrs.get("name") not in model_names:
        fail(f"the root vars group is named {h5['vars'].attrs.get('name')!r}, not "
             f"{' or '.join(map(repr, model_names))}")
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
    trainable = []  # the trainable tensors' shapes in model.layers order
    for group, layer in order:
        own = h5["layers"][group]["vars"]
        if own.attrs.get("name") != layer:
            fail(f"layers/{group}/vars is named {own.attrs.get('name')!r}, not {layer!r}")
        mine = sorted((k for k in tensors if k.startswith(layer + "/")), key=tensor_rank)
        held = list(vars_groups(h5["layers"][group], f"layers/{group}"))
        for at, vars_group in held:
            if at.endswith("/cell") and not vars_group.attrs.get("name", "").endswith("_cell"):
                fail(f"{at}/vars is named {vars_group.attrs.get('name')!r}, not a cell's name")
        values = [(f"{at}/vars/{i}", g[str(i)]) for at, g in held for i in range(len(g))]
        if len(values) != len(mine):
            fail(f"layers/{group} holds {len(values)} variables, the run has {len(mine)}")
        for (where, value), name in zip(values, mine):
            if value.dtype != np.float32 or value.shape != tensors[name].shape:
                fail(f"{where}: {value.dtype} {value.shape}, "
                     f"{name} is float32 {tensors[name].shape}")
            if value[()].tobytes() != tensors[name].astype("<f4").tobytes():
                fail(f"{where} differs from {name}")
            checked += 1
            if name.split("/")[-1] in TRAINABLE:
                trainable.append(tensors[name].shape)
        print(f"layers/{group} ({layer}): {len(mine)} tensors identical"
              f" in {sum(1 for _, g in held if len(g))} vars group(s)")
    if checked != len(tensors):
        fail(f"{checked} of the run's {len(tensors)} tensors are in the file")

    if "optimizer" in h5:
        opt = h5["optimizer"]["vars"]
        iteration = opt["0"]
        if iteration.dtype != np.int64 or iteration.shape != ():
            fail(f"optimizer/vars/0 is {iteration.dtype} {iteration.shape}, not an int64 iteration")
        first = 2 if "1" in opt and opt["1"].shape == () else 1
        slots = len(opt) - first
        if not trainable or slots % len(trainable) != 0:
            fail(f"optimizer/vars holds {slots} slots for {len(trainable)} trainable tensors")
        per_tensor = slots // len(trainable)
        if layer_classes is not None:
            # Adam and AdamW hold each tensor's slots together; SGD and RMSprop one slot kind
            # over every tensor, then the next (keras/src/optimizers/*.py build()).
            interleaved = optimizer_class in ("Adam", "AdamW")
            for j in range(slots):
                want = trainable[j // per_tensor if interleaved else j % len(trainable)]
                got = opt[str(first + j)].shape
                if got != want:
                    fail(f"optimizer/vars/{first + j} has shape {got}, its tensor {want}")
        print(f"optimizer ({opt.attrs['name']}): iteration {iteration[()]}, "
              f"{per_tensor} slots per trainable tensor")
    print(f"PASS: {checked} tensors in {path} equal {run}/model.safetensors bit for bit")


main()
