// Two runs' records compared: what the training did differently, before any weight is compared.
// The seeds and their order, each fit's data digests, model, initial weights and parameters, and
// what TensorFlow and torch said about their numerics at exit. Each difference carries a severity
// as the environment's do, and the category `run`, which explains a changed result first: other
// data at fit outranks another host name. Pure: two records in, a list out.
import type { DataDigest, RecordedCall, RecordedFit, RunRecording } from './recording.js';
import type { SnapshotDifference } from './snapshot-diff.js';

type Side = string | null;

function digestText(d: DataDigest | undefined): Side {
  if (d === undefined) return null;
  switch (d.kind) {
    case 'array':
      return `${d.source} ${d.dtype}[${d.shape.join(',')}] sha256:${d.sha256.slice(0, 16)}`;
    case 'dataset':
      return `${d.source} ${d.element_spec ?? '?'} cardinality ${d.cardinality ?? '?'}`;
    case 'structure':
      return `{${Object.keys(d.items).sort().join(', ')}}`;
    case 'none':
      return 'none';
    case 'unknown':
      return `${d.source} (not digested: ${d.reason})`;
  }
}

/** The digest leaves of a data argument, by their path inside it (x, x.image, x.0). */
function leaves(d: DataDigest, at: string, out: Map<string, DataDigest>): void {
  if (d.kind === 'structure') for (const [k, v] of Object.entries(d.items)) leaves(v, `${at}.${k}`, out);
  else out.set(at, d);
}

function callsText(calls: readonly RecordedCall[]): string[] {
  return calls.map((c) => `${c.call}(${c.args.map((a) => JSON.stringify(a)).join(', ')})${c.via ? ` via ${c.via}` : ''}`);
}

function json(value: unknown): Side {
  if (value === undefined) return null;
  return JSON.stringify(value) ?? null;
}

class Differences {
  readonly items: SnapshotDifference[] = [];

  add(field: string, severity: SnapshotDifference['severity'], baseline: Side, replay: Side, why: string, category: SnapshotDifference['category'] = 'run'): void {
    if (baseline === replay) return;
    this.items.push({ field, category, severity, baseline, replay, why });
  }
}

function compareFit(list: Differences, i: number, a: RecordedFit, b: RecordedFit): void {
  const at = `run.record.fits.${i}`;
  // The data first: identical raw files with another split or normalisation show here.
  const [da, db] = [new Map<string, DataDigest>(), new Map<string, DataDigest>()];
  for (const key of ['x', 'y', 'validation', 'sample_weight'] as const) {
    leaves(a.data[key], key, da);
    leaves(b.data[key], key, db);
  }
  for (const key of [...new Set([...da.keys(), ...db.keys()])]) {
    const [x, y] = [da.get(key), db.get(key)];
    const why =
      x?.kind === 'array' && y?.kind === 'array' && x.dtype === y.dtype && x.shape.join(',') === y.shape.join(',')
        ? 'the same shape and dtype with other values reached fit: another split, order or preprocessing of the data'
        : 'other data reached fit (shape, dtype or kind)';
    list.add(`${at}.data.${key}`, 'high', digestText(x), digestText(y), why);
  }
  list.add(`${at}.model.config_sha256`, 'high', a.model.config_sha256, b.model.config_sha256, 'another model architecture (layers, units, activations, initializers)');
  const layersA = a.model.layers.map((l) => `${l.class} ${l.name}`);
  const layersB = b.model.layers.map((l) => `${l.class} ${l.name}`);
  if (a.model.config_sha256 !== b.model.config_sha256) list.add(`${at}.model.layers`, 'info', layersA.join(', '), layersB.join(', '), 'the layers in order');
  list.add(`${at}.model.params`, 'high', String(a.model.params), String(b.model.params), 'another parameter count');
  list.add(`${at}.model.initial_weights_sha256`, 'high', a.model.initial_weights_sha256, b.model.initial_weights_sha256, 'other initial weights: the initialisation is seeded differently, or not at all');
  list.add(`${at}.optimizer`, 'high', json(a.optimizer), json(b.optimizer), 'another optimizer or optimizer setting (learning rate...)');
  for (const key of ['epochs', 'batch_size', 'shuffle', 'validation_split', 'class_weight'] as const) {
    list.add(`${at}.${key}`, 'high', json(a[key]), json(b[key]), `another ${key.replace('_', ' ')} for fit`);
  }
  list.add(`${at}.loss`, 'high', json(a.loss), json(b.loss), 'another loss');
  list.add(`${at}.metrics`, 'low', json(a.metrics), json(b.metrics), 'other metrics (reported, not trained on)');
  list.add(`${at}.callbacks`, 'medium', a.callbacks.join(', ') || null, b.callbacks.join(', ') || null, 'other callbacks (early stopping, learning-rate schedules change training)');
  list.add(`${at}.api`, 'high', `${a.api} ${a.keras_version ?? ''}`.trim(), `${b.api} ${b.keras_version ?? ''}`.trim(), 'another Keras');
  list.add(`${at}.backend`, 'high', a.backend, b.backend, 'another Keras backend');
}

