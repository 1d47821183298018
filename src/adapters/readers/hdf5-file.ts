// HDF5 (.h5: Keras 3 `model.weights.h5`, legacy `model.save('x.h5')`, anything h5py writes): every
// dataset by path, every attribute at every level (the root, each group, each dataset), every
// group (an empty one too) and every link, for the pairing in core. This module reads; core judges:
// core/compare/h5-dtype.ts says what an HDF5 type holds, core/compare/tensor-pair.ts compares.
//
// h5wasm's Node build reads the real file system directly through the HDF5 library, so a file is
// not copied into memory; only the blocks we read are. Datasets of fixed-size types (numbers,
// float16 included, strings, enums, compounds) are read as raw bytes, in blocks of rows (~8 MiB),
// through the library's own read call, and compared bit for bit with their full type (never on a
// JSON rendering, which loses NaN, -0, int64 precision, field names and bytes after a NUL).
// Variable-length strings and sequences are compared by value. Attributes go through the same
// pairing, exactly. Each object is visited once: soft links are compared by their target, a group
// reached again by another hard link (a cycle) is a link to where it was first seen. External
// links point into other files: they are refused, like symlinks out of a folder.
import { open } from 'node:fs/promises';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { absentItems } from '../../core/compare/fold.js';
import { H5T_ARRAY, H5T_BITFIELD, H5T_COMPOUND, H5T_ENUM, H5T_FLOAT, H5T_INTEGER, H5T_STRING, H5T_TIME, H5T_VLEN, h5Dtype, h5IsVariable, h5ReadsConverted, type H5TypeInfo } from '../../core/compare/h5-dtype.js';
import { BITWISE, blankTensorDiff, type MetricDiff, type TensorDiff, type Tolerance } from '../../core/compare/model.js';
import { elementCount, formatShape, type NpyDtype } from '../../core/compare/npy-header.js';
import { halfToNumber } from '../../core/compare/tensor-compare.js';
import { compareTensorSides, compareVariableTensors, type TensorData } from '../../core/compare/tensor-pair.js';
import { describeFsError } from '../fs.js';

