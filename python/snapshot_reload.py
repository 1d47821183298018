"""snapshot's saved-model reload check: load each saved model again and run it on a fixed input.

    python snapshot_reload.py --request REQUEST.json --out OUT_DIR

REQUEST.json: {"seed": 20261202, "batch": 4,
               "models": [{"path": "/abs/model.keras", "name": "model.keras", "format": "keras"}]}
with format "keras" (a .keras archive), "h5" (a legacy Keras HDF5 full model) or "savedmodel"
(a TensorFlow SavedModel folder).

For each model, in order: load it, find its inputs, build a synthetic input from
numpy.random.default_rng(seed) (a fresh generator per model, its inputs drawn in order: floats
standard normal as float32 then cast to the input's dtype, integers in [0, 10), booleans 0/1; the
first dimension, when unknown, is `batch`, any other unknown dimension is 8), run the model once,
and write its outputs to OUT_DIR/<index>.npz as output_0, output_1, ... (the outputs flattened, a
dict's keys sorted). OUT_DIR/result.json says what happened to each model; it is rewritten after
each model (complete: false until the last), so a crash in native code leaves what was done.

How models are loaded and run:
- .keras and .h5: keras.models.load_model(path, compile=False) (safe_mode left at its default, so
  a Lambda layer's pickled code is not run), then model(x, training=False): one eager forward
  pass, not model.predict, which adds tf.data, batching and a compiled function (jit_compile
  "auto" under JAX) whose fusion can move the last bits. tf_keras stands in for keras when
  TF_USE_LEGACY_KERAS is set and it is installed, as tf.keras would.
- SavedModel: tf.saved_model.load(path) and its serving_default signature, called with keyword
  inputs (Keras 3's load_model refuses SavedModels; keras.layers.TFSMLayer wraps this same
  signature but does not expose its input specs).

Everything a model does wrong (cannot be read, cannot be loaded, cannot run) is an "error" entry
with a one-line message, never a crash of the script: it exits 0 once result.json is written.
It writes nothing outside OUT_DIR and sets no environment variables: the caller's environment
(TF_CPP_MIN_LOG_LEVEL, KERAS_BACKEND, TF_DETERMINISTIC_OPS, ...) is the one being checked.
Standard library and numpy, plus the framework that loads the models.
"""
import argparse
import json
import os
import sys
import time
import zipfile

RESULT_VERSION = 1
MESSAGE_MAX = 500
FREE_DIM = 8
INT_HIGH = 10
FORMATS = ("keras", "h5", "savedmodel")


