# -*- coding: utf-8 -*-
"""snapshot's training recorder: what the training did that decides its numbers.

Started by sitecustomize.py (next to this file) when SNAPSHOT_RECORD_FILE is set. It records,
as the TypeScript type RunRecording (src/core/recording.ts) describes:

  * the seed calls and determinism switches, in call order, with their arguments and the
    recorded call they ran inside (`via`);
  * each Model.fit: the model, its initial weights' digest, the training parameters and digests
    of the data that reached it;
  * at exit: torch's and TensorFlow's determinism settings (only when the training imported
    them) and the numerics libraries the process really loaded (/proc/self/maps).

The record is written atomically (a temporary file, then os.replace) after every fit returns
(so a training killed later still leaves one) and at exit (atexit). A process that ends through
os._exit(), a signal's default action or a crash of the interpreter runs no atexit handler: its
record is the one written after its last fit, or none. Not required, and not attempted.

Rules it keeps:
  * standard library only, Python 3.6+;
  * no effect on the numbers: it never draws random numbers, seeds nothing (unless
    SNAPSHOT_RECORD_ALSO_SEED=1 asks), changes no thread setting and never imports numpy,
    tensorflow, keras, tf_keras or torch. It hooks them when the training imports them: a
    sys.meta_path finder wraps the loader's exec_module of the watched modules and patches
    their attributes once the module has executed. `random` is imported and patched directly
    (importing it draws nothing: its generator is seeded from the OS, as it is whenever the
    training imports it);
  * it never fails or changes the training: every hook body is wrapped; a failure is appended
    to `errors` and the original call proceeds, with its own arguments, return value and
    exception. A training that replaces a patched function or drops the finder from
    sys.meta_path still works; the record then misses what it could not see;
  * only the process it started in records: the variables are taken out of os.environ, so a
    child interpreter (multiprocessing's spawn, a subprocess) does not overwrite the record, and
    a forked child never writes it.

Environment:
  SNAPSHOT_RECORD_FILE       the record's path (made absolute at start-up: the training may chdir)
  SNAPSHOT_RECORD_ALSO_SEED  "1": after each seed call the training makes directly to
                             tf.random.set_seed(n), numpy.random.seed(n) or torch.manual_seed(n),
                             also seed Python's random.seed(n) and numpy.random.seed(n) (when numpy
                             was imported), recorded with via "snapshot --explain". Off otherwise.
"""
import atexit
import hashlib
import json
import numbers
import os
import re
import sys
import threading
import types

RECORD_FORMAT = 1
MAX_ARGS = 8
MAX_STRING = 200
MAX_ERRORS = 200
# The record's schema bounds (schemas/run-record.schema.json): past them the whole record would be
# refused, so the recorder stops short of them and says what it left out.
MAX_CALLS = 10000
MAX_FITS = 1000
MAX_ITEMS = 256
# Bytes hashed per hashlib call: big enough that the call overhead vanishes, small enough that a
# huge array is never viewed whole by anything but the memoryview.
HASH_CHUNK = 16 * 1024 * 1024
EXPLAIN_VIA = "snapshot --explain"
MARK = "_snapshot_recorder_original"
# (outer, inner): a recorded call the outer one makes as its implementation, not as a second
# seed: tf.random.set_seed(n) calls tf.compat.v1.set_random_seed(n).
IMPLEMENTATION_CALLS = set([("tf.random.set_seed", "tf.compat.v1.set_random_seed")])

# The modules whose import the finder watches; each patcher is idempotent and patches whatever
# of its framework is loaded when it runs.
WATCHED_PREFIXES = ("numpy", "tensorflow", "keras", "tf_keras", "torch")

_lock = threading.RLock()
_tls = threading.local()
_state = {
    "active": False,
    "path": None,
    "pid": None,
    "also_seed": False,
    "order": 0,
    "warned": False,
    "finder": None,
}
_record = {
    "recorder": RECORD_FORMAT,
    "python": None,
    "seeds": [],
    "switches": [],
    "fits": [],
    "torch": None,
    "tensorflow": None,
    "libraries": None,
    "errors": [],
}
# The originals of what was patched, by recorded name (the explain seeding calls them directly).
_originals = {}


# --------------------------------------------------------------------------------------------
# Errors and JSON values


def _clip(text, limit):
    """text within limit characters; a longer one keeps its head and a digest of the whole, so two
    long texts that differ still read differently."""
    text = str(text)
    if len(text) <= limit:
        return text
    return "%s~%s" % (text[: limit - 20], hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16])


def _error(where, error):
    """Notes a recorder failure; never raises."""
    try:
        message = "%s: %s" % (type(error).__name__, error) if isinstance(error, BaseException) else str(error)
        message = message[:1000]
        where = _clip(where, 500)
        with _lock:
            errors = _record["errors"]
            for e in errors:
                if e["where"] == where and e["message"] == message:
                    return
            if len(errors) < MAX_ERRORS:
                errors.append({"where": str(where), "message": message})
    except Exception:
        pass


def _is_numpy_bool(value):
    t = type(value)
    return t.__name__ in ("bool_", "bool") and (t.__module__ or "").startswith("numpy")


def _scalar(value):
    """A JSON scalar for value, or a sentinel when it is none."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value[:MAX_STRING]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            return repr(f)
        return f
    if _is_numpy_bool(value):
        return bool(value)
    return _NOT_SCALAR


_NOT_SCALAR = object()


def _type_tag(value):
    return "<%s>" % type(value).__name__


def _arg(value):
    s = _scalar(value)
    return _type_tag(value) if s is _NOT_SCALAR else s


def _call_args(args, kwargs):
    """Positional arguments, then the keyword arguments' values in the order given; at most 8."""
    values = list(args) + list(kwargs.values())
    return [_arg(v) for v in values[:MAX_ARGS]]