export interface H5Comparison {
  /** One per dataset on both sides (and per object that cannot be compared), sorted by path. */
  tensors: TensorDiff[];
  /** Datasets in the baseline only / in the candidate only: what that means is core's to say (compare/fold.ts). */
  missing: string[];
  extra: string[];
  /** Attributes of every object (key 'path@name', '@name' at the root), identical ones included; and objects that cannot be compared. */
  attributes: MetricDiff[];
  /** Groups one side lacks (empty ones included), and links (not followed) compared by their target, identical ones included. */
  structure: MetricDiff[];
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

interface H5Module {
  activate_throwing_error_handler(): void;
  get_dataset_data(fileId: bigint, path: string, count: bigint[] | null, offset: bigint[] | null, strides: bigint[] | null, pointer: bigint): number;
  get_attribute_data(fileId: bigint, path: string, name: string, pointer: bigint): number;
  get_attribute_metadata(fileId: bigint, path: string, name: string): H5Metadata;
  get_attribute_names(fileId: bigint, path: string): string[];
  reclaim_vlen_memory(fileId: bigint, path: string, attribute: string, pointer: bigint): number;
  get_symbolic_link(fileId: bigint, path: string): string | null;
  get_type(fileId: bigint, path: string): number;
  create_object_reference(fileId: bigint, path: string): Uint8Array;
  H5G_LINK: number;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
}

/** h5wasm's description of a datatype and dataspace. */
type H5Metadata = H5TypeInfo & { shape: number[] | null; total_size: number };

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

/** Compiles the wasm module now, so that a later comparison starts at once. */
export async function warmHdf5(): Promise<void> {
  await ready();
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

/** The most telling line of an HDF5 error stack ("minor: Not an HDF5 file"), or the message's first line: never the whole dump. */
function hdf5Reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const minors = [...text.matchAll(/minor: (.+)/g)].map((m) => (m[1] ?? '').trim());
  const last = minors[minors.length - 1];
  return last ?? text.split('\n')[0] ?? text;
}

/** What one dataset or attribute is: its type for the pairing, its shape, and whether its elements have a fixed size. */
interface Described {
  metadata: H5Metadata;
  dtype: NpyDtype;
  /** null: a null dataspace (h5py.Empty). */
  shape: number[] | null;
  /** Variable-length strings or sequences: compared by value (the bytes in memory are pointers). */
  variable: boolean;
}

function describe(metadata: H5Metadata): Described {
  // HDF5 converts a big-endian type to little-endian as h5wasm reads it, and refuses to for an
  // enum: say so instead of its error stack.
  if (holdsEnum(metadata) && h5ReadsConverted(metadata)) throw new Error('a big-endian enum, which HDF5 cannot convert as h5wasm reads it; not compared');
  return { metadata, dtype: h5Dtype(metadata), shape: metadata.shape ?? null, variable: h5IsVariable(metadata) };
}

function holdsEnum(t: H5TypeInfo): boolean {
  if (t.type === H5T_ENUM) return true;
  if (t.type === H5T_COMPOUND) return (t.compound_type?.members ?? []).some(holdsEnum);
  if (t.type === H5T_ARRAY || t.type === H5T_VLEN) return (t.array_type ?? t.vlen_type) !== undefined && holdsEnum((t.array_type ?? t.vlen_type) as H5TypeInfo);
  return false;
}

/** A dataset's raw bytes, read in blocks of rows through HDF5 itself, served sequentially. */
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
    } catch (error) {
      throw new Error(`cannot read dataset: ${hdf5Reason(error)}`);
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

/** Bytes already in memory (an attribute's value), served as tensor data. */
function bytesData(bytes: Uint8Array): TensorData {
  let offset = 0;
  return {
    available: bytes.length,
    async read(target, length) {
      const take = Math.min(length, bytes.length - offset);
      target.set(bytes.subarray(offset, offset + take));
      offset += take;
      return take;
    },
  };
}

/**
 * The value of one element of a variable-length type as bytes that are equal exactly when the
 * values are: strings by their bytes, sequences by their length and elements, numbers in
 * little-endian order; read from the wasm heap, where HDF5 put the pointers.
 */
function serializeElement(heap: Uint8Array, t: H5TypeInfo, address: number, converted: boolean, out: number[], found: { nan: boolean }): void {
  const view = new DataView(heap.buffer, heap.byteOffset, heap.byteLength);
  const pushLength = (n: number) => out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  if (t.type === H5T_STRING && t.vlen) {
    const pointer = view.getUint32(address, true);
    if (pointer === 0) return void out.push(0);
    let end = pointer;
    while (end < heap.length && heap[end] !== 0) end++;
    out.push(1);
    pushLength(end - pointer);
    for (let i = pointer; i < end; i++) out.push(heap[i] as number);
    return;
  }
  if (t.type === H5T_VLEN && t.vlen_type) {
    const length = view.getUint32(address, true);
    const pointer = view.getUint32(address + 4, true);
    pushLength(length);
    for (let i = 0; i < length; i++) serializeElement(heap, t.vlen_type, pointer + i * t.vlen_type.size, converted, out, found);
    return;
  }
  if (t.type === H5T_COMPOUND) {
    for (const m of t.compound_type?.members ?? []) serializeElement(heap, m, address + m.offset, converted, out, found);
    return;
  }
  if (t.type === H5T_ARRAY && t.array_type) {
    const count = (t.array_type.shape ?? []).reduce((n, d) => n * d, 1);
    for (let i = 0; i < count; i++) serializeElement(heap, t.array_type, address + i * t.array_type.size, converted, out, found);
    return;
  }
  const ordered = [H5T_INTEGER, H5T_FLOAT, H5T_TIME, H5T_BITFIELD, H5T_ENUM].includes(t.type) && t.size > 1;
  const bigEndian = ordered && !converted && !t.littleEndian;
  const start = out.length;
  for (let i = 0; i < t.size; i++) out.push(heap[address + (bigEndian ? t.size - 1 - i : i)] as number);
  if (t.type === H5T_FLOAT && !found.nan) {
    const value = new DataView(Uint8Array.from(out.slice(start)).buffer);
    found.nan = t.size === 2 ? Number.isNaN(halfToNumber(value.getUint16(0, true))) : t.size === 4 ? Number.isNaN(value.getFloat32(0, true)) : t.size === 8 ? Number.isNaN(value.getFloat64(0, true)) : false;
  }
}

/** Reads the raw bytes of a dataset or attribute whole; for variable-length types also each element's value, before HDF5 frees what the pointers point to. */
interface WholeValue {
  bytes: Uint8Array;
  /** Variable-length types: each element's value as bytes, and whether it holds a NaN. */
  elements: Uint8Array[] | null;
  nans: boolean[];
}

function readWhole(module: H5Module, described: Described, read: (pointer: number) => void, reclaim: (pointer: number) => void, what: string): WholeValue {
  const { metadata, shape } = described;
  const count = shape === null ? 0 : elementCount(shape);
  const bytes = metadata.size * count;
  if (bytes === 0) return { bytes: new Uint8Array(0), elements: described.variable ? Array.from({ length: count }, () => new Uint8Array(0)) : null, nans: [] };
  const pointer = module._malloc(bytes);
  if (pointer === 0) throw new Error(`cannot allocate ${bytes} bytes to read ${what}`);
  try {
    read(pointer);
    if (!described.variable) return { bytes: module.HEAPU8.slice(pointer, pointer + bytes), elements: null, nans: [] };
    try {
      const heap = module.HEAPU8;
      const converted = h5ReadsConverted(metadata);
      const elements: Uint8Array[] = [];
      const nans: boolean[] = [];
      for (let i = 0; i < count; i++) {
        const out: number[] = [];
        const found = { nan: false };
        serializeElement(heap, metadata, pointer + i * metadata.size, converted, out, found);
        elements.push(Uint8Array.from(out));
        nans.push(found.nan);
      }
      return { bytes: new Uint8Array(0), elements, nans };
    } finally {
      reclaim(pointer);
    }
  } finally {
    module._free(pointer);
  }
}

const MAX_SHOWN = 16;

/** One element's value as the report shows it (the comparison itself is on the bytes). */
function shownElement(d: Described, bytes: Uint8Array, element: Uint8Array | null, i: number): unknown {
  const { dtype, metadata } = d;
  if (element !== null) {
    // A variable-length string: its bytes after the marker and length.
    if (metadata.type === H5T_STRING) return element.length === 0 || element[0] === 0 ? null : Buffer.from(element.subarray(5)).toString('utf8');
    return `a ${dtype.descr} value`;
  }
  const off = i * dtype.itemsize;
  const view = new DataView(bytes.buffer, bytes.byteOffset + off, dtype.itemsize);
  const safe = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());
  switch (dtype.kind) {
    case 'f':
      return dtype.itemsize === 2 ? halfToNumber(view.getUint16(0, true)) : dtype.itemsize === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
    case 'i':
      return dtype.itemsize === 1 ? view.getInt8(0) : dtype.itemsize === 2 ? view.getInt16(0, true) : dtype.itemsize === 4 ? view.getInt32(0, true) : safe(view.getBigInt64(0, true));
    case 'u':
      return dtype.itemsize === 1 ? view.getUint8(0) : dtype.itemsize === 2 ? view.getUint16(0, true) : dtype.itemsize === 4 ? view.getUint32(0, true) : safe(view.getBigUint64(0, true));
    case 'b':
      return view.getUint8(0) !== 0;
    case 'c': {
      const half = dtype.itemsize / 2;
      const [re, im] = half === 4 ? [view.getFloat32(0, true), view.getFloat32(4, true)] : [view.getFloat64(0, true), view.getFloat64(8, true)];
      return `(${formatPart(re)}${im < 0 || Object.is(im, -0) ? '-' : '+'}${formatPart(Math.abs(im))}j)`;
    }
    default:
      if (metadata.type === H5T_STRING) {
        // Trailing padding off; an embedded NUL stays (and is shown escaped).
        let end = dtype.itemsize;
        const pad = metadata.strpad === 2 ? 0x20 : 0;
        while (end > 0 && bytes[off + end - 1] === pad) end--;
        return Buffer.from(bytes.subarray(off, off + end)).toString('utf8');
      }
      return `a ${dtype.descr} value`;
  }
}

