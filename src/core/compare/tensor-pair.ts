// The one place two tensors are paired and judged, whatever file they came from (.npy, an .npz
// entry, an HDF5 dataset, the weights inside a .keras archive). Readers only describe a tensor (its
// dtype, shape and memory order) and hand over its bytes through TensorData; everything else is
// decided here, the same way for every format:
//   - the dtype's kind and width must match (<f4 vs <f8 is a difference); byte order is storage,
//     so <f4 and >f4 holding the same values are identical (one side is swapped before comparing),
//     and so are <U2 and >U2, <M8[ns] and >M8[ns], records whose fields are stored in either order
//     (each multi-byte scalar of an element swapped on its own);
//   - the shapes must match; an HDF5 null dataspace (h5py.Empty) has no shape and matches only another;
//   - memory order is storage too: a C-order and a Fortran-order copy of the same values are
//     identical, reordered in memory when small and tile by tile (bounded memory) when large;
//   - object arrays hold a pickle, compared as bytes with all that follows it (a pickle has no
//     length of its own).
// No file access here: the bytes come through the TensorData interface the adapters implement.
import { blankTensorDiff, type TensorDiff, type Tolerance } from './model.js';
import { canonicalOf, elementCount, formatShape, npyDataIsPickled, type NpyDtype } from './npy-header.js';
import { createTensorAccumulator, fortranToC, swapByteOrder, swapUnits, unravelC, type TensorAccumulator } from './tensor-compare.js';

export interface TensorHeader {
  dtype: NpyDtype;
  /** null: no dataspace at all (an HDF5 null dataspace, h5py.Empty): no elements, no data. */
  shape: number[] | null;
  /** Fortran (column-major) storage; an array of fewer than two dimensions has one order only. */
  fortranOrder: boolean;
}

/** The bytes of one tensor's data, from its first element on. */
export interface TensorData {
  /** Reads the next `length` bytes into target[0..]; fewer only where the data ends. */
  read(target: Uint8Array, length: number): Promise<number>;
  /** How many data bytes there are, when known before reading (a file); null for a stream. */
  readonly available: number | null;
  /** Reads at a byte position of the data, for reordering large arrays; present for files. */
  readAt?(target: Uint8Array, length: number, position: number): Promise<number>;
}

export interface TensorSide {
  label: 'baseline' | 'candidate';
  header: TensorHeader;
  data: TensorData;
}

