// HDF5 (.h5: Keras 3 `model.weights.h5`, legacy `model.save('x.h5')`, anything h5py writes):
// every dataset by path, its dtype, shape and values, plus the root attributes.
//
// h5wasm's Node build uses Emscripten's NODERAWFS: it reads the real file system directly through
// the HDF5 library, so a file is NOT copied into memory; only the blocks we read are. Values are
// read in blocks of rows (Dataset.slice over the first axis, ~8 MiB a block) and fed as raw bytes
// into the same tensor accumulator that .npy/.npz use, so NaN and tolerance semantics are the same
// across formats. A block is at least one row, so a dataset with one huge row ([1, 10^9]) is still
// read whole (twice its size in memory: the wasm heap copy and the JS copy).
//
// h5wasm converts big-endian data to little-endian as it reads (H5Tset_order on the memory type), so
// the accumulator always gets little-endian bytes; the reported dtype keeps the file's byte order.
import { combineStatuses } from '../core/compare/verdict.js';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { compareValues } from '../core/compare/metrics.js';
import { BITWISE, blankTensorDiff, type MetricDiff, type OutputReport, type TensorDiff, type Tolerance } from '../core/compare/model.js';
import { elementCount, type NpyDtype } from '../core/compare/npy-header.js';
import { createTensorAccumulator } from '../core/compare/tensor-compare.js';
import { describeFsError } from './fs.js';

export interface H5Comparison {
  /** One per dataset present on both sides, sorted by path. */
  tensors: TensorDiff[];
  /** Dataset paths in the baseline only. */
  missing: string[];
  /** Dataset paths in the candidate only. */
  extra: string[];
  /** Root attributes compared exactly (key '@name'), every one, identical included. */
  attributes: MetricDiff[];
  /** Set when a file cannot be opened or read; then the lists above may be partial or empty. */
  error?: string;
}

export interface H5CompareOptions {
  /**
   * Root attribute names not to compare. None are volatile in Keras files (legacy `model.save`
   * writes backend, keras_version, model_config, training_config, all deterministic), so the
   * default is none; a policy may pass its own.
   */
  ignoreAttributes?: readonly string[];
  /** Bytes per read block (default 8 MiB). */
  blockBytes?: number;
}

const DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024;
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]); // \x89HDF\r\n\x1a\n

// H5T_class_t
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_COMPOUND = 6;
const H5T_ENUM = 8;

let readyModule: Promise<void> | null = null;

/**
 * Loads the wasm module once. HDF5's errors are switched from printing an error stack on stderr to
 * throwing a JS Error (h5wasm's own handler); this process-wide setting is fine because this module
 * is the only h5wasm user.
 */
function ready(): Promise<void> {
  readyModule ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
  });
  return readyModule;
}

/**
 * True when the file carries the HDF5 signature at offset 0, 512, 1024, 2048, … (a user block may
 * precede the superblock). Checked before h5wasm opens it, for a clear message.
 */