function formatPart(v: number): string {
  return Number.isNaN(v) ? 'nan' : Number.isFinite(v) ? String(v) : 'inf';
}

/** A value as the report shows it: a scalar as itself, a few elements as a list (numbers JSON cannot hold as strings), many as a summary. */
function shownValue(d: Described, bytes: Uint8Array, elements: Uint8Array[] | null): unknown {
  if (d.shape === null) return 'empty (no dataspace)';
  const count = elementCount(d.shape);
  if (d.shape.length === 0) return shownElement(d, bytes, elements?.[0] ?? null, 0);
  if (count > MAX_SHOWN) return `${count} values of ${d.dtype.descr}, shape ${formatShape(d.shape)}`;
  return Array.from({ length: count }, (_, i) => {
    const v = shownElement(d, bytes, elements?.[i] ?? null, i);
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v > 0 ? 'Infinity' : '-Infinity';
    return v;
  });
}

interface Listing {
  datasets: Map<string, Dataset>;
  /** Groups by path ('' for the root), for their attributes. */
  groups: Map<string, Group>;
  /** Links not followed, by path: soft links by their target, a group reached again by another hard link by its first path. */
  links: Map<string, string>;
  /** Objects that are not this file's data, with why (external links). */
  refused: Map<string, string>;
}

