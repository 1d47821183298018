// What the recorder (python/snapshot_recorder) saw the training do, as it writes it: the seed
// calls and determinism switches in call order, each Model.fit with the model, its training
// parameters and digests of the data that reached it, and at exit the native libraries the
// process really loaded. Written by the training's own interpreter, so untrusted: it is validated
// against schemas/run-record.schema.json before anything reads it.

/** The record format's version; the recorder writes it as `recorder`. */
export const RECORD_FORMAT = 1;

/** One call the recorder saw: a seed, or a determinism switch. */
export interface RecordedCall {
  /** Its public name, as a user writes it: `random.seed`, `numpy.random.seed`, `numpy.random.default_rng`, `tf.random.set_seed`, `keras.utils.set_random_seed`, `torch.manual_seed`, `tf.config.experimental.enable_op_determinism`, `torch.use_deterministic_algorithms`, ... */
  call: string;
  /** Its arguments as JSON: numbers, strings, booleans and null kept; anything else its Python type name in angle brackets (`<Generator>`); at most 8, strings at most 200 characters. */
  args: unknown[];
  /** 0, 1, 2, ...: the order of every recorded call (seeds and switches share one count). */
  order: number;
  /** The recorded call this one ran inside (`keras.utils.set_random_seed` seeds `random`, numpy and the backend itself), or null when the training called it directly. */
  via: string | null;
}

/** A digest of data that reached fit(). */
export type DataDigest =
  | {
      kind: 'array';
      /** numpy (numpy.ndarray), tensorflow (tf.Tensor), torch (torch.Tensor), pandas, list. */
      source: string;
      shape: number[];
      dtype: string;
      /** sha256 of the array's bytes in C order, streamed (no copy of a contiguous array). */
      sha256: string;
      bytes: number;
    }
  | {
      kind: 'dataset';
      /** tf.data.Dataset, keras.utils.PyDataset, a Python generator, a torch DataLoader. */
      source: string;
      /** The element spec as its repr (tf.data), or null. */
      element_spec: string | null;
      /** tf.data's cardinality: a count, -1 infinite, -2 unknown; null when not a tf.data dataset. */
      cardinality: number | null;
    }
  /** Several arrays (a tuple, list or dict of inputs), each digested. */
  | { kind: 'structure'; items: Record<string, DataDigest> }
  | { kind: 'none' }
  /** What could not be digested, and why. */
  | { kind: 'unknown'; source: string; reason: string };

export interface RecordedLayer {
  class: string;
  name: string;
  /** The layer's config values that change the numbers: units, filters, kernel_size, activation, rate, use_bias, the initializers by class with their seed, dtype. */
  config: Record<string, unknown>;
  params: number;
}

export interface RecordedFit {
  /** `keras` (Keras 3), `tf.keras` (Keras 2 inside TensorFlow), `tf_keras` (the tf-keras package). */
  api: string;
  keras_version: string | null;
  backend: string | null;
  /** 0, 1, ...: fits in call order. */
  index: number;
  model: {
    class: string;
    name: string;
    /** sha256 of the model's get_config() as canonical JSON (sorted keys, no spaces): the architecture in one value. */
    config_sha256: string | null;
    layers: RecordedLayer[];
    params: number;
    trainable_params: number;
    /** sha256 over the initial weights at fit() start, in model.weights order (each name, shape, dtype and bytes): equal digests, equal initialisation. */
    initial_weights_sha256: string | null;
  };
  optimizer: { class: string; config: Record<string, unknown> } | null;
  loss: unknown;
  metrics: unknown;
  epochs: number | null;
  batch_size: number | null;
  shuffle: unknown;
  validation_split: number | null;
  class_weight: unknown;
  callbacks: string[];
  data: {
    x: DataDigest;
    y: DataDigest;
    validation: DataDigest;
    sample_weight: DataDigest;
  };
}

export interface LoadedLibrary {
  /** libcudnn, libcublas, libcublasLt, libnccl, libcudart, libcufft, libcurand, libcusolver, libcusparse, libnvrtc, libmkl, libdnnl, libopenblas, libgomp, libiomp5. */
  name: string;
  path: string;
  /** From the file name's version suffix (libcudnn.so.9.1.0 -> 9.1.0), or null. */
  version: string | null;
}

export interface RunRecording {
  recorder: number;
  /** The interpreter that ran the training. */
  python: string;
  seeds: RecordedCall[];
  switches: RecordedCall[];
  fits: RecordedFit[];
  /** torch's determinism settings at exit, when torch was imported. */
  torch: { deterministic_algorithms: boolean | null; cudnn_deterministic: boolean | null; cudnn_benchmark: boolean | null; allow_tf32_matmul: boolean | null; allow_tf32_cudnn: boolean | null } | null;
  /** TensorFlow's own answer at exit, when it was imported: oneDNN on, op determinism on, TF32 on. */
  tensorflow: { onednn_enabled: boolean | null; op_determinism: boolean | null; tf32_enabled: boolean | null } | null;
  /** /proc/self/maps at exit: the numerics libraries really loaded; null where there is no /proc. */
  libraries: LoadedLibrary[] | null;
  /** What the recorder could not do (a hook that failed, a digest that did not finish): never the training's failure. */
  errors: Array<{ where: string; message: string }>;
}