export async function hasHdf5Signature(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(SIGNATURE.length);
    for (let offset = 0; offset + SIGNATURE.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      const { bytesRead } = await handle.read(buffer, 0, SIGNATURE.length, offset);
      if (bytesRead === SIGNATURE.length && buffer.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/** The most telling line of an HDF5 error stack ("minor: Not an HDF5 file"), or the message itself. */
function hdf5Reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const minors = [...text.matchAll(/minor: (.+)/g)].map((m) => (m[1] ?? '').trim());
  const last = minors[minors.length - 1];
  return last ?? text.split('\n')[0] ?? text;
}

interface DatasetInfo {
  /** numpy-style dtype string from the file ('<f4', '>i8', '|u1', '|S10', 'str', …). */
  dtype: string;
  /** For numeric datasets: the accumulator's dtype (always little-endian, as h5wasm delivers it). */
  numeric: NpyDtype | null;
  shape: number[];
}

function describeDataset(dataset: Dataset): DatasetInfo {
  const m = dataset.metadata;
  const shape = m.shape ?? [];
  const order = m.size === 1 ? '|' : m.littleEndian ? '<' : '>';
  if (m.type === H5T_INTEGER || m.type === H5T_FLOAT) {
    const code = m.type === H5T_FLOAT ? 'f' : m.signed ? 'i' : 'u';
    const supported = m.type === H5T_FLOAT ? [4, 8].includes(m.size) : [1, 2, 4, 8].includes(m.size);
    const dtype = `${order}${code}${m.size}`;
    // h5wasm cannot build a typed array for float16: such datasets take the exact (JSON) path and fail with a message.
    return { dtype, shape, numeric: supported ? { descr: dtype, kind: code, itemsize: m.size, littleEndian: true } : null };
  }
  if (m.type === H5T_STRING) return { dtype: m.vlen ? 'str' : `|S${m.size}`, shape, numeric: null };
  if (m.type === H5T_ENUM) return { dtype: `enum${m.size}`, shape, numeric: null };
  if (m.type === H5T_COMPOUND) return { dtype: `compound${m.size}`, shape, numeric: null };
  return { dtype: `h5class${m.type}/${m.size}`, shape, numeric: null };
}

/** The bytes of a value h5wasm returned: a typed array's own bytes, or a scalar encoded little-endian. */
function valueBytes(value: unknown, dtype: NpyDtype): Uint8Array {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const out = new Uint8Array(dtype.itemsize);
  const view = new DataView(out.buffer);
  if (typeof value === 'bigint') {
    if (dtype.kind === 'u') view.setBigUint64(0, value, true);
    else view.setBigInt64(0, value, true);
    return out;
  }
  if (typeof value !== 'number') throw new Error(`unexpected value of type ${typeof value}`);
  if (dtype.kind === 'f') {
    if (dtype.itemsize === 4) view.setFloat32(0, value, true);
    else view.setFloat64(0, value, true);
  } else if (dtype.itemsize === 1) {
    if (dtype.kind === 'i') view.setInt8(0, value);
    else view.setUint8(0, value);
  } else if (dtype.itemsize === 2) {
    if (dtype.kind === 'i') view.setInt16(0, value, true);
    else view.setUint16(0, value, true);
  } else if (dtype.kind === 'i') view.setInt32(0, value, true);
  else view.setUint32(0, value, true);
  return out;
}

/** All datasets under a group, by path without the leading '/', in sorted order. */
function listDatasets(root: Group): Map<string, Dataset> {
  const found = new Map<string, Dataset>();
  const visit = (group: Group, prefix: string): void => {
    for (const name of group.keys()) {
      const entity = group.get(name);
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (entity instanceof h5wasm.Dataset) found.set(path, entity);
      else if (entity instanceof h5wasm.Group) visit(entity, path);
      // Soft/external links, committed datatypes: not data of this file.
    }
  };
  visit(root, '');
  return new Map([...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function baseDiff(name: string, a: DatasetInfo, b: DatasetInfo, tolerance: Tolerance): TensorDiff {
  return blankTensorDiff(name, 'identical', tolerance, {
    dtype: { baseline: a.dtype, candidate: b.dtype },
    shape: { baseline: a.shape, candidate: b.shape },
    elements: elementCount(a.shape),
  });
}

function compareDataset(name: string, a: Dataset, b: Dataset, tolerance: Tolerance, blockBytes: number): TensorDiff {
  const ia = describeDataset(a);
  const ib = describeDataset(b);
  const diff = baseDiff(name, ia, ib, tolerance);
  if (ia.dtype !== ib.dtype) return { ...diff, status: 'different', message: 'dtype differs' };
  if (ia.shape.length !== ib.shape.length || ia.shape.some((d, i) => d !== ib.shape[i])) return { ...diff, status: 'different', message: 'shape differs' };
  const elements = elementCount(ia.shape);
  try {
    if (ia.numeric === null) return compareExact(diff, a, b, tolerance);
    const acc = createTensorAccumulator({ dtype: ia.numeric, shape: ia.shape, tolerance });
    if (elements > 0) {
      if (ia.shape.length === 0) {
        acc.add(valueBytes(a.value, ia.numeric), valueBytes(b.value, ia.numeric), 0);
      } else {
        const rows = ia.shape[0] as number;
        const rowElements = elements / rows;
        const rowsPerBlock = Math.max(1, Math.floor(blockBytes / (rowElements * ia.numeric.itemsize)));
        for (let start = 0; start < rows; start += rowsPerBlock) {
          const end = Math.min(rows, start + rowsPerBlock);
          acc.add(valueBytes(a.slice([[start, end]]), ia.numeric), valueBytes(b.slice([[start, end]]), ia.numeric), start * rowElements);
        }
      }
    }
    return { ...diff, ...acc.finish() };
  } catch (error) {
    return { ...diff, status: 'error', message: `cannot read dataset: ${hdf5Reason(error)}` };
  }
}

/** Strings, enums, compounds: element by element on their JSON form, exactly (any tolerance is moot). */
function compareExact(diff: TensorDiff, a: Dataset, b: Dataset, tolerance: Tolerance): TensorDiff {
  const va = a.json_value;
  const vb = b.json_value;
  const la = Array.isArray(va) ? va : [va];
  const lb = Array.isArray(vb) ? vb : [vb];
  let mismatched = 0;
  let first = -1;
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (JSON.stringify(la[i]) !== JSON.stringify(lb[i])) {
      mismatched++;
      if (first < 0) first = i;
    }
  }
  const elements = diff.elements;
  const firstIndex = first < 0 ? null : unravel(first, diff.shape.baseline);
  return {
    ...diff,
    status: mismatched > 0 ? 'different' : 'identical',
    mismatched,
    mismatched_fraction: elements > 0 ? mismatched / elements : 0,
    first_mismatch: firstIndex,
    ...(tolerance.mode !== 'bitwise' && mismatched > 0 ? { message: 'non-numeric data, compared exactly' } : {}),
  };
}

function unravel(flat: number, shape: number[]): number[] {
  const idx = shape.map(() => 0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d] as number;
    idx[d] = dim > 0 ? rest % dim : 0;
    rest = dim > 0 ? Math.floor(rest / dim) : 0;
  }
  return idx;
}

function rootAttributes(file: Group): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, attribute] of Object.entries(file.attrs)) {
    try {
      out.set(name, attribute.json_value);
    } catch (error) {
      out.set(name, `<unreadable: ${hdf5Reason(error)}>`);
    }
  }
  return out;
}