/**
 * Every dataset and group under the root, by path without the leading '/', sorted; each group
 * visited once. Soft links are not followed: they are compared by their target path (the target
 * is compared where it is). A group reached again through another hard link (g['self'] = g makes a
 * cycle) is not entered again: it is a link to the path it was first seen at. HDF5 names each
 * object by its address, which h5wasm gives as an object reference.
 */
function listObjects(module: H5Module, root: Group): Listing {
  const fileId = root.file_id as unknown as bigint;
  const datasets = new Map<string, Dataset>();
  const groups = new Map<string, Group>([['', root]]);
  const links = new Map<string, string>();
  const refused = new Map<string, string>();
  const address = (path: string) => Buffer.from(module.create_object_reference(fileId, path)).toString('hex');
  const seen = new Map<string, string>([[address('/'), '']]);
  const visit = (group: Group, prefix: string): void => {
    for (const name of group.keys()) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      // Checked before get(): resolving an external link would open, and read, another file.
      const external = group.get_external_link(`/${path}`) as { filename?: string; obj_path?: string } | undefined;
      if (external && typeof external === 'object' && external.filename !== undefined) {
        refused.set(path, `an HDF5 external link to ${JSON.stringify(external.filename)}:${external.obj_path ?? ''}, which is outside this file; not followed`);
        continue;
      }
      const soft = module.get_symbolic_link(fileId, `/${path}`);
      if (typeof soft === 'string') {
        const broken = module.get_type(fileId, `/${path}`) === module.H5G_LINK;
        links.set(path, `soft link to ${JSON.stringify(soft)}${broken ? ', which does not exist' : ''}`);
        continue;
      }
      const entity = group.get(name);
      if (entity instanceof h5wasm.Dataset) datasets.set(path, entity);
      else if (entity instanceof h5wasm.Group) {
        const id = address(`/${path}`);
        const first = seen.get(id);
        if (first !== undefined) {
          links.set(path, `hard link to the group ${JSON.stringify(`/${first}`)}, not entered again`);
          continue;
        }
        seen.set(id, path);
        groups.set(path, entity);
        visit(entity, path);
      }
      // Committed datatypes: not data.
    }
  };
  visit(root, '');
  const sorted = <T>(m: Map<string, T>) => new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { datasets: sorted(datasets), groups: sorted(groups), links: sorted(links), refused };
}

