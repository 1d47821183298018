// HDF5 (.h5: Keras 3 `model.weights.h5`, legacy `model.save('x.h5')`, anything h5py writes): every
// dataset by path and every attribute at every level (the root, each group, each dataset), for
// the pairing in core. This module reads; core/compare/tensor-pair.ts judges the numeric datasets.
//
// h5wasm's Node build reads the real file system directly through the HDF5 library, so a file is
// not copied into memory; only the blocks we read are. Numeric datasets (float16 included, which
// h5wasm's own typed arrays cannot hold) are read as raw bytes, in blocks of rows (~8 MiB), through
// the library's own read call; HDF5 converts big-endian data to little-endian as it reads, which
// is only storage. Strings, enums and compounds are compared on their JSON form, exactly.
// External links point into other files: they are refused, like symlinks out of a folder.
import { open } from 'node:fs/promises';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { absentItems } from '../core/compare/fold.js';
import { compareValues } from '../core/compare/metrics.js';
import { BITWISE, blankTensorDiff, type MetricDiff, type TensorDiff, type Tolerance } from '../core/compare/model.js';
import { elementCount, type NpyDtype } from '../core/compare/npy-header.js';
import { compareTensorSides, type TensorData, type TensorHeader } from '../core/compare/tensor-pair.js';
import { describeFsError } from './fs.js';

export interface H5Comparison {
  /** One per dataset on both sides (and per object that cannot be compared), sorted by path. */
  tensors: TensorDiff[];
  /** Datasets in the baseline only / in the candidate only: what that means is core's to say (compare/fold.ts). */
  missing: string[];
  extra: string[];
  /** Attributes of every object (key 'path@name', '@name' at the root), identical ones included; and objects that cannot be compared. */
  attributes: MetricDiff[];
  /** Set when a file cannot be opened or read; then the lists above may be partial or empty. */
  error?: string;
}

export interface H5CompareOptions {
  /** Bytes per read block (default 8 MiB). */
  blockBytes?: number;
  /** Tolerance per dataset path (a policy's tensor rules); default: the one given. */
  toleranceFor?: (path: string) => Tolerance;
}

const DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024;
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]); // \x89HDF\r\n\x1a\n

// H5T_class_t
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_COMPOUND = 6;
const H5T_ENUM = 8;

interface H5Module {
  activate_throwing_error_handler(): void;
  get_dataset_data(fileId: bigint, path: string, count: bigint[] | null, offset: bigint[] | null, strides: bigint[] | null, pointer: bigint): number;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
}

let readyModule: Promise<H5Module> | null = null;

/**
 * Loads the wasm module once. HDF5's errors are switched from printing an error stack on stderr to
 * throwing a JS Error (h5wasm's own handler); this process-wide setting is fine because this module
 * is the only h5wasm user.
 */
function ready(): Promise<H5Module> {
  readyModule ??= h5wasm.ready.then((module) => {
    const m = module as unknown as H5Module;
    m.activate_throwing_error_handler();
    return m;
  });
  return readyModule;
}

/** True when the file carries the HDF5 signature at offset 0, 512, 1024, 2048, … (a user block may precede the superblock). */
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
  /** For numeric datasets: the tensor header (little-endian bytes, as HDF5 delivers them). */
  header: TensorHeader | null;
  /** null: a null dataspace (h5py.Empty). */
  shape: number[] | null;
}

function describeDataset(dataset: Dataset): DatasetInfo {
  const m = dataset.metadata;
  const shape = m.shape ?? null;
  const order = m.size === 1 ? '|' : m.littleEndian ? '<' : '>';
  if (m.type === H5T_INTEGER || m.type === H5T_FLOAT) {
    const code = m.type === H5T_FLOAT ? 'f' : m.signed ? 'i' : 'u';
    const supported = m.type === H5T_FLOAT ? [2, 4, 8].includes(m.size) : [1, 2, 4, 8].includes(m.size);
    const dtype = `${order}${code}${m.size}`;
    const numeric: NpyDtype | null = supported ? { descr: dtype, kind: code, itemsize: m.size, littleEndian: true } : null;
    return { dtype, shape, header: numeric ? { dtype: numeric, shape, fortranOrder: false } : null };
  }
  if (m.type === H5T_STRING) return { dtype: m.vlen ? 'str' : `|S${m.size}`, shape, header: null };
  if (m.type === H5T_ENUM) return { dtype: `enum${m.size}`, shape, header: null };
  if (m.type === H5T_COMPOUND) return { dtype: `compound${m.size}`, shape, header: null };
  return { dtype: `h5class${m.type}/${m.size}`, shape, header: null };
}