export interface PairOptions {
  /** Bytes per sequential read and side. */
  chunkBytes?: number;
  /** Arrays whose memory orders differ are reordered whole in memory up to this size per side; above it, tile by tile. */
  reorderInMemoryBytes?: number;
  /** Bytes per tile when reordering tile by tile. */
  tileBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
export const DEFAULT_REORDER_IN_MEMORY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_TILE_BYTES = 4 * 1024 * 1024;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Two dtypes hold the same kind of values at the same width (byte order aside). */
export function sameValueType(a: NpyDtype, b: NpyDtype): boolean {
  if (a.kind !== b.kind || a.itemsize !== b.itemsize) return false;
  if (a.kind !== 'other') return true;
  if (canonicalOf(a) !== canonicalOf(b)) return false;
  const ua = a.units ?? [];
  const ub = b.units ?? [];
  return ua.length === ub.length && ua.every((u, i) => u.offset === ub[i]?.offset && u.width === ub[i]?.width);
}

/**
 * What of the candidate's element bytes to reverse so they are in the baseline's byte order:
 * everything (numbers, element by element), some scalars of each element (records, strings,
 * datetimes), or nothing.
 */
function swapPlan(a: NpyDtype, b: NpyDtype): ((chunk: Uint8Array) => void) | null {
  if (a.kind !== 'other') return a.itemsize > 1 && a.kind !== 'b' && a.littleEndian !== b.littleEndian ? (chunk) => swapByteOrder(chunk, a) : null;
  const ua = a.units ?? [];
  const ub = b.units ?? [];
  const units = ua.filter((u, i) => u.width > 1 && u.littleEndian !== ub[i]?.littleEndian);
  return units.length > 0 ? (chunk) => swapUnits(chunk, a.itemsize, units) : null;
}

/** What makes two tensors different before any element is read: their dtypes, their shapes. */
function structuralDifferences(ha: Pick<TensorHeader, 'dtype' | 'shape'>, hb: Pick<TensorHeader, 'dtype' | 'shape'>): string[] {
  const why: string[] = [];
  if (!sameValueType(ha.dtype, hb.dtype)) why.push(`dtype differs: ${ha.dtype.descr} vs ${hb.dtype.descr}`);
  if (ha.shape === null || hb.shape === null) {
    if (ha.shape !== hb.shape) why.push(`shape differs: ${ha.shape === null ? 'no dataspace (empty)' : formatShape(ha.shape)} vs ${hb.shape === null ? 'no dataspace (empty)' : formatShape(hb.shape)}`);
  } else if (ha.shape.length !== hb.shape.length || ha.shape.some((d, i) => d !== hb.shape?.[i])) {
    why.push(`shape differs: ${formatShape(ha.shape)} vs ${formatShape(hb.shape)}`);
  }
  return why;
}

/** One side of a tensor whose elements have no fixed size (HDF5 variable-length strings and sequences). */
export interface VariableSide {
  dtype: NpyDtype;
  shape: number[] | null;
  /** Each element's value as bytes that are equal exactly when the values are (byte order already normalised), in C order. */
  elements: readonly Uint8Array[];
  /** Which elements hold a NaN: with nan_equal off they never equal anything. */
  nans?: readonly boolean[];
}

/** Tensors of variable-length elements: the dtype and shape, then every element exactly. */
export function compareVariableTensors(a: VariableSide, b: VariableSide, tolerance: Tolerance, name: string): TensorDiff {
  const diff = blankTensorDiff(name, 'identical', tolerance, {
    dtype: { baseline: a.dtype.descr, candidate: b.dtype.descr },
    shape: { baseline: a.shape ?? [], candidate: b.shape ?? [] },
  });
  const why = structuralDifferences(a, b);
  if (why.length > 0) return { ...diff, status: 'different', message: why.join('; ') };
  if (a.shape === null) return { ...diff, message: 'no dataspace on either side (empty)' };
  const elements = elementCount(a.shape);
  let mismatched = 0;
  let first = -1;
  for (let i = 0; i < elements; i++) {
    const x = a.elements[i];
    const y = b.elements[i];
    const nanFails = !tolerance.nan_equal && tolerance.mode !== 'ignore' && (a.nans?.[i] === true || b.nans?.[i] === true);
    if (nanFails || x === undefined || y === undefined || !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))) {
      mismatched++;
      if (first < 0) first = i;
    }
  }
  const ignored = tolerance.mode === 'ignore';
  return {
    ...diff,
    elements,
    status: mismatched === 0 ? 'identical' : ignored ? 'equivalent' : 'different',
    mismatched: ignored ? 0 : mismatched,
    mismatched_fraction: ignored || elements === 0 ? 0 : mismatched / elements,
    first_mismatch: ignored || first < 0 ? null : unravelC(first, a.shape),
    message: 'variable-length elements: compared exactly, value by value',
  };
}

/** Data bytes of a tensor with this header (0 for a null dataspace). */
export function dataBytesOf(header: TensorHeader): number {
  return header.shape === null ? 0 : elementCount(header.shape) * header.dtype.itemsize;
}

/**
 * Judges two tensors. Reads exactly the data bytes of each side (all of the rest for a pickle), so
 * a reader can go on to what follows in the same stream. Never throws for bad data: the TensorDiff
 * says 'error' and why.
 */