function compareAttributes(a: Map<string, unknown>, b: Map<string, unknown>, ignore: readonly string[]): MetricDiff[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].filter((n) => !ignore.includes(n)).sort();
  return names.map((name): MetricDiff => {
    const key = `@${name}`;
    if (!b.has(name)) return { key, status: 'missing', baseline: a.get(name), candidate: null, difference: null, tolerance: null, message: 'attribute missing from the candidate' };
    if (!a.has(name)) return { key, status: 'extra', baseline: null, candidate: b.get(name), difference: null, tolerance: null, message: 'attribute only in the candidate' };
    const va = a.get(name);
    const vb = b.get(name);
    if (Array.isArray(va) || Array.isArray(vb)) {
      const same = JSON.stringify(va) === JSON.stringify(vb);
      return { key, status: same ? 'identical' : 'different', baseline: va, candidate: vb, difference: null, tolerance: null };
    }
    return compareValues(key, va, vb, () => BITWISE);
  });
}

type OpenedFile = InstanceType<typeof h5wasm.File>;

async function openH5(path: string, side: string): Promise<OpenedFile> {
  let signed: boolean;
  try {
    signed = await hasHdf5Signature(path);
  } catch (error) {
    throw new Error(`cannot read ${side} ${path}: ${describeFsError(error)}`);
  }
  if (!signed) throw new Error(`${side} ${path} is not an HDF5 file (no HDF5 signature)`);
  try {
    const file = new h5wasm.File(path, 'r');
    if (file.file_id < 0n) throw new Error('H5Fopen failed');
    return file;
  } catch (error) {
    throw new Error(`cannot open ${side} ${path} as HDF5: ${hdf5Reason(error)}`);
  }
}

/** Compares two HDF5 files dataset by dataset; never throws for a bad file, it reports `error`. Both files are closed before it returns. */
export async function compareH5Files(baselinePath: string, candidatePath: string, tolerance: Tolerance, options: H5CompareOptions = {}): Promise<H5Comparison> {
  await ready();
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  let a: OpenedFile | null = null;
  let b: OpenedFile | null = null;
  try {
    a = await openH5(baselinePath, 'baseline');
    b = await openH5(candidatePath, 'candidate');
    const da = listDatasets(a);
    const db = listDatasets(b);
    const tensors: TensorDiff[] = [];
    const missing: string[] = [];
    for (const [name, dataset] of da) {
      const other = db.get(name);
      if (other === undefined) missing.push(name);
      else tensors.push(compareDataset(name, dataset, other, tolerance, blockBytes));
    }
    const extra = [...db.keys()].filter((name) => !da.has(name));
    const attributes = compareAttributes(rootAttributes(a), rootAttributes(b), options.ignoreAttributes ?? []);
    return { tensors, missing, extra, attributes };
  } catch (error) {
    return { tensors: [], missing: [], extra: [], attributes: [], error: error instanceof Error ? error.message : String(error) };
  } finally {
    a?.close();
    b?.close();
  }
}

/**
 * The datasets of an H5Comparison as one TensorDiff list: a dataset on one side only is a
 * 'different' item (a model that gained or lost a variable has another structure).
 */
export function h5TensorDiffs(result: H5Comparison, tolerance: Tolerance): TensorDiff[] {
  const absent = (name: string, side: 'baseline' | 'candidate'): TensorDiff =>
    blankTensorDiff(name, 'different', tolerance, { message: side === 'baseline' ? 'missing from the candidate' : 'only in the candidate' });
  const all = [...result.tensors, ...result.missing.map((n) => absent(n, 'baseline')), ...result.extra.map((n) => absent(n, 'candidate'))];
  return all.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}


/** A whole .h5 output: the datasets under `tolerance`, the root attributes exactly. */
export async function compareH5Output(baselinePath: string, candidatePath: string, tolerance: Tolerance, path: string = basename(candidatePath), options: H5CompareOptions = {}): Promise<OutputReport> {
  const result = await compareH5Files(baselinePath, candidatePath, tolerance, options);
  if (result.error !== undefined) return { path, format: 'h5', status: 'error', message: result.error };
  const tensors = h5TensorDiffs(result, tolerance);
  const metrics = result.attributes.filter((m) => m.status !== 'identical');
  const status = combineStatuses([...tensors.map((t) => t.status), ...metrics.map((m) => m.status)]);
  const off = tensors.filter((t) => t.status !== 'identical').length;
  return {
    path,
    format: 'h5',
    status,
    ...(off > 0 ? { message: `${off} of ${tensors.length} datasets not identical` } : {}),
    tensors,
    ...(metrics.length > 0 ? { metrics } : {}),
  };
}