/** A numeric dataset's raw bytes, read in blocks of rows through HDF5 itself, served sequentially. */
function datasetData(module: H5Module, dataset: Dataset, shape: number[], itemsize: number, blockBytes: number): TensorData {
  const fileId = dataset.file_id as unknown as bigint;
  const rows = shape.length === 0 ? 1 : (shape[0] as number);
  const rowBytes = shape.length === 0 ? itemsize : (elementCount(shape) / Math.max(1, rows)) * itemsize;
  const rowsPerBlock = Math.max(1, Math.floor(blockBytes / Math.max(1, rowBytes)));
  let nextRow = 0;
  let block = new Uint8Array(0);
  let blockOffset = 0;
  const readBlock = (): void => {
    const end = Math.min(rows, nextRow + rowsPerBlock);
    const bytes = shape.length === 0 ? itemsize : (end - nextRow) * rowBytes;
    const pointer = module._malloc(Math.max(1, bytes));
    if (pointer === 0) throw new Error(`cannot allocate ${bytes} bytes to read ${dataset.path}`);
    try {
      if (shape.length === 0) {
        module.get_dataset_data(fileId, dataset.path, null, null, null, BigInt(pointer));
      } else {
        const count = shape.map((d, i) => BigInt(i === 0 ? end - nextRow : d));
        const offset = shape.map((_, i) => BigInt(i === 0 ? nextRow : 0));
        module.get_dataset_data(fileId, dataset.path, count, offset, shape.map(() => 1n), BigInt(pointer));
      }
      block = module.HEAPU8.slice(pointer, pointer + bytes);
    } finally {
      module._free(pointer);
    }
    blockOffset = 0;
    nextRow = end;
  };
  return {
    available: elementCount(shape) * itemsize,
    async read(target, length) {
      let filled = 0;
      while (filled < length) {
        if (blockOffset >= block.length) {
          if (nextRow >= rows) break;
          readBlock();
        }
        const take = Math.min(length - filled, block.length - blockOffset);
        target.set(block.subarray(blockOffset, blockOffset + take), filled);
        filled += take;
        blockOffset += take;
      }
      return filled;
    },
  };
}

interface Listing {
  datasets: Map<string, Dataset>;
  /** Groups by path ('' for the root), for their attributes. */
  groups: Map<string, Group>;
  /** Objects that are not this file's data, with why (external links, broken soft links). */
  refused: Map<string, string>;
}

/** Every dataset and group under the root, by path without the leading '/', sorted. */
function listObjects(root: Group): Listing {
  const datasets = new Map<string, Dataset>();
  const groups = new Map<string, Group>([['', root]]);
  const refused = new Map<string, string>();
  const visit = (group: Group, prefix: string): void => {
    for (const name of group.keys()) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      // Checked before get(): resolving an external link would open, and read, another file.
      const external = group.get_external_link(`/${path}`) as { filename?: string; obj_path?: string } | undefined;
      if (external && typeof external === 'object' && external.filename !== undefined) {
        refused.set(path, `an HDF5 external link to ${JSON.stringify(external.filename)}:${external.obj_path ?? ''}, which is outside this file; not followed`);
        continue;
      }
      const entity = group.get(name);
      if (entity instanceof h5wasm.Dataset) datasets.set(path, entity);
      else if (entity instanceof h5wasm.Group) {
        groups.set(path, entity);
        visit(entity, path);
      } else if (entity !== null && (entity as { type?: string }).type === 'BrokenSoftLink') {
        refused.set(path, `a soft link to ${JSON.stringify((entity as { target?: string }).target ?? '')}, which does not exist`);
      }
      // Committed datatypes: not data.
    }
  };
  visit(root, '');
  const sorted = <T>(m: Map<string, T>) => new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { datasets: sorted(datasets), groups: sorted(groups), refused };
}