export async function compareTensorSides(a: TensorSide, b: TensorSide, tolerance: Tolerance, name: string, options: PairOptions = {}): Promise<TensorDiff> {
  const ha = a.header;
  const hb = b.header;
  const diff = blankTensorDiff(name, 'error', tolerance, {
    dtype: { baseline: ha.dtype.descr, candidate: hb.dtype.descr },
    shape: { baseline: ha.shape ?? [], candidate: hb.shape ?? [] },
  });
  const why = structuralDifferences(ha, hb);
  if (why.length > 0) return { ...diff, status: 'different', message: why.join('; ') };
  if (ha.shape === null) return { ...diff, status: 'identical', message: 'no dataspace on either side (empty)' };

  const shape = ha.shape;
  const dtype = ha.dtype;
  const elements = elementCount(shape);
  diff.elements = elements;
  if (npyDataIsPickled(dtype) || npyDataIsPickled(hb.dtype)) {
    try {
      // A pickle has no length of its own: where it ends, and so any array stored after it, is
      // known only by unpickling, which is never done. It is compared with all that follows it.
      const same = await sameRemainingBytes(a.data, b.data, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
      return {
        ...diff,
        status: same ? 'identical' : 'different',
        mismatched: same ? 0 : elements,
        mismatched_fraction: same || elements === 0 ? 0 : 1,
        message: same
          ? `object array (${dtype.descr}) is stored pickled: it and the rest of the data after it are compared as bytes, and are the same`
          : `object array (${dtype.descr}) is stored pickled: it and the rest of the data after it are compared as bytes (a pickle has no length of its own, so an array after it cannot be read without unpickling), and they differ: whether the objects or what follows them differ is unknown`,
      };
    } catch (err) {
      return { ...diff, message: message(err) };
    }
  }

  const dataBytes = elements * dtype.itemsize;
  const truncated = [a, b].flatMap((side) =>
    side.data.available !== null && side.data.available < dataBytes ? [`${side.label} is truncated: ${dataBytes - side.data.available} of ${dataBytes} data bytes missing`] : [],
  );
  if (truncated.length > 0) return { ...diff, message: truncated.join('; ') };

  const swap = swapPlan(ha.dtype, hb.dtype);
  const reorder = shape.length > 1 && ha.fortranOrder !== hb.fortranOrder;
  const notes: string[] = [];
  if (swap) notes.push('byte order differs (storage only)');
  if (reorder) notes.push('memory order differs (storage only)');
  try {
    let stats;
    if (!reorder) {
      const acc = createTensorAccumulator({ dtype, shape, tolerance, fortranOrder: ha.fortranOrder });
      await streamPairs(a.data, b.data, dataBytes, dtype.itemsize, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, (ca, cb, first) => {
        swap?.(cb);
        acc.add(ca, cb, first);
      });
      stats = acc.finish();
    } else if (dataBytes <= (options.reorderInMemoryBytes ?? DEFAULT_REORDER_IN_MEMORY_BYTES)) {
      const [ra, rb] = await Promise.all([readExactly(a, dataBytes), readExactly(b, dataBytes)]);
      swap?.(rb);
      const acc = createTensorAccumulator({ dtype, shape, tolerance });
      acc.add(ha.fortranOrder ? fortranToC(ra, shape, dtype.itemsize) : ra, hb.fortranOrder ? fortranToC(rb, shape, dtype.itemsize) : rb, 0);
      stats = acc.finish();
    } else {
      stats = await compareTiled(a, b, shape, dtype, tolerance, swap, options.tileBytes ?? DEFAULT_TILE_BYTES);
    }
    Object.assign(diff, stats);
    if (dtype.kind === 'other') notes.push(`${dtype.descr} is not a numeric dtype: elements compared as bytes`);
    return notes.length > 0 ? { ...diff, message: notes.join('; ') } : diff;
  } catch (err) {
    return { ...diff, status: 'error', message: message(err) };
  }
}

async function readExactly(side: TensorSide, bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  const got = await side.data.read(out, bytes);
  if (got < bytes) throw new Error(`${side.label} is truncated: ${bytes - got} of ${bytes} data bytes missing`);
  return out;
}

/**
 * Feeds both data sections to `use`, chunk pair by chunk pair, reading the next pair while the
 * current one is judged. Two pairs of preallocated buffers: memory stays flat.
 */
async function streamPairs(a: TensorData, b: TensorData, dataBytes: number, itemsize: number, chunkBytes: number, use: (ca: Uint8Array, cb: Uint8Array, firstElement: number) => void): Promise<void> {
  const chunk = Math.max(itemsize, Math.floor(Math.min(chunkBytes, Math.max(dataBytes, 1)) / itemsize) * itemsize);
  type Pair = readonly [Uint8Array, Uint8Array];
  const buffers: [Pair, Pair] = [
    [new Uint8Array(chunk), new Uint8Array(chunk)],
    [new Uint8Array(chunk), new Uint8Array(chunk)],
  ];
  const readPair = async (pair: Pair, length: number): Promise<void> => {
    const [ga, gb] = await Promise.all([a.read(pair[0], length), b.read(pair[1], length)]);
    const short = [
      ['baseline', ga],
      ['candidate', gb],
    ]
      .filter(([, got]) => (got as number) < length)
      .map(([label, got]) => `${label as string} is truncated: data ended ${length - (got as number)} bytes early`);
    if (short.length > 0) throw new Error(short.join('; '));
  };
  let offset = 0;
  let k = 0;
  let pending: Promise<void> | null = dataBytes > 0 ? readPair(buffers[0], Math.min(chunk, dataBytes)) : null;
  while (pending) {
    await pending;
    const length = Math.min(chunk, dataBytes - offset);
    const next = offset + length;
    const current = buffers[k] as Pair;
    k ^= 1;
    pending = next < dataBytes ? readPair(buffers[k] as Pair, Math.min(chunk, dataBytes - next)) : null;
    try {
      use(current[0].subarray(0, length), current[1].subarray(0, length), offset / itemsize);
    } catch (err) {
      // Never leave a read in flight into a buffer nobody waits for.
      await pending?.catch(() => undefined);
      throw err;
    }
    offset = next;
  }
}

async function sameRemainingBytes(a: TensorData, b: TensorData, chunkBytes: number): Promise<boolean> {
  const x = new Uint8Array(chunkBytes);
  const y = new Uint8Array(chunkBytes);
  for (;;) {
    const [ga, gb] = await Promise.all([a.read(x, x.length), b.read(y, y.length)]);
    if (ga !== gb || !Buffer.from(x.buffer, 0, ga).equals(Buffer.from(y.buffer, 0, gb))) return false;
    if (ga < x.length) return true;
  }
}

// ------------------------------------------------------------------ tile by tile

/** Tile extents per axis: the whole array, the largest extent halved until a tile fits in maxElements. */
export function tileShape(shape: readonly number[], maxElements: number): number[] {
  const tile = shape.map((d) => Math.max(1, d));
  while (elementCount(tile) > Math.max(1, maxElements)) {
    let largest = 0;
    for (let d = 1; d < tile.length; d++) if ((tile[d] as number) > (tile[largest] as number)) largest = d;
    if ((tile[largest] as number) <= 1) break;
    tile[largest] = Math.ceil((tile[largest] as number) / 2);
  }
  return tile;
}

function stridesOf(shape: readonly number[], fortran: boolean): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  let stride = 1;
  if (fortran) {
    for (let d = 0; d < shape.length; d++) {
      strides[d] = stride;
      stride *= shape[d] as number;
    }
  } else {
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= shape[d] as number;
    }
  }
  return strides;
}