def _jsonable(value, depth=0):
    """value as JSON: scalars kept, lists and dicts walked, anything else its type in brackets."""
    s = _scalar(value)
    if s is not _NOT_SCALAR:
        return s
    if depth > 8:
        return _type_tag(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value[:256]]
    if isinstance(value, dict):
        return dict((str(k), _jsonable(v, depth + 1)) for k, v in list(value.items())[:256])
    return _type_tag(value)


def _strict_json(value, depth=0):
    """(True, value) when value is JSON through and through (scalars, lists, dicts), else (False, None)."""
    s = _scalar(value)
    if s is not _NOT_SCALAR:
        return True, s
    if depth > 8:
        return False, None
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            ok, j = _strict_json(v, depth + 1)
            if not ok:
                return False, None
            out.append(j)
        return True, out
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            ok, j = _strict_json(v, depth + 1)
            if not ok:
                return False, None
            out[str(k)] = j
        return True, out
    return False, None


def _names(value, depth=0):
    """A loss or metrics value as JSON: strings kept, functions by name, objects by class name."""
    if value is None or isinstance(value, (str, bool)):
        return value
    s = _scalar(value)
    if s is not _NOT_SCALAR:
        return s
    if depth > 6:
        return type(value).__name__
    if isinstance(value, (list, tuple)):
        return [_names(v, depth + 1) for v in value[:256]]
    if isinstance(value, dict):
        return dict((str(k), _names(v, depth + 1)) for k, v in list(value.items())[:256])
    # Functions (numpy's are dispatcher objects, not FunctionType) and classes by their name;
    # instances (a Metric, a Loss) by their class.
    name = getattr(value, "__name__", None) if callable(value) else None
    return name if isinstance(name, str) else type(value).__name__


# --------------------------------------------------------------------------------------------
# Recorded calls: seeds and switches


def _stack():
    stack = getattr(_tls, "stack", None)
    if stack is None:
        stack = _tls.stack = []
    return stack


def _append_call(kind, name, args, via):
    with _lock:
        full = len(_record[kind]) >= MAX_CALLS
        if not full:
            entry = {"call": name, "args": args, "order": _state["order"], "via": via}
            _state["order"] += 1
            _record[kind].append(entry)
    if full:
        _error(kind, "more than %d calls: the later ones are not recorded" % MAX_CALLS)


_library_roots = []


def _from_library(depth):
    """Whether the frame `depth` up is in installed code (site-packages, the standard library)."""
    try:
        if not _library_roots:
            import sysconfig

            paths = sysconfig.get_paths()
            roots = [paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")]
            try:
                import site

                # Debian's dist-packages and the user's ~/.local site-packages hold libraries too.
                roots.extend(site.getsitepackages())
                roots.append(site.getusersitepackages())
            except Exception:
                pass
            for root in roots:
                if root:
                    _library_roots.append(os.path.realpath(root) + os.sep)
        filename = sys._getframe(depth + 1).f_code.co_filename
        # <frozen importlib._bootstrap> is the interpreter's; <stdin>, <string> and a notebook's
        # cells are the training's own code.
        if filename.startswith("<"):
            return filename.startswith("<frozen")
        real = os.path.realpath(filename)
        return any(real.startswith(root) for root in _library_roots)
    except Exception:
        return False


# Generators libraries make for themselves (scipy, scikit-learn, Keras at import) are theirs, not
# the training's choice: only the training's own default_rng calls are recorded.
_OWN_CALLS_ONLY = ("numpy.random.default_rng",)


class _RecordedBuiltin(object):
    """Stands in for a recorded C builtin or bound method (random.seed is Random.seed, bound).

    A Python function binds as a method when stored on a class; these do not, and neither does
    this. It pickles by the name it is installed under (see _locate), as they do, so that
    multiprocessing's Pool(initializer=random.seed) still works.
    """

    def __init__(self, call):
        self._recorded_call = call

    def __call__(self, *args, **kwargs):
        return self._recorded_call(*args, **kwargs)

    def __reduce__(self):
        return self.__qualname__


def _wrap_call(original, kind, name):
    """A callable that records the call and then calls original, exactly as the training asked."""

    def recorded(*args, **kwargs):
        via = None
        pushed = False
        try:
            stack = _stack()
            skip = not stack and name in _OWN_CALLS_ONLY and _from_library(1)
            # The same recorded call right inside itself is one call patched twice: record once.
            if not skip and not (stack and (stack[-1] == name or (stack[-1], name) in IMPLEMENTATION_CALLS)):
                via = stack[0] if stack else None
                _append_call(kind, name, _call_args(args, kwargs), via)
                stack.append(name)
                pushed = True
        except Exception as error:
            _error(name, error)
        try:
            result = original(*args, **kwargs)
        finally:
            if pushed:
                try:
                    _stack().pop()
                except Exception:
                    pass
        if pushed and via is None and _state["also_seed"]:
            _explain_seed(name, args, kwargs)
        return result

    # What binds as a method when stored on a class (a Python or Cython function) is wrapped in a
    # function, which binds too; what does not (a bound method, a C builtin), in an object that does not.
    wrapper = recorded if hasattr(type(original), "__get__") else _RecordedBuiltin(recorded)
    try:
        import functools

        functools.update_wrapper(wrapper, original)
    except Exception:
        pass
    setattr(wrapper, MARK, original)
    return wrapper


def _resolves_to(obj):
    """Whether obj's __module__ and __qualname__ lead back to it: how pickle finds a function."""
    try:
        target = sys.modules.get(obj.__module__)
        for part in obj.__qualname__.split("."):
            target = getattr(target, part)
        return target is obj
    except Exception:
        return False


def _locate(wrapper, module_name, attr):
    """Names the wrapper by where it is installed when its original's name no longer leads to it
    (random.seed is the bound Random.seed: pickle would look up random.Random.seed)."""
    try:
        if not _resolves_to(wrapper):
            wrapper.__module__ = module_name
            wrapper.__qualname__ = attr
    except Exception as error:
        _error("locate %s.%s" % (module_name, attr), error)


def _patch_functions(specs, prefixes):
    """Patches functions where they live and everywhere the framework re-exported them.

    specs: (kind, name, original) triples. Every module under prefixes that holds an original
    (by identity, under any attribute name: the public API modules re-export the implementation
    function, sometimes under another name) gets the one wrapper of it, so a call through any
    public name is recorded exactly once. Modules loaded later import the wrapper from the
    implementation module, which is patched too.
    """
    wrappers = {}
    for kind, name, original in specs:
        if original is None or getattr(original, MARK, None) is not None or id(original) in wrappers:
            continue
        wrappers[id(original)] = (original, _wrap_call(original, kind, name))
        _originals[name] = original
    if not wrappers:
        return
    ids = set(wrappers)
    installed = {}
    dotted = tuple(p + "." for p in prefixes)
    for module_name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType):
            continue
        if not (module_name in prefixes or module_name.startswith(dotted)):
            continue
        try:
            namespace = module.__dict__
            # The identity test at C speed first: a sweep over TensorFlow's ~2,800 modules
            # costs a few milliseconds, not the tens a Python loop over every attribute would.
            if ids.isdisjoint(map(id, list(namespace.values()))):
                continue
            for attr, value in list(namespace.items()):
                hit = wrappers.get(id(value))
                if hit is not None and hit[0] is value:
                    namespace[attr] = hit[1]
                    installed.setdefault(id(hit[1]), (hit[1], module_name, attr))
        except Exception as error:
            _error("patch %s" % module_name, error)
    for wrapper, module_name, attr in installed.values():
        _locate(wrapper, module_name, attr)