def shorten(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def root_cause(error):
    """The exception at the end of the chain of causes: Keras wraps the one that says why."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        following = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if following is None:
            break
        error = following
    return error


def one_line(error):
    """The exception's type and message on one line (with its root cause), at most MESSAGE_MAX characters."""
    text = "%s: %s" % (type(error).__name__, error)
    root = root_cause(error)
    if root is error:
        return shorten(text, MESSAGE_MAX)
    cause = shorten("%s: %s" % (type(root).__name__, root), 300)
    return shorten(text, MESSAGE_MAX - len(cause) - len(" (from )")) + " (from " + cause + ")"


def flatten(structure):
    """A nested dict/list/tuple as a flat list; dict keys sorted, as tf.nest and keras.tree do."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack(structure, leaves):
    """flatten's inverse: the leaves (an iterator) in the shape of structure."""
    if isinstance(structure, dict):
        return {key: pack(structure[key], leaves) for key in sorted(structure)}
    if isinstance(structure, (list, tuple)):
        return [pack(item, leaves) for item in structure]
    return next(leaves)


def dtype_name(dtype):
    if isinstance(dtype, str):
        return dtype
    name = getattr(dtype, "name", None)
    return name if isinstance(name, str) else str(dtype)


def shape_list(shape):
    if shape is None:
        raise ValueError("the input's rank is unknown")
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return [None if d is None else int(d) for d in shape]


def concrete(shape, batch):
    return [(batch if i == 0 else FREE_DIM) if d is None else d for i, d in enumerate(shape)]


def synthetic(np, rng, shape, dtype):
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        raise ValueError("an input of dtype %s, which this check cannot make" % dtype)
    if kind == "f":
        return rng.standard_normal(shape, dtype=np.float32).astype(dtype)
    if kind in "iu":
        return rng.integers(0, INT_HIGH, size=shape).astype(dtype)
    if kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    raise ValueError("an input of dtype %s, which this check cannot make" % dtype)


class Frameworks(object):
    """Imports each framework once, on first use; an import that fails fails every model needing it."""

    def __init__(self):
        self.modules = {}
        self.import_ms = 0.0

    def get(self, which):
        if which not in self.modules:
            started = time.perf_counter()
            try:
                self.modules[which] = (self._import(which), None)
            except Exception as error:  # ImportError, and whatever a broken install raises
                self.modules[which] = (None, error)
            self.import_ms += (time.perf_counter() - started) * 1000.0
        module, error = self.modules[which]
        if error is not None:
            raise error
        return module

    @staticmethod
    def _import(which):
        if which == "tensorflow":
            import tensorflow

            return tensorflow
        if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
            try:
                import tf_keras

                return tf_keras
            except ImportError:
                pass
        import keras

        return keras


def keras_loader(keras):
    backend = None
    try:
        backend = keras.backend.backend()
    except Exception:
        pass
    name = "tf_keras" if keras.__name__ == "tf_keras" else "keras"
    return "%s %s" % (name, getattr(keras, "__version__", "?")) + (" (%s)" % backend if backend else "")


def to_numpy(np, keras, value):
    convert = getattr(getattr(keras, "ops", None), "convert_to_numpy", None)
    if convert is not None:
        return np.asarray(convert(value))
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def keras_input_specs(model):
    """[(name, shape, dtype)] in flatten order, and the structure the model takes them in."""
    structure = None
    try:
        structure = model.input
    except Exception:  # a subclassed model has no symbolic inputs
        structure = None
    leaves = flatten(structure) if structure is not None else []
    if leaves and all(hasattr(t, "shape") for t in leaves):
        specs = [(str(getattr(t, "name", "input_%d" % i)), shape_list(t.shape), dtype_name(getattr(t, "dtype", "float32"))) for i, t in enumerate(leaves)]
        return specs, structure
    shapes = getattr(model, "_build_shapes_dict", None)
    if isinstance(shapes, dict) and len(shapes) == 1:
        shape = list(shapes.values())[0]
        if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape):
            return [("input", shape_list(shape), "float32")], None
    raise ValueError("cannot tell the model's inputs (no model.input and no single build shape)")


def run_keras(frameworks, np, model_path, fmt, seed, batch, entry):
    if fmt == "keras" and not zipfile.is_zipfile(model_path):
        raise ValueError("not a zip archive, as every .keras file is: truncated or not a Keras model")
    keras = frameworks.get("keras")
    entry["loader"] = keras_loader(keras)
    try:
        model = keras.models.load_model(model_path, compile=False)
        specs, structure = keras_input_specs(model)
        rng = np.random.default_rng(seed)
        arrays = [synthetic(np, rng, concrete(shape, batch), dtype) for _, shape, dtype in specs]
        x = arrays[0] if structure is None else pack(structure, iter(arrays))
        outputs = [to_numpy(np, keras, y) for y in flatten(model(x, training=False))]
        return specs, arrays, outputs
    finally:
        clear = getattr(getattr(keras, "backend", None), "clear_session", None)
        if clear is not None:
            try:
                clear()
            except Exception:
                pass