/** What the replay's training did differently from the baseline's; nothing when either was not recorded. */
export function diffRecordings(a: RunRecording | null | undefined, b: RunRecording | null | undefined): SnapshotDifference[] {
  if (!a || !b) return [];
  const list = new Differences();
  const [seedsA, seedsB] = [callsText(a.seeds), callsText(b.seeds)];
  list.add('run.record.seeds', 'high', seedsA.join('; ') || null, seedsB.join('; ') || null, 'the training seeded with other calls or values');
  list.add('run.record.switches', 'high', callsText(a.switches).join('; ') || null, callsText(b.switches).join('; ') || null, 'other determinism switches were called');
  list.add('run.record.fits', 'high', String(a.fits.length), String(b.fits.length), 'fit was called another number of times');
  for (let i = 0; i < Math.min(a.fits.length, b.fits.length); i++) compareFit(list, i, a.fits[i] as RecordedFit, b.fits[i] as RecordedFit);
  for (const key of ['onednn_enabled', 'op_determinism', 'tf32_enabled'] as const) {
    const [x, y] = [a.tensorflow?.[key], b.tensorflow?.[key]];
    if (x === undefined || y === undefined || x === null || y === null) continue;
    list.add(`run.record.tensorflow.${key}`, 'high', String(x), String(y), `TensorFlow reported ${key.replace(/_/g, ' ')} differently at exit`, 'numerics-env');
  }
  for (const key of ['deterministic_algorithms', 'cudnn_deterministic', 'cudnn_benchmark', 'allow_tf32_matmul', 'allow_tf32_cudnn'] as const) {
    const [x, y] = [a.torch?.[key], b.torch?.[key]];
    if (x === undefined || y === undefined || x === null || y === null) continue;
    list.add(`run.record.torch.${key}`, 'high', String(x), String(y), `torch's ${key.replace(/_/g, ' ')} differed at exit`, 'numerics-env');
  }
  // What was really loaded: a cuDNN or cuBLAS of another version changes kernels.
  if (a.libraries !== null && b.libraries !== null) {
    const byName = (libs: NonNullable<RunRecording['libraries']>) => {
      const out = new Map<string, string>();
      for (const l of libs) out.set(l.name, [out.get(l.name), l.version ?? '?'].filter(Boolean).join(', '));
      return out;
    };
    const [la, lb] = [byName(a.libraries), byName(b.libraries)];
    for (const name of [...new Set([...la.keys(), ...lb.keys()])].sort()) {
      const numerics = /^lib(cudnn|cublas|cublasLt|nccl|cudart|cufft|curand|cusolver|cusparse|mkl|dnnl|openblas)/.test(name);
      list.add(`run.record.libraries.${name}`, numerics ? 'high' : 'low', la.get(name) ?? null, lb.get(name) ?? null, 'the process loaded another version of this library (or did not load it)', 'cuda');
    }
  }
  return list.items;
}