def _attr(module_name, attr):
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        return module.__dict__.get(attr)
    except Exception:
        return None


def _explain_seed(name, args, kwargs):
    """SNAPSHOT_RECORD_ALSO_SEED=1: the training seeded one generator; seed Python's and numpy's too."""
    if name not in ("tf.random.set_seed", "numpy.random.seed", "torch.manual_seed"):
        return
    try:
        seed = args[0] if args else kwargs.get("seed")
        if seed is None:
            return
        targets = [("random.seed", _originals.get("random.seed"))]
        if name != "numpy.random.seed" and "numpy" in sys.modules:
            if "numpy.random" not in sys.modules:
                # numpy 2 loads numpy.random on first use; explain mode seeds it on purpose.
                import importlib

                importlib.import_module("numpy.random")
            original = _originals.get("numpy.random.seed") or _attr("numpy.random", "seed")
            targets.append(("numpy.random.seed", original))
        for call, original in targets:
            if original is None:
                continue
            _append_call("seeds", call, [_arg(seed)], EXPLAIN_VIA)
            try:
                original(seed)
            except Exception as error:
                _error("%s for %s" % (EXPLAIN_VIA, call), error)
    except Exception as error:
        _error(EXPLAIN_VIA, error)


# --------------------------------------------------------------------------------------------
# The patchers, one per framework


def _patch_random():
    import random

    _patch_functions([("seeds", "random.seed", random.__dict__.get("seed"))], ("random",))


def _patch_numpy():
    if "numpy.random" not in sys.modules:
        return  # numpy 2 loads numpy.random on first use: its own import runs this again
    _patch_functions(
        [
            ("seeds", "numpy.random.seed", _attr("numpy.random", "seed")),
            ("seeds", "numpy.random.default_rng", _attr("numpy.random", "default_rng")),
        ],
        ("numpy",),
    )
    # numpy.random.RandomState(seed) is not recorded: it is a class, and a wrapper (a function
    # or a subclass) would change isinstance/type checks and pickling in the training.


def _patch_tensorflow():
    seed = "tensorflow.python.framework.random_seed"
    config = "tensorflow.python.framework.config"
    _patch_functions(
        [
            ("seeds", "tf.random.set_seed", _attr(seed, "set_seed")),
            ("seeds", "tf.compat.v1.set_random_seed", _attr(seed, "set_random_seed")),
            ("switches", "tf.config.experimental.enable_op_determinism", _attr(config, "enable_op_determinism")),
            ("switches", "tf.config.experimental.disable_op_determinism", _attr(config, "disable_op_determinism")),
            ("switches", "tf.config.experimental.enable_tensor_float_32_execution", _attr(config, "enable_tensor_float_32_execution")),
            ("switches", "tf.config.threading.set_intra_op_parallelism_threads", _attr(config, "set_intra_op_parallelism_threads")),
            ("switches", "tf.config.threading.set_inter_op_parallelism_threads", _attr(config, "set_inter_op_parallelism_threads")),
        ],
        ("tensorflow", "keras", "tf_keras"),
    )
    # capture --explain's candidate fix: op determinism switched on as TensorFlow finishes loading,
    # recorded as a switch made by snapshot, never set otherwise.
    if _state.get("op_determinism") and not _state.get("op_determinism_done"):
        try:
            enable = _originals.get("tf.config.experimental.enable_op_determinism") or _attr(config, "enable_op_determinism")
            if enable is not None:
                _state["op_determinism_done"] = True
                _append_call("switches", "tf.config.experimental.enable_op_determinism", [], EXPLAIN_VIA)
                enable()
        except Exception as error:
            _error("%s: enable_op_determinism" % EXPLAIN_VIA, error)