def run_savedmodel(frameworks, np, model_path, seed, batch, entry):
    if not os.path.isdir(model_path) or not any(os.path.isfile(os.path.join(model_path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")):
        raise ValueError("not a SavedModel folder (no saved_model.pb)")
    tf = frameworks.get("tensorflow")
    entry["loader"] = "tensorflow %s (tf.saved_model.load, serving_default)" % getattr(tf, "__version__", "?")
    loaded = tf.saved_model.load(model_path)
    signatures = getattr(loaded, "signatures", {})
    if "serving_default" not in signatures:
        raise ValueError("the SavedModel has no serving_default signature (it has: %s)" % (", ".join(sorted(signatures)) or "none"))
    function = signatures["serving_default"]
    _, keywords = function.structured_input_signature
    names = sorted(keywords)
    specs = [(name, shape_list(keywords[name].shape), dtype_name(keywords[name].dtype)) for name in names]
    rng = np.random.default_rng(seed)
    arrays = [synthetic(np, rng, concrete(shape, batch), dtype) for _, shape, dtype in specs]
    result = function(**{name: tf.constant(array) for name, array in zip(names, arrays)})
    outputs = [np.asarray(y.numpy() if hasattr(y, "numpy") else y) for y in flatten(result)]
    return specs, arrays, outputs


def write_npz(np, path, arrays):
    """np.savez's layout (stored .npy entries), with a fixed entry date: equal outputs, equal bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for i, array in enumerate(arrays):
            info = zipfile.ZipInfo("output_%d.npy" % i, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)


def reload_one(frameworks, np, index, model, seed, batch, out_dir):
    started = time.perf_counter()
    imported_before = frameworks.import_ms
    entry = {"name": model["name"], "format": model["format"], "status": "error", "message": None, "loader": None, "inputs": [], "predictions": None, "duration_ms": 0}
    try:
        if model["format"] == "savedmodel":
            specs, arrays, outputs = run_savedmodel(frameworks, np, model["path"], seed, batch, entry)
        else:
            specs, arrays, outputs = run_keras(frameworks, np, model["path"], model["format"], seed, batch, entry)
        entry["inputs"] = [{"name": name, "shape": [int(d) for d in array.shape], "dtype": dtype} for (name, _, dtype), array in zip(specs, arrays)]
        if not outputs:
            raise ValueError("the model returned no outputs")
        name = "%d.npz" % index
        write_npz(np, os.path.join(out_dir, name), outputs)
        entry["status"] = "ok"
        entry["predictions"] = name
    except Exception as error:
        entry["message"] = one_line(error)
    # The framework's import, paid by the first model that needs it, is counted apart (import_ms).
    entry["duration_ms"] = max(0.0, round((time.perf_counter() - started) * 1000.0 - (frameworks.import_ms - imported_before), 1))
    return entry


def write_result(out_dir, result):
    path = os.path.join(out_dir, "result.json")
    with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=1, allow_nan=False)
    os.replace(path + ".tmp", path)


def read_request(path):
    with open(path) as f:
        request = json.load(f)
    seed, batch, models = request.get("seed"), request.get("batch"), request.get("models")
    if not isinstance(seed, int) or seed < 0 or not isinstance(batch, int) or batch < 1 or not isinstance(models, list):
        raise ValueError("the request needs an integer seed >= 0, an integer batch >= 1 and a list of models")
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("path"), str) or not isinstance(model.get("name"), str) or model.get("format") not in FORMATS:
            raise ValueError("each model needs a path, a name and a format (%s)" % ", ".join(FORMATS))
    return seed, batch, models


def main(argv):
    parser = argparse.ArgumentParser(description="Load saved models again and run them on a fixed, seeded input.")
    parser.add_argument("--request", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        seed, batch, models = read_request(args.request)
    except Exception as error:
        sys.stderr.write("snapshot_reload: cannot read the request %s: %s\n" % (args.request, one_line(error)))
        return 2
    if not os.path.isdir(args.out):
        sys.stderr.write("snapshot_reload: the output folder %s does not exist\n" % args.out)
        return 2
    started = time.perf_counter()
    frameworks = Frameworks()
    result = {"reload_result": RESULT_VERSION, "seed": seed, "batch": batch, "complete": False, "numpy": None, "import_ms": 0, "duration_ms": 0, "models": []}
    try:
        import numpy as np

        result["numpy"] = np.__version__
    except Exception as error:
        np = None
        numpy_error = error
    write_result(args.out, result)
    for index, model in enumerate(models):
        if np is None:
            entry = {"name": model["name"], "format": model["format"], "status": "error", "message": one_line(numpy_error), "loader": None, "inputs": [], "predictions": None, "duration_ms": 0}
        else:
            entry = reload_one(frameworks, np, index, model, seed, batch, args.out)
        result["models"].append(entry)
        result["import_ms"] = round(frameworks.import_ms, 1)
        result["duration_ms"] = round((time.perf_counter() - started) * 1000.0, 1)
        result["complete"] = index == len(models) - 1
        write_result(args.out, result)
    if not models:
        result["complete"] = True
        write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