async function compareDataset(module: H5Module, name: string, a: Dataset, b: Dataset, tolerance: Tolerance, blockBytes: number): Promise<TensorDiff> {
  let da: Described;
  let db: Described;
  try {
    da = describe(a.metadata as H5Metadata);
    db = describe(b.metadata as H5Metadata);
  } catch (error) {
    return blankTensorDiff(name, 'error', tolerance, { message: `cannot read dataset: ${hdf5Reason(error)}` });
  }
  const dtypes = { baseline: da.dtype.descr, candidate: db.dtype.descr };
  try {
    if (da.variable || db.variable) {
      const read = (dataset: Dataset, d: Described) => {
        const fileId = dataset.file_id as unknown as bigint;
        if (!d.variable) return { elements: [], nans: [] };
        const whole = readWhole(module, d, (p) => module.get_dataset_data(fileId, dataset.path, null, null, null, BigInt(p)), (p) => module.reclaim_vlen_memory(fileId, dataset.path, '', BigInt(p)), dataset.path);
        return { elements: whole.elements ?? [], nans: whole.nans };
      };
      const [x, y] = da.variable && db.variable ? [read(a, da), read(b, db)] : [{ elements: [], nans: [] }, { elements: [], nans: [] }];
      return compareVariableTensors({ dtype: da.dtype, shape: da.shape, ...x }, { dtype: db.dtype, shape: db.shape, ...y }, tolerance, name);
    }
    const side = (label: 'baseline' | 'candidate', dataset: Dataset, d: Described) => ({
      label,
      header: { dtype: d.dtype, shape: d.shape, fortranOrder: false },
      data: d.shape === null ? { available: 0, read: async () => 0 } : datasetData(module, dataset, d.shape, d.dtype.itemsize, blockBytes),
    });
    const diff = await compareTensorSides(side('baseline', a, da), side('candidate', b, db), tolerance, name);
    // The file's own dtypes, byte order included, for the report (the bytes arrive in memory order).
    return { ...diff, dtype: dtypes };
  } catch (error) {
    return blankTensorDiff(name, 'error', tolerance, { dtype: dtypes, message: `cannot read dataset: ${hdf5Reason(error)}` });
  }
}

/** An attribute of one side, read whole. */
interface AttributeSide extends WholeValue {
  described: Described;
}

function readAttribute(module: H5Module, file: OpenedFile, holder: string, name: string): AttributeSide {
  const fileId = file.file_id as unknown as bigint;
  const described = describe(module.get_attribute_metadata(fileId, holder, name));
  const whole = readWhole(
    module,
    described,
    (p) => module.get_attribute_data(fileId, holder, name, BigInt(p)),
    (p) => module.reclaim_vlen_memory(fileId, holder, name, BigInt(p)),
    `attribute ${name} of ${holder}`,
  );
  return { described, ...whole };
}

/**
 * One attribute on both sides: its dtype (kind and width, the string type, a record's fields) and
 * every bit of its value, through the same pairing as datasets, exactly (with the nan_equal of the
 * object's tolerance).
 */
async function compareAttribute(key: string, a: AttributeSide, b: AttributeSide, tolerance: Tolerance): Promise<MetricDiff> {
  const exact: Tolerance = { ...BITWISE, nan_equal: tolerance.nan_equal };
  const [da, db] = [a.described, b.described];
  const diff =
    da.variable || db.variable
      ? compareVariableTensors({ dtype: da.dtype, shape: da.shape, elements: a.elements ?? [], nans: a.nans }, { dtype: db.dtype, shape: db.shape, elements: b.elements ?? [], nans: b.nans }, exact, key)
      : await compareTensorSides({ label: 'baseline', header: { dtype: da.dtype, shape: da.shape, fortranOrder: false }, data: bytesData(a.bytes) }, { label: 'candidate', header: { dtype: db.dtype, shape: db.shape, fortranOrder: false }, data: bytesData(b.bytes) }, exact, key);
  let message: string | undefined;
  if (diff.status === 'error' || (diff.status === 'different' && diff.mismatched === 0)) message = diff.message;
  else if (diff.status === 'different') message = diff.elements === 1 ? (exact.nan_equal ? 'differs (bitwise)' : 'differs (bitwise; a NaN never equals anything with nan_equal off)') : `${diff.mismatched} of ${diff.elements} elements differ (bitwise), the first at [${(diff.first_mismatch ?? []).join(', ')}]`;
  return {
    key,
    status: diff.status,
    baseline: shownValue(da, a.bytes, a.elements),
    candidate: shownValue(db, b.bytes, b.elements),
    difference: null,
    tolerance: null,
    ...(message ? { message } : {}),
  };
}

/** The attribute names of every object, keyed 'path@name' ('@name' at the root), with the HDF5 path of their holder. */
function attributeKeys(module: H5Module, file: OpenedFile, listing: Listing): Map<string, { holder: string; name: string; path: string } | { error: string }> {
  const fileId = file.file_id as unknown as bigint;
  const out = new Map<string, { holder: string; name: string; path: string } | { error: string }>();
  for (const path of [...listing.groups.keys(), ...listing.datasets.keys()]) {
    const holder = `/${path}`;
    try {
      for (const name of module.get_attribute_names(fileId, holder)) out.set(`${path}@${name}`, { holder, name, path });
    } catch (error) {
      out.set(`${path}@`, { error: `attributes unreadable: ${hdf5Reason(error)}` });
    }
  }
  return out;
}