def _module_version(module):
    try:
        version = module.__dict__.get("__version__")
        return str(version) if version is not None else None
    except Exception:
        return None


def _patch_keras():
    keras = sys.modules.get("keras")
    if keras is None:
        return
    version = _module_version(keras)
    utils = keras.__dict__.get("utils")
    public_seed = utils.__dict__.get("set_random_seed") if isinstance(utils, types.ModuleType) else None
    if version is not None and version.startswith("2."):
        # Keras 2: the package TensorFlow < 2.16 serves as tf.keras.
        model = keras.__dict__.get("Model") or _attr("keras.src.engine.training", "Model") or _attr("keras.engine.training", "Model")
        original = public_seed or _attr("keras.src.utils.tf_utils", "set_random_seed") or _attr("keras.utils.tf_utils", "set_random_seed")
        _patch_functions([("seeds", "tf.keras.utils.set_random_seed", original)], ("keras", "tensorflow"))
        _patch_fit(model, "tf.keras")
        return
    original = _attr("keras.src.utils.rng_utils", "set_random_seed") or public_seed
    _patch_functions([("seeds", "keras.utils.set_random_seed", original)], ("keras", "tensorflow"))
    _patch_fit(keras.__dict__.get("Model") or _attr("keras.src.models.model", "Model"), "keras")


def _patch_tf_keras():
    tf_keras = sys.modules.get("tf_keras")
    if tf_keras is None:
        return
    utils = tf_keras.__dict__.get("utils")
    public_seed = utils.__dict__.get("set_random_seed") if isinstance(utils, types.ModuleType) else None
    original = public_seed or _attr("tf_keras.src.utils.tf_utils", "set_random_seed")
    _patch_functions([("seeds", "tf_keras.utils.set_random_seed", original)], ("tf_keras", "tensorflow"))
    _patch_fit(tf_keras.__dict__.get("Model") or _attr("tf_keras.src.engine.training", "Model"), "tf_keras")


def _patch_torch():
    torch = sys.modules.get("torch")
    if torch is None:
        return
    _patch_functions(
        [
            ("seeds", "torch.manual_seed", _attr("torch.random", "manual_seed") or _attr("torch", "manual_seed")),
            ("seeds", "torch.cuda.manual_seed_all", _attr("torch.cuda.random", "manual_seed_all") or _attr("torch.cuda", "manual_seed_all")),
            ("switches", "torch.use_deterministic_algorithms", _attr("torch", "use_deterministic_algorithms")),
            ("switches", "torch.set_float32_matmul_precision", _attr("torch", "set_float32_matmul_precision")),
        ],
        ("torch",),
    )


_PATCHERS = {
    "numpy": _patch_numpy,
    "numpy.random": _patch_numpy,
    "tensorflow": _patch_tensorflow,
    "keras": _patch_keras,
    "tf_keras": _patch_tf_keras,
    "torch": _patch_torch,
}


def _after_import(name):
    finder = _state.get("finder")
    if finder is not None:
        finder.names.discard(name)
    try:
        _PATCHERS[name]()
    except Exception as error:
        _error("patch %s" % name, error)
    _register_atexit()