/** Calls visit for every index tuple in [start, start + extent) per axis, the last axis fastest. */
function forEachIndex(start: readonly number[], extent: readonly number[], visit: (index: number[]) => void): void {
  const n = start.length;
  if (extent.some((e) => e <= 0)) return;
  const index = start.slice();
  for (;;) {
    visit(index);
    let d = n - 1;
    while (d >= 0) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (start[d] as number) + (extent[d] as number)) break;
      index[d] = start[d] as number;
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * One side's tile, in tile-local C order. The side's storage has contiguous runs along its fastest
 * axis (the last for C order, the first for Fortran); the runs of the tile are read with readAt,
 * adjacent runs merged into one read, and scattered into place.
 */
async function readTile(side: TensorSide, shape: readonly number[], origin: readonly number[], extent: readonly number[], itemsize: number, out: Uint8Array): Promise<void> {
  const readAt = side.data.readAt;
  if (readAt === undefined) throw new Error(`${side.label}: its data cannot be read out of order, so arrays of different memory orders this large cannot be compared`);
  const fortran = side.header.fortranOrder;
  const strides = stridesOf(shape, fortran);
  const fast = fortran ? 0 : shape.length - 1;
  const runLength = extent[fast] as number;
  const localStrides = stridesOf(extent, false);
  // Every run: its element offset in the file and the tile-local index of its first element.
  const outer = extent.map((e, d) => (d === fast ? 1 : e));
  const runs: Array<{ offset: number; local: number[] }> = [];
  forEachIndex(origin, outer, (index) => {
    let offset = 0;
    for (let d = 0; d < shape.length; d++) offset += (index[d] as number) * (strides[d] as number);
    runs.push({ offset, local: index.map((v, d) => v - (origin[d] as number)) });
  });
  runs.sort((x, y) => x.offset - y.offset);
  const scratch = new Uint8Array(Math.max(1, Math.min(runs.length * runLength, 1 << 22) * itemsize));
  let i = 0;
  while (i < runs.length) {
    // Merge runs that follow each other in the file into one read, as far as the scratch buffer allows.
    let j = i + 1;
    while (j < runs.length && (runs[j] as { offset: number }).offset === (runs[j - 1] as { offset: number }).offset + runLength && (j - i + 1) * runLength * itemsize <= scratch.length) j++;
    const first = runs[i] as { offset: number; local: number[] };
    const bytes = (j - i) * runLength * itemsize;
    const got = await readAt(scratch, bytes, first.offset * itemsize);
    if (got < bytes) throw new Error(`${side.label} is truncated: data ended ${bytes - got} bytes early`);
    for (let r = i; r < j; r++) {
      const run = runs[r] as { offset: number; local: number[] };
      const src = (r - i) * runLength * itemsize;
      let dst = 0;
      for (let d = 0; d < extent.length; d++) dst += (run.local[d] as number) * (localStrides[d] as number);
      const step = localStrides[fast] as number;
      if (step === 1) out.set(scratch.subarray(src, src + runLength * itemsize), dst * itemsize);
      else scatter(scratch, src, out, dst, step, runLength, itemsize);
    }
    i = j;
  }
}

/**
 * Copies `count` elements from contiguous bytes at `from` to every `step`-th element slot of `out`
 * starting at element `to`: through integer views of the element width (bits copied as they are).
 */
function scatter(src: Uint8Array, from: number, out: Uint8Array, to: number, step: number, count: number, itemsize: number): void {
  const words = itemsize % 4 === 0 ? itemsize / 4 : 0;
  if (words > 0 && (src.byteOffset + from) % 4 === 0 && out.byteOffset % 4 === 0) {
    const a = new Uint32Array(src.buffer, src.byteOffset + from, count * words);
    const b = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
    for (let e = 0, d = to * words; e < count * words; e += words, d += step * words) for (let w = 0; w < words; w++) b[d + w] = a[e + w] as number;
    return;
  }
  for (let e = 0; e < count; e++) {
    const s = from + e * itemsize;
    const d = (to + e * step) * itemsize;
    for (let k = 0; k < itemsize; k++) out[d + k] = src[s + k] as number;
  }
}

/**
 * Arrays of different memory orders too large to reorder whole: tile by tile, each tile read from
 * both files into tile-local C order, then fed row by row (a tile row is a run of the C order) to
 * the accumulator, which reports indexes in C order as always.
 */
async function compareTiled(a: TensorSide, b: TensorSide, shape: readonly number[], dtype: NpyDtype, tolerance: Tolerance, swap: ((chunk: Uint8Array) => void) | null, tileBytes: number): Promise<ReturnType<TensorAccumulator['finish']>> {
  const itemsize = dtype.itemsize;
  const tile = tileShape(shape, Math.floor(tileBytes / itemsize));
  const acc = createTensorAccumulator({ dtype, shape: [...shape], tolerance });
  const bufA = new Uint8Array(elementCount(tile) * itemsize);
  const bufB = new Uint8Array(elementCount(tile) * itemsize);
  const cStrides = stridesOf(shape, false);
  const last = shape.length - 1;
  const tileCounts = shape.map((d, i) => Math.ceil(d / (tile[i] as number)));
  const tileIndexes: number[][] = [];
  forEachIndex(
    shape.map(() => 0),
    tileCounts,
    (t) => tileIndexes.push(t.slice()),
  );
  for (const t of tileIndexes) {
    const origin = t.map((k, d) => k * (tile[d] as number));
    const extent = origin.map((o, d) => Math.min(tile[d] as number, (shape[d] as number) - o));
    const count = elementCount(extent);
    const ta = bufA.subarray(0, count * itemsize);
    const tb = bufB.subarray(0, count * itemsize);
    await Promise.all([readTile(a, shape, origin, extent, itemsize, ta), readTile(b, shape, origin, extent, itemsize, tb)]);
    swap?.(tb);
    const rowLength = extent[last] as number;
    let local = 0;
    forEachIndex(
      origin,
      extent.map((e, d) => (d === last ? 1 : e)),
      (index) => {
        let flat = 0;
        for (let d = 0; d < shape.length; d++) flat += (index[d] as number) * (cStrides[d] as number);
        const start = local * itemsize;
        acc.add(ta.subarray(start, start + rowLength * itemsize), tb.subarray(start, start + rowLength * itemsize), flat);
        local += rowLength;
      },
    );
  }
  return acc.finish();
}

// ------------------------------------------------------------------ several arrays in one stream

/**
 * What a reader finds next in a stream of arrays (np.save called several times on one file): an
 * array, bytes that are not an array (after the last one), the end, or a fault.
 */
export type SequenceItem =
  | { kind: 'tensor'; side: TensorSide }
  | { kind: 'rest'; data: TensorData }
  | { kind: 'end' }
  | { kind: 'error'; message: string };

export interface TensorSequence {
  /** The next item; the data of a tensor returned before need not have been read. */
  next(): Promise<SequenceItem>;
}

/** Name of the i-th array of a stream: '' when the stream holds one array, '[i]' when several. */
function arrayName(prefix: string, index: number, count: number): string {
  return count === 1 ? prefix : `${prefix}[${index}]`;
}

/**
 * Pairs the arrays of two streams in order and judges each; arrays one side lacks, and bytes past
 * the last array on either side, are differences (they are content a reader would load or trip
 * over). Faults become 'error' items naming the side.
 */
export async function compareTensorSequences(a: TensorSequence, b: TensorSequence, tolerance: Tolerance, prefix = '', options: PairOptions = {}): Promise<TensorDiff[]> {
  const items: Array<{ diff: TensorDiff; array: boolean }> = [];
  let index = 0;
  let ia = await a.next();
  let ib = await b.next();
  while (ia.kind === 'tensor' && ib.kind === 'tensor') {
    items.push({ diff: await compareTensorSides(ia.side, ib.side, tolerance, String(index), options), array: true });
    index++;
    [ia, ib] = await Promise.all([a.next(), b.next()]);
  }
  // A stream that is no array stream at all (bad magic, truncated header): that is the whole answer.
  if (index === 0 && (ia.kind === 'error' || ib.kind === 'error')) {
    const faults = [ia, ib].flatMap((item) => (item.kind === 'error' ? [item.message] : []));
    return [blankTensorDiff(prefix, 'error', tolerance, { message: faults.join('; ') })];
  }
  // One side has more arrays: each is a difference, and the side is read on past it.
  for (const [side, first, label] of [
    [a, ia, 'baseline'],
    [b, ib, 'candidate'],
  ] as const) {
    let item: SequenceItem = first;
    let extra = index;
    while (item.kind === 'tensor') {
      const header = item.side.header;
      items.push({
        diff: blankTensorDiff(String(extra), 'different', tolerance, {
          dtype: { baseline: label === 'baseline' ? header.dtype.descr : '', candidate: label === 'candidate' ? header.dtype.descr : '' },
          shape: { baseline: label === 'baseline' ? header.shape ?? [] : [], candidate: label === 'candidate' ? header.shape ?? [] : [] },
          message: label === 'baseline' ? 'array missing from the candidate' : 'array only in the candidate',
        }),
        array: true,
      });
      extra++;
      item = await side.next();
    }
    if (label === 'baseline') ia = item;
    else ib = item;
  }
  const count = items.length;
  const named = items.map(({ diff }) => ({ ...diff, name: arrayName(prefix, Number(diff.name), count) }));
  const restName = `${prefix}(bytes after the last array)`;
  if (ia.kind === 'error' || ib.kind === 'error') {
    const faults = [ia, ib].flatMap((item) => (item.kind === 'error' ? [item.message] : []));
    named.push(blankTensorDiff(count === 0 ? prefix : restName, 'error', tolerance, { message: faults.join('; ') }));
  } else if (ia.kind === 'rest' || ib.kind === 'rest') {
    const empty: TensorData = { read: async () => 0, available: 0 };
    const same = await sameRemainingBytes(ia.kind === 'rest' ? ia.data : empty, ib.kind === 'rest' ? ib.data : empty, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const where = ia.kind === 'rest' && ib.kind === 'rest' ? 'on both sides' : ia.kind === 'rest' ? 'in the baseline only' : 'in the candidate only';
    named.push(blankTensorDiff(restName, same ? 'identical' : 'different', tolerance, { message: `bytes that are not an array follow the last array ${where}${same ? ', the same on both' : ''}` }));
  }
  return named;
}