/** Strings, enums, compounds: element by element on their JSON form, exactly (any tolerance is moot). */
function compareExact(name: string, a: Dataset, b: Dataset, ia: DatasetInfo, ib: DatasetInfo, tolerance: Tolerance): TensorDiff {
  const diff = blankTensorDiff(name, 'identical', tolerance, {
    dtype: { baseline: ia.dtype, candidate: ib.dtype },
    shape: { baseline: ia.shape ?? [], candidate: ib.shape ?? [] },
  });
  if (ia.dtype !== ib.dtype) return { ...diff, status: 'different', message: `dtype differs: ${ia.dtype} vs ${ib.dtype}` };
  if (ia.shape === null || ib.shape === null) {
    return ia.shape === ib.shape ? { ...diff, message: 'no dataspace on either side (empty)' } : { ...diff, status: 'different', message: 'shape differs: one side has no dataspace (empty)' };
  }
  if (ia.shape.length !== ib.shape.length || ia.shape.some((d, i) => d !== ib.shape?.[i])) return { ...diff, status: 'different', message: `shape differs: [${ia.shape.join(', ')}] vs [${ib.shape.join(', ')}]` };
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
  const elements = elementCount(ia.shape);
  return {
    ...diff,
    elements,
    status: mismatched > 0 ? 'different' : 'identical',
    mismatched,
    mismatched_fraction: elements > 0 ? mismatched / elements : 0,
    first_mismatch: first < 0 ? null : unravel(first, ia.shape),
    message: 'not numeric: compared exactly',
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

/** Every attribute of every object, keyed 'path@name' ('@name' at the root). */
function allAttributes(listing: Listing): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const collect = (path: string, holder: Group | Dataset): void => {
    let attrs;
    try {
      attrs = holder.attrs;
    } catch (error) {
      out.set(`${path}@`, `<attributes unreadable: ${hdf5Reason(error)}>`);
      return;
    }
    for (const [name, attribute] of Object.entries(attrs)) {
      let value: unknown;
      try {
        value = attribute.json_value;
      } catch (error) {
        value = `<unreadable: ${hdf5Reason(error)}>`;
      }
      out.set(`${path}@${name}`, value);
    }
  };
  for (const [path, group] of listing.groups) collect(path, group);
  for (const [path, dataset] of listing.datasets) collect(path, dataset);
  return out;
}

function compareAttributes(a: Map<string, unknown>, b: Map<string, unknown>): MetricDiff[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const missing = keys.filter((k) => !b.has(k));
  const extra = keys.filter((k) => !a.has(k));
  const both = keys.filter((k) => a.has(k) && b.has(k)).map((key): MetricDiff => {
    const va = a.get(key);
    const vb = b.get(key);
    if (typeof va === 'number' && typeof vb === 'number') return compareValues(key, va, vb, () => BITWISE);
    const same = JSON.stringify(va) === JSON.stringify(vb);
    return { key, status: same ? 'identical' : 'different', baseline: va, candidate: vb, difference: null, tolerance: null };
  });
  return [...both, ...absentItems(missing, extra, 'attribute')].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
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

async function compareDataset(module: H5Module, name: string, a: Dataset, b: Dataset, tolerance: Tolerance, blockBytes: number): Promise<TensorDiff> {
  let ia: DatasetInfo;
  let ib: DatasetInfo;
  try {
    ia = describeDataset(a);
    ib = describeDataset(b);
  } catch (error) {
    return blankTensorDiff(name, 'error', tolerance, { message: `cannot read dataset: ${hdf5Reason(error)}` });
  }
  try {
    if (ia.header === null || ib.header === null) return compareExact(name, a, b, ia, ib, tolerance);
    const side = (label: 'baseline' | 'candidate', dataset: Dataset, info: DatasetInfo) => ({
      label,
      header: info.header as TensorHeader,
      data: info.shape === null ? { available: 0, read: async () => 0 } : datasetData(module, dataset, info.shape, (info.header as TensorHeader).dtype.itemsize, blockBytes),
    });
    const diff = await compareTensorSides(side('baseline', a, ia), side('candidate', b, ib), tolerance, name);
    // The file's own dtypes, byte order included, for the report (the bytes arrive little-endian).
    return { ...diff, dtype: { baseline: ia.dtype, candidate: ib.dtype } };
  } catch (error) {
    return blankTensorDiff(name, 'error', tolerance, { dtype: { baseline: ia.dtype, candidate: ib.dtype }, message: `cannot read dataset: ${hdf5Reason(error)}` });
  }
}

/** Compares two HDF5 files dataset by dataset and attribute by attribute; never throws for a bad file. Both files are closed before it returns. */
export async function compareH5Files(baselinePath: string, candidatePath: string, tolerance: Tolerance, options: H5CompareOptions = {}): Promise<H5Comparison> {
  const module = await ready();
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const toleranceFor = options.toleranceFor ?? (() => tolerance);
  let a: OpenedFile | null = null;
  let b: OpenedFile | null = null;
  try {
    a = await openH5(baselinePath, 'baseline');
    b = await openH5(candidatePath, 'candidate');
    const la = listObjects(a);
    const lb = listObjects(b);
    const tensors: TensorDiff[] = [];
    const missing: string[] = [];
    for (const [name, dataset] of la.datasets) {
      const other = lb.datasets.get(name);
      if (other === undefined) missing.push(name);
      else tensors.push(await compareDataset(module, name, dataset, other, toleranceFor(name), blockBytes));
    }
    const extra = [...lb.datasets.keys()].filter((name) => !la.datasets.has(name));
    for (const [label, listing] of [
      ['baseline', la],
      ['candidate', lb],
    ] as const) {
      for (const [name, reason] of listing.refused) tensors.push(blankTensorDiff(name, 'error', toleranceFor(name), { message: `${label} ${name} is ${reason}` }));
    }
    const attributes = compareAttributes(allAttributes(la), allAttributes(lb));
    return { tensors: tensors.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)), missing, extra, attributes };
  } catch (error) {
    return { tensors: [], missing: [], extra: [], attributes: [], error: error instanceof Error ? error.message : String(error) };
  } finally {
    a?.close();
    b?.close();
  }
}