async function compareAttributes(module: H5Module, fa: OpenedFile, fb: OpenedFile, la: Listing, lb: Listing, toleranceOf: (path: string) => Tolerance): Promise<MetricDiff[]> {
  const ka = attributeKeys(module, fa, la);
  const kb = attributeKeys(module, fb, lb);
  const keys = [...new Set([...ka.keys(), ...kb.keys()])].sort();
  const missing = keys.filter((k) => !kb.has(k));
  const extra = keys.filter((k) => !ka.has(k));
  const both: MetricDiff[] = [];
  for (const key of keys) {
    const x = ka.get(key);
    const y = kb.get(key);
    if (x === undefined || y === undefined) continue;
    if ('error' in x || 'error' in y) {
      both.push({ key, status: 'error', baseline: null, candidate: null, difference: null, tolerance: null, message: [x, y].flatMap((v, i) => ('error' in v ? [`${i === 0 ? 'baseline' : 'candidate'}: ${v.error}`] : [])).join('; ') });
      continue;
    }
    let sides: [AttributeSide, AttributeSide];
    try {
      sides = [readAttribute(module, fa, x.holder, x.name), readAttribute(module, fb, y.holder, y.name)];
    } catch (error) {
      both.push({ key, status: 'error', baseline: null, candidate: null, difference: null, tolerance: null, message: `cannot read the attribute: ${hdf5Reason(error)}` });
      continue;
    }
    both.push(await compareAttribute(key, sides[0], sides[1], toleranceOf(x.path)));
  }
  return [...both, ...absentItems(missing, extra, 'attribute')].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** Groups one side lacks (an empty one included), and links compared by what they point to. */
function compareStructure(la: Listing, lb: Listing): MetricDiff[] {
  const groupsA = [...la.groups.keys()].filter((p) => p !== '');
  const groupsB = [...lb.groups.keys()].filter((p) => p !== '');
  const out: MetricDiff[] = [...absentItems(groupsA.filter((p) => !lb.groups.has(p)), groupsB.filter((p) => !la.groups.has(p)), 'group')];
  const linkPaths = [...new Set([...la.links.keys(), ...lb.links.keys()])].sort();
  out.push(...absentItems(linkPaths.filter((p) => !lb.links.has(p)), linkPaths.filter((p) => !la.links.has(p)), 'link'));
  for (const path of linkPaths) {
    const x = la.links.get(path);
    const y = lb.links.get(path);
    if (x === undefined || y === undefined) continue;
    out.push({ key: path, status: x === y ? 'identical' : 'different', baseline: x, candidate: y, difference: null, tolerance: null, ...(x === y ? {} : { message: 'the link points elsewhere' }) });
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
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
    const la = listObjects(module, a);
    const lb = listObjects(module, b);
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
    const attributes = await compareAttributes(module, a, b, la, lb, (path) => (la.datasets.has(path) ? toleranceFor(path) : tolerance));
    return { tensors: tensors.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)), missing, extra, attributes, structure: compareStructure(la, lb) };
  } catch (error) {
    return { tensors: [], missing: [], extra: [], attributes: [], structure: [], error: hdf5Reason(error) };
  } finally {
    a?.close();
    b?.close();
  }
}

/**
 * The names of the attributes on a file's root group, sorted: what tells a legacy Keras full model
 * (`model_config`, written by `model.save('x.h5')`) from a weights-only file (Keras 2's
 * `layer_names`, Keras 3's none). Throws with one line when the file is not HDF5 or cannot be read.
 */
export async function h5RootAttributeNames(path: string): Promise<string[]> {
  const module = await ready();
  const file = await openH5(path, 'file');
  try {
    return [...module.get_attribute_names(file.file_id as unknown as bigint, '/')].sort();
  } catch (error) {
    throw new Error(`cannot read the root attributes of ${path}: ${hdf5Reason(error)}`);
  } finally {
    file.close();
  }
}