class _Finder(object):
    """First on sys.meta_path: for a watched module, asks the finders after it for the spec (so
    the module loads exactly as it would have) and wraps that loader's exec_module, so the
    module is patched once it has executed. Any other name: None at once."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names or getattr(_tls, "finding", False):
            return None
        try:
            _tls.finding = True
            try:
                spec = self._spec(fullname, path, target)
            finally:
                _tls.finding = False
            if spec is None or spec.loader is None:
                return None
            # The name stays watched until the module has executed: a find_spec that only asks
            # whether a module exists (TensorFlow asks for keras) loads nothing.
            _hook_loader(spec)
            return spec
        except Exception as error:
            _error("import %s" % fullname, error)
            return None

    def _spec(self, fullname, path, target):
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                # A legacy finder (find_module only) would have had its turn: let the import
                # system ask everyone itself, and this module goes unhooked.
                return None
            spec = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def invalidate_caches(self):
        pass


def _hook_loader(spec):
    loader = spec.loader
    name = spec.name
    original = loader.exec_module

    def exec_module(module):
        try:
            if loader.__dict__.get("exec_module") is exec_module:
                del loader.exec_module
        except Exception:
            pass
        original(module)
        if getattr(module, "__name__", None) == name:
            _after_import(name)

    loader.exec_module = exec_module


# --------------------------------------------------------------------------------------------
# Data digests


def _np():
    return sys.modules.get("numpy")


def _hash_into(h, array):
    """Feeds array's bytes in C order to h, streamed over a memoryview: no copy when contiguous."""
    np = _np()
    if not array.flags["C_CONTIGUOUS"]:
        # A transposed, sliced or broadcast array: its C-order bytes, a block of its first axis at
        # a time, so the copy is one block (a broadcast is never materialised whole).
        if array.ndim == 0 or array.shape[0] == 0:
            return _hash_into(h, np.ascontiguousarray(array))
        row = max(1, array.nbytes // max(1, array.shape[0]))
        step = max(1, HASH_CHUNK // row)
        n = 0
        for start in range(0, array.shape[0], step):
            n += _hash_into(h, np.ascontiguousarray(array[start : start + step]))
        return n
    flat = array.reshape(-1).view(np.uint8)
    view = memoryview(flat)
    n = len(view)
    for start in range(0, n, HASH_CHUNK):
        h.update(view[start : start + HASH_CHUNK])
    return n


def digest_array(array, source="numpy"):
    """The `array` DataDigest of a numpy array."""
    if array.dtype.hasobject:
        return {"kind": "unknown", "source": source, "reason": "an object array: its bytes are pointers"}
    h = hashlib.sha256()
    n = _hash_into(h, array)
    return {"kind": "array", "source": source, "shape": [int(d) for d in array.shape], "dtype": _clip(array.dtype, 200), "sha256": h.hexdigest(), "bytes": int(n)}


def _type_name(value):
    t = type(value)
    module = t.__module__ or ""
    return t.__name__ if module == "builtins" else "%s.%s" % (module, t.__name__)


def _class_chain(value):
    try:
        return [(c.__module__ or "", c.__name__) for c in type(value).__mro__]
    except Exception:
        return []


def _unknown(value, reason):
    return {"kind": "unknown", "source": _clip(_type_name(value), 200), "reason": _clip(reason, 1000)}


def digest(value, where="data", depth=0):
    """The DataDigest of what reached fit(). Never iterates a dataset or a generator."""
    try:
        return _digest(value, where, depth)
    except Exception as error:
        _error(where, error)
        return _unknown(value, "%s: %s" % (type(error).__name__, error))


def _digest(value, where, depth):
    if value is None:
        return {"kind": "none"}
    np = _np()
    if np is not None and isinstance(value, np.ndarray):
        return digest_array(value, "numpy")
    chain = _class_chain(value)
    modules = [m for m, _ in chain]
    top = (type(value).__module__ or "").split(".")[0]
    # tf.data first: a Dataset is iterable, and nothing below may touch its elements.
    dataset_ops = sys.modules.get("tensorflow.python.data.ops.dataset_ops")
    dataset_class = dataset_ops.__dict__.get("DatasetV2") if dataset_ops is not None else None
    if dataset_class is not None and isinstance(value, dataset_class):
        spec = None
        cardinality = None
        try:
            spec = repr(value.element_spec)[:4000]
        except Exception as error:
            _error(where + ".element_spec", error)
        try:
            # In graph mode (tf.compat.v1) cardinality() adds an op to the default graph, which
            # moves the op seeds of unseeded random ops made after it: only read it eagerly.
            tf = sys.modules.get("tensorflow")
            if tf is not None and tf.executing_eagerly():
                cardinality = int(value.cardinality())
        except Exception as error:
            _error(where + ".cardinality", error)
        return {"kind": "dataset", "source": "tf.data.Dataset", "element_spec": spec, "cardinality": cardinality}
    for module, cls in chain:
        root = module.split(".")[0]
        if root in ("keras", "tf_keras") and cls in ("PyDataset", "Sequence"):
            return {"kind": "dataset", "source": "keras.utils.%s" % cls, "element_spec": None, "cardinality": None}
        if root == "torch" and cls in ("DataLoader", "Dataset", "IterableDataset"):
            return {"kind": "dataset", "source": "torch.utils.data.%s" % cls, "element_spec": None, "cardinality": None}
    if isinstance(value, types.GeneratorType):
        return {"kind": "dataset", "source": "generator", "element_spec": None, "cardinality": None}
    if np is not None and top == "tensorflow":
        tf = sys.modules.get("tensorflow")
        tensor = getattr(tf, "Tensor", None) if tf is not None else None
        if tensor is not None and isinstance(value, tensor) and hasattr(value, "numpy"):
            return digest_array(np.asarray(value.numpy()), "tensorflow")
        variable = getattr(tf, "Variable", None) if tf is not None else None
        if variable is not None and isinstance(value, variable):
            return digest_array(np.asarray(value.numpy()), "tensorflow")
        return _unknown(value, "a TensorFlow value that is neither an eager tensor nor a tf.data dataset")
    if np is not None and top == "torch" and "Tensor" in [c for _, c in chain]:
        return digest_array(np.asarray(value.detach().cpu().numpy()), "torch")
    if np is not None and top in ("jax", "jaxlib") and hasattr(value, "__array__"):
        return digest_array(np.asarray(value), "jax")
    if np is not None and top == "pandas" and hasattr(value, "to_numpy"):
        return digest_array(np.asarray(value.to_numpy()), "pandas")
    if isinstance(value, dict):
        if depth >= 6:
            return _unknown(value, "nested too deep")
        return _structure(value.items(), where, depth)
    if isinstance(value, (list, tuple)):
        first = value[0] if len(value) else None
        if np is not None and (len(value) == 0 or _scalar(first) is not _NOT_SCALAR or isinstance(first, (list, tuple)) and _list_of_numbers(first)):
            array = np.asarray(value)
            if array.dtype.hasobject:
                return _unknown(value, "a ragged or mixed list")
            return digest_array(array, "list")
        if depth >= 6:
            return _unknown(value, "nested too deep")
        return _structure(enumerate(value), where, depth)
    if hasattr(value, "__next__") or "collections.abc" in modules:
        return {"kind": "dataset", "source": _type_name(value), "element_spec": None, "cardinality": None}
    return _unknown(value, "not an array, a dataset or a structure of them")


def _structure(pairs, where, depth):
    """A structure digest; past MAX_ITEMS - 1 items the rest are digested together in one entry."""
    items = {}
    rest = None
    for i, (key, value) in enumerate(pairs):
        d = digest(value, "%s.%s" % (where, key), depth + 1)
        if i < MAX_ITEMS - 1:
            items[str(key)] = d
            continue
        if rest is None:
            rest = [hashlib.sha256(), 0]
        rest[0].update(json.dumps([str(key), d], sort_keys=True).encode("utf-8"))
        rest[1] += 1
    if rest is not None:
        items["..."] = {"kind": "unknown", "source": "structure", "reason": "%d more items, digested together: sha256 %s" % (rest[1], rest[0].hexdigest())}
    return {"kind": "structure", "items": items}


def _list_of_numbers(value):
    while isinstance(value, (list, tuple)) and len(value):
        value = value[0]
    return not isinstance(value, (list, tuple)) and _scalar(value) is not _NOT_SCALAR


# --------------------------------------------------------------------------------------------
# Model.fit


FIT_PARAMETERS = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle", "class_weight", "sample_weight"]
FIT_DEFAULTS = {"x": None, "y": None, "batch_size": None, "epochs": 1, "verbose": "auto", "callbacks": None, "validation_split": 0.0, "validation_data": None, "shuffle": True, "class_weight": None, "sample_weight": None}
LAYER_KEYS = ["units", "filters", "kernel_size", "strides", "activation", "rate", "seed", "use_bias", "kernel_initializer", "bias_initializer", "dtype"]
_signatures = {}


def _fit_arguments(original, model, args, kwargs):
    """fit's arguments by name, as the original's signature binds them (defaults applied)."""
    try:
        signature = _signatures.get(id(original))
        if signature is None:
            import inspect

            signature = _signatures[id(original)] = inspect.signature(original)
        bound = signature.bind(model, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        for name, parameter in signature.parameters.items():
            if parameter.kind == parameter.VAR_KEYWORD and isinstance(arguments.get(name), dict):
                arguments.update(arguments.pop(name))
        return arguments
    except Exception:
        arguments = dict(FIT_DEFAULTS)
        for name, value in zip(FIT_PARAMETERS, args):
            arguments[name] = value
        arguments.update(kwargs)
        return arguments


def _product(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _weights_count(weights):
    return sum(_product(tuple(w.shape)) for w in weights)


def _layer_value(key, value):
    if key in ("kernel_initializer", "bias_initializer"):
        if isinstance(value, dict):
            config = value.get("config") if isinstance(value.get("config"), dict) else {}
            return {"class": _jsonable(value.get("class_name")), "seed": _jsonable(config.get("seed"))}
        if isinstance(value, str):
            return {"class": value, "seed": None}
        return {"class": type(value).__name__, "seed": _jsonable(getattr(value, "seed", None))}
    if key == "dtype" and isinstance(value, dict):
        config = value.get("config") if isinstance(value.get("config"), dict) else {}
        return _jsonable(config.get("name", value.get("class_name")))
    if key == "activation" and isinstance(value, dict):
        return _jsonable(value.get("class_name") or value.get("config"))
    return _jsonable(value)


def _layer(layer, where):
    entry = {"class": type(layer).__name__, "name": _clip(getattr(layer, "name", ""), 500), "config": {}, "params": 0}
    try:
        config = layer.get_config()
        for key in LAYER_KEYS:
            if key in config:
                entry["config"][key] = _layer_value(key, config[key])
    except Exception as error:
        _error(where + ".config", error)
    try:
        policy_name = getattr(getattr(layer, "dtype_policy", None), "name", None)
        if isinstance(policy_name, str):
            entry["config"]["dtype"] = policy_name
    except Exception:
        pass
    try:
        entry["params"] = int(layer.count_params()) if getattr(layer, "built", True) else _weights_count(layer.weights)
    except Exception:
        try:
            entry["params"] = _weights_count(layer.weights)
        except Exception as error:
            _error(where + ".params", error)
    return entry


def _config_default(value):
    # str(), as json.dumps(default=str) would, less the memory addresses ("<function f at 0x7f..>")
    # that would make the digest differ between two runs of the same model.
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(value))


def _initial_weights(model):
    np = _np()
    if not getattr(model, "built", False) or np is None:
        return None
    h = hashlib.sha256()
    for w in list(model.weights):
        value = w.numpy() if hasattr(w, "numpy") else w
        array = np.asarray(value)
        header = json.dumps([str(getattr(w, "name", "")), [int(d) for d in array.shape], str(array.dtype)], separators=(",", ":"))
        h.update(header.encode("utf-8") + b"\n")
        _hash_into(h, array)
    return h.hexdigest()


def _model(model, where):
    entry = {
        "class": type(model).__name__,
        "name": _clip(getattr(model, "name", ""), 500),
        "config_sha256": None,
        "layers": [],
        "params": 0,
        "trainable_params": 0,
        "initial_weights_sha256": None,
    }
    try:
        text = json.dumps(model.get_config(), sort_keys=True, separators=(",", ":"), default=_config_default)
        entry["config_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except Exception as error:
        _error(where + ".config_sha256", error)
    try:
        for i, layer in enumerate(list(getattr(model, "layers", None) or [])):
            entry["layers"].append(_layer(layer, "%s.layers[%d]" % (where, i)))
    except Exception as error:
        _error(where + ".layers", error)
    try:
        if getattr(model, "built", False):
            entry["params"] = int(model.count_params())
        else:
            entry["params"] = sum(layer["params"] for layer in entry["layers"])
    except Exception as error:
        entry["params"] = sum(layer["params"] for layer in entry["layers"])
        _error(where + ".params", error)
    try:
        entry["trainable_params"] = _weights_count(model.trainable_weights)
    except Exception as error:
        _error(where + ".trainable_params", error)
    try:
        entry["initial_weights_sha256"] = _initial_weights(model)
    except Exception as error:
        _error(where + ".initial_weights_sha256", error)
    return entry


def _optimizer(model, where):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    entry = {"class": type(optimizer).__name__, "config": {}}
    try:
        for key, value in optimizer.get_config().items():
            ok, j = _strict_json(value)
            if ok:
                entry["config"][str(key)] = j
    except Exception as error:
        _error(where + ".optimizer", error)
    return entry


def _metrics(model):
    compile_config = getattr(model, "_compile_config", None)
    config = getattr(compile_config, "config", None)
    if isinstance(config, dict) and "metrics" in config:
        return config["metrics"]
    compiled = getattr(model, "compiled_metrics", None)
    if compiled is not None and hasattr(compiled, "_user_metrics"):
        return compiled._user_metrics
    return None


def _callbacks(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [type(c).__name__ for c in value]
    inner = getattr(value, "callbacks", None)
    if isinstance(inner, (list, tuple)):
        return [type(c).__name__ for c in inner]
    return [type(value).__name__]


def _number(value):
    s = _scalar(value)
    return s if isinstance(s, (int, float)) and not isinstance(s, bool) else None


def _fit_start(api, original, model, args, kwargs):
    with _lock:
        index = len(_record["fits"])
    where = "fit[%d]" % index
    arguments = _fit_arguments(original, model, args, kwargs)
    keras_version = None
    backend = None
    try:
        if api == "keras":
            keras = sys.modules.get("keras")
            keras_version = _module_version(keras)
            backend = str(keras.backend.backend())
        else:
            keras_version = _module_version(sys.modules.get("tf_keras" if api == "tf_keras" else "keras"))
            backend = "tensorflow"
    except Exception as error:
        _error(where + ".backend", error)
    entry = {
        "api": api,
        "keras_version": keras_version,
        "backend": backend,
        "index": index,
        "model": _model(model, where + ".model"),
        "optimizer": None,
        "loss": None,
        "metrics": None,
        "epochs": _number(arguments.get("epochs")),
        "batch_size": _number(arguments.get("batch_size")),
        "shuffle": _jsonable(arguments.get("shuffle")),
        "validation_split": _number(arguments.get("validation_split")),
        "class_weight": _jsonable(arguments.get("class_weight")),
        "callbacks": [],
        "data": None,
    }
    try:
        entry["optimizer"] = _optimizer(model, where)
    except Exception as error:
        _error(where + ".optimizer", error)
    try:
        entry["loss"] = _names(getattr(model, "loss", None))
    except Exception as error:
        _error(where + ".loss", error)
    try:
        entry["metrics"] = _names(_metrics(model))
    except Exception as error:
        _error(where + ".metrics", error)
    try:
        entry["callbacks"] = _callbacks(arguments.get("callbacks"))
    except Exception as error:
        _error(where + ".callbacks", error)
    entry["data"] = {
        "x": digest(arguments.get("x"), where + ".x"),
        "y": digest(arguments.get("y"), where + ".y"),
        "validation": digest(arguments.get("validation_data"), where + ".validation_data"),
        "sample_weight": digest(arguments.get("sample_weight"), where + ".sample_weight"),
    }
    with _lock:
        full = len(_record["fits"]) >= MAX_FITS
        if not full:
            entry["index"] = len(_record["fits"])
            _record["fits"].append(entry)
    if full:
        _error("fit", "more than %d fits: the later ones are not recorded" % MAX_FITS)


def _wrap_fit(original, api):
    def fit(self, *args, **kwargs):
        if getattr(_tls, "in_fit", False):
            # A fit inside a recorded fit (the method patched twice, or a model that delegates
            # to another's fit): the outer call is the one recorded.
            return original(self, *args, **kwargs)
        recorded = False
        try:
            _fit_start(api, original, self, args, kwargs)
            recorded = True
        except Exception as error:
            _error("fit", error)
        _tls.in_fit = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _tls.in_fit = False
            if recorded:
                _write("after fit")

    try:
        import functools

        functools.update_wrapper(fit, original)
    except Exception:
        pass
    setattr(fit, MARK, original)
    return fit


def _patch_fit(model_class, api):
    """Model.fit, set on the Model class itself, wrapping the fit it resolves to (Keras 3: the
    backend trainer's), so every subclass and every model kind records one call per user call."""
    if model_class is None:
        return
    original = getattr(model_class, "fit", None)
    if original is None or getattr(original, MARK, None) is not None:
        return
    setattr(model_class, "fit", _wrap_fit(original, api))


# --------------------------------------------------------------------------------------------
# The state at exit


def _call(where, f):
    try:
        return bool(f())
    except Exception as error:
        _error(where, error)
        return None


def _torch_state():
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    state = {"deterministic_algorithms": None, "cudnn_deterministic": None, "cudnn_benchmark": None, "allow_tf32_matmul": None, "allow_tf32_cudnn": None}
    enabled = getattr(torch, "are_deterministic_algorithms_enabled", None)
    if enabled is not None:
        state["deterministic_algorithms"] = _call("torch.are_deterministic_algorithms_enabled", enabled)
    cudnn = sys.modules.get("torch.backends.cudnn")
    if cudnn is not None:
        state["cudnn_deterministic"] = _call("torch.backends.cudnn.deterministic", lambda: cudnn.deterministic)
        state["cudnn_benchmark"] = _call("torch.backends.cudnn.benchmark", lambda: cudnn.benchmark)
        state["allow_tf32_cudnn"] = _call("torch.backends.cudnn.allow_tf32", lambda: cudnn.allow_tf32)
    cuda = sys.modules.get("torch.backends.cuda")
    if cuda is not None:
        state["allow_tf32_matmul"] = _call("torch.backends.cuda.matmul.allow_tf32", lambda: cuda.matmul.allow_tf32)
    return state


def _tensorflow_state():
    if "tensorflow" not in sys.modules:
        return None
    state = {"onednn_enabled": None, "op_determinism": None, "tf32_enabled": None}
    # TensorFlow's own answer (the TF_ENABLE_ONEDNN_OPTS setting and the CPU's default, as the
    # runtime resolved them); TF 2.21 has no public function for it.
    mkl = _attr("tensorflow.python.util._pywrap_util_port", "IsMklEnabled")
    if mkl is not None:
        state["onednn_enabled"] = _call("tensorflow onednn", mkl)
    # tf.config.experimental has no is_op_determinism_enabled in TF 2.21: the implementation
    # module has.
    determinism = _attr("tensorflow.python.framework.config", "is_op_determinism_enabled")
    if determinism is not None:
        state["op_determinism"] = _call("tensorflow op_determinism", determinism)
    tf32 = _attr("tensorflow.python.framework.config", "tensor_float_32_execution_enabled")
    if tf32 is not None:
        state["tf32_enabled"] = _call("tensorflow tf32_enabled", tf32)
    return state


# The numerics libraries, longest prefix first (libcublasLt before libcublas). numpy 2's wheels
# carry OpenBLAS as libscipy_openblas*.
LIBRARY_PREFIXES = [
    ("libcublasLt", "libcublasLt"),
    ("libcublas", "libcublas"),
    ("libcudnn", "libcudnn"),
    ("libnccl", "libnccl"),
    ("libcudart", "libcudart"),
    ("libcufft", "libcufft"),
    ("libcurand", "libcurand"),
    ("libcusolver", "libcusolver"),
    ("libcusparse", "libcusparse"),
    ("libnvrtc", "libnvrtc"),
    ("libmkl", "libmkl"),
    ("libdnnl", "libdnnl"),
    ("libscipy_openblas", "libopenblas"),
    ("libopenblas", "libopenblas"),
    ("libgomp", "libgomp"),
    ("libiomp5", "libiomp5"),
]
_SO_VERSION = re.compile(r"\.so\.([0-9]+(?:\.[0-9]+)*)$")


def libraries(maps="/proc/self/maps"):
    """The numerics libraries mapped into this process, unique by path; None without /proc."""
    try:
        with open(maps) as f:
            lines = f.read().splitlines()
    except (IOError, OSError):
        return None
    found = []
    seen = set()
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5].strip()
        if path.endswith(" (deleted)"):
            path = path[: -len(" (deleted)")]
        if not path.startswith("/") or path in seen:
            continue
        base = os.path.basename(path)
        for prefix, name in LIBRARY_PREFIXES:
            if base.startswith(prefix):
                seen.add(path)
                match = _SO_VERSION.search(base)
                found.append({"name": name, "path": path, "version": match.group(1) if match else None})
                break
    return found


# --------------------------------------------------------------------------------------------
# Writing


def _collect_state():
    for key, f in (("torch", _torch_state), ("tensorflow", _tensorflow_state), ("libraries", libraries)):
        try:
            value = f()
            with _lock:
                _record[key] = value
        except Exception as error:
            _error(key, error)


def _write(why):
    """Writes the record atomically; only in the process that started recording."""
    if not _state["active"] or os.getpid() != _state["pid"]:
        return
    _collect_state()
    path = _state["path"]
    tmp = None
    try:
        with _lock:
            if _record["python"] is None:
                import platform

                _record["python"] = platform.python_version()
            text = json.dumps(_record, allow_nan=False)
        directory, base = os.path.split(path)
        # A container's record folder (/tmp/snapshot-record) does not exist until the first write.
        if directory and not os.path.isdir(directory):
            os.makedirs(directory)
        tmp = os.path.join(directory, ".%s.%d.tmp" % (base, os.getpid()))
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except Exception as error:
        _error("write (%s)" % why, error)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except Exception:
                pass
        if not _state["warned"]:
            _state["warned"] = True
            try:
                sys.stderr.write("snapshot recorder: could not write %s (%s: %s)\n" % (path, type(error).__name__, error))
            except Exception:
                pass


def _at_exit():
    _write("exit")


def _register_atexit():
    # atexit runs the last registered first: registered again after each framework loads, the
    # record is written before the frameworks' own exit handlers tear them down.
    try:
        atexit.unregister(_at_exit)
        atexit.register(_at_exit)
    except Exception as error:
        _error("atexit", error)


def activate(environ=None):
    """Starts recording, when SNAPSHOT_RECORD_FILE is set. Idempotent."""
    environ = os.environ if environ is None else environ
    if _state["active"]:
        return
    path = environ.get("SNAPSHOT_RECORD_FILE")
    if not path:
        return
    _state["path"] = os.path.abspath(path)
    _state["pid"] = os.getpid()
    _state["also_seed"] = environ.get("SNAPSHOT_RECORD_ALSO_SEED") == "1"
    _state["op_determinism"] = environ.get("SNAPSHOT_RECORD_OP_DETERMINISM") == "1"
    # A child interpreter (spawn, subprocess) inherits PYTHONPATH but not these: it runs
    # unrecorded instead of overwriting the record.
    environ.pop("SNAPSHOT_RECORD_FILE", None)
    environ.pop("SNAPSHOT_RECORD_ALSO_SEED", None)
    environ.pop("SNAPSHOT_RECORD_OP_DETERMINISM", None)
    _state["active"] = True
    _register_atexit()
    try:
        _patch_random()
    except Exception as error:
        _error("patch random", error)
    for name in _PATCHERS:
        if name in sys.modules:
            _after_import(name)
    try:
        _state["finder"] = _Finder([n for n in _PATCHERS if n not in sys.modules])
        sys.meta_path.insert(0, _state["finder"])
    except Exception as error:
        _error("meta_path", error)
