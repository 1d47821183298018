// Folds two arrays' raw element bytes, chunk by chunk, into the numbers of a TensorDiff.
//
// Speed: a chunk pair that is byte-equal is skipped with one memcmp (Buffer.equals). Otherwise
// a tight loop compares the elements' bits through integer views (no allocation, no BigInt),
// and only elements whose bits differ are decoded (DataView, so any byte order) and judged.
// Values are decoded for every element only when NaNs that are bit-identical must still count
// as mismatches (allclose with nan_equal false), or when a chunk is not aligned for the views.
//
// Semantics (numpy.isclose(candidate, baseline): b is the baseline, as in the report model):
//   bitwise   elements differ iff their bytes differ (a NaN with identical bits is equal), except
//             that with nan_equal false a NaN never equals anything, as in every other mode.
//   allclose  |a - b| <= atol + rtol * |b|; NaN equals NaN only with nan_equal; ±inf only itself.
//             Complex numbers use the modulus, as NumPy does. int64/uint64 differences are exact
//             (BigInt) and then converted to Number. Bools are 0/1.
//   ignore    no element work: 'identical' when the bytes are equal, else 'equivalent'; no stats.
//   'other' dtypes (structured, strings, datetimes...) are compared as bytes per element in
//   both bitwise and allclose modes (a NaN in a float field fails with nan_equal off, as anywhere).
// max_abs_diff / max_rel_diff cover the finite pairs whose bits differ (equal pairs contribute 0);
// both are 0 when elements were compared and none differ, and null when there are no elements or
// the dtype has no numeric value (strings, structured records: a distance means nothing there).
// max_rel_diff only counts pairs with b != 0.
import type { Tolerance, TensorDiff } from './model.js';
import { elementCount, type NpyDtype, type ScalarUnit } from './npy-header.js';

export type TensorStats = Pick<TensorDiff, 'status' | 'max_abs_diff' | 'max_rel_diff' | 'mismatched' | 'mismatched_fraction' | 'first_mismatch' | 'elements'>;

export interface TensorAccumulatorOptions {
  dtype: NpyDtype;
  shape: number[];
  tolerance: Tolerance;
  /** The bytes are in Fortran (column-major) storage order; indexes are still reported in C order. */
  fortranOrder?: boolean;
}

export interface TensorAccumulator {
  /**
   * Two aligned chunks: the same byte length, a whole number of elements, starting at flat
   * (storage-order) element index `firstElementIndex`.
   */
  add(baselineChunk: Uint8Array, candidateChunk: Uint8Array, firstElementIndex: number): void;
  finish(): TensorStats;
}

export function createTensorAccumulator(options: TensorAccumulatorOptions): TensorAccumulator {
  return new Accumulator(options);
}

// Decoders, by what the element is.
const D_F16 = 1;
const D_F32 = 2;
const D_F64 = 3;
const D_I8 = 4;
const D_U8 = 5;
const D_I16 = 6;
const D_U16 = 7;
const D_I32 = 8;
const D_U32 = 9;
const D_I64 = 10;
const D_U64 = 11;
const D_BOOL = 12;
const D_C64 = 13;
const D_C128 = 14;
const D_BYTES = 15;

function decoderFor(dtype: NpyDtype): number {
  const { kind, itemsize } = dtype;
  if (kind === 'f') return itemsize === 2 ? D_F16 : itemsize === 4 ? D_F32 : D_F64;
  if (kind === 'i') return itemsize === 1 ? D_I8 : itemsize === 2 ? D_I16 : itemsize === 4 ? D_I32 : D_I64;
  if (kind === 'u') return itemsize === 1 ? D_U8 : itemsize === 2 ? D_U16 : itemsize === 4 ? D_U32 : D_U64;
  if (kind === 'b') return D_BOOL;
  if (kind === 'c') return itemsize === 8 ? D_C64 : D_C128;
  return D_BYTES;
}

let HALF: Float32Array | null = null;

/** IEEE half-precision bits to a number, through a 65536-entry table built on first use. */
export function halfToNumber(bits: number): number {
  if (HALF === null) {
    HALF = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      HALF[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
  }
  return HALF[bits & 0xffff] as number;
}

/** Bytes per memcmp'd block inside a chunk pair that is not byte-equal. */
const BLOCK_BYTES = 512;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

class Accumulator implements TensorAccumulator {
  private readonly itemsize: number;
  private readonly decoder: number;
  private readonly littleEndian: boolean;
  private readonly mode: Tolerance['mode'];
  private readonly rtol: number;
  private readonly atol: number;
  private readonly nanEqual: boolean;
  /** Values must be decoded even where bits are equal (bit-identical NaNs are mismatches). */
  private readonly decodeAll: boolean;
  private readonly shape: number[];
  private readonly fortran: boolean;
  private readonly cStrides: number[];
  private readonly total: number;
  private readonly floatUnits: ScalarUnit[];

  private anyBitDiff = false;
  private mismatched = 0;
  private maxAbs = 0;
  private maxRel = 0;
  /** Smallest C-order flat index of a mismatch; -1 for none. */
  private firstFlat = -1;

  // The chunk pair being scanned.
  private dvA: DataView = new DataView(new ArrayBuffer(0));
  private dvB: DataView = new DataView(new ArrayBuffer(0));
  private base = 0;

  constructor(options: TensorAccumulatorOptions) {
    this.itemsize = options.dtype.itemsize;
    this.decoder = decoderFor(options.dtype);
    this.littleEndian = options.dtype.littleEndian;
    this.mode = options.tolerance.mode;
    this.rtol = options.tolerance.rtol;
    this.atol = options.tolerance.atol;
    this.nanEqual = options.tolerance.nan_equal;
    this.shape = options.shape.slice();
    this.fortran = options.fortranOrder === true && options.shape.length > 1;
    this.total = elementCount(options.shape);
    this.cStrides = cStrides(options.shape);
    // The floats inside a record (or any non-numeric element), for nan_equal off.
    this.floatUnits = this.decoder === D_BYTES ? (options.dtype.units ?? []).filter((u) => u.float === true) : [];
    const floaty = options.dtype.kind === 'f' || options.dtype.kind === 'c' || this.floatUnits.length > 0;
    // With nan_equal off, a NaN fails even where the other side holds the very same bits.
    this.decodeAll = this.mode !== 'ignore' && !this.nanEqual && floaty;
    if (this.itemsize < 0) throw new Error('tensor accumulator: itemsize must not be negative');
  }

  add(baselineChunk: Uint8Array, candidateChunk: Uint8Array, firstElementIndex: number): void {
    const len = baselineChunk.byteLength;
    if (candidateChunk.byteLength !== len) throw new Error('tensor accumulator: chunks differ in length');
    // Elements of no bytes at all (np.dtype([])): nothing can differ.
    if (this.itemsize === 0) return;
    if (len % this.itemsize !== 0) throw new Error('tensor accumulator: chunk is not a whole number of elements');
    const n = len / this.itemsize;
    if (n === 0) return;
    const a = asBuffer(baselineChunk);
    const b = asBuffer(candidateChunk);
    if (!this.decodeAll && a.equals(b)) return;
    if (this.mode === 'ignore') {
      if (!a.equals(b)) this.anyBitDiff = true;
      return;
    }
    this.dvA = new DataView(a.buffer, a.byteOffset, len);
    this.dvB = new DataView(b.buffer, b.byteOffset, len);
    this.base = firstElementIndex;
    if (this.decodeAll || this.decoder === D_BYTES) {
      this.scanBytes(a, b, n);
      return;
    }
    const size = this.itemsize;
    const align = size >= 4 ? 4 : size;
    if (a.byteOffset % align !== 0 || b.byteOffset % align !== 0) {
      this.scanBytes(a, b, n);
      return;
    }
    // Views over the whole chunk pair, then memcmp small blocks and scan only the blocks that
    // differ: sparse differences (noise in a few elements) cost little more than a memcmp.
    const words = size >= 4 ? size >> 2 : 1;
    const va = size === 1 ? a : size === 2 ? new Uint16Array(a.buffer, a.byteOffset, n) : new Int32Array(a.buffer, a.byteOffset, n * words);
    const vb = size === 1 ? b : size === 2 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Int32Array(b.buffer, b.byteOffset, n * words);
    const perBlock = Math.max(1, Math.floor(BLOCK_BYTES / size));
    const blockBytes = perBlock * size;
    for (let start = 0, off = 0; start < n; start += perBlock, off += blockBytes) {
      const end = Math.min(n, start + perBlock);
      const endOff = end * size;
      if (a.compare(b, off, endOff, off, endOff) === 0) continue;
      if (size === 1) this.scan8(a, b, start, end);
      else if (size === 2) this.scan16(va as Uint16Array, vb as Uint16Array, start, end);
      else if (size === 4) this.scan32(va as Int32Array, vb as Int32Array, start, end);
      else if (size === 8) this.scan64(va as Int32Array, vb as Int32Array, start, end);
      else this.scanWords(va as Int32Array, vb as Int32Array, start, end, words);
    }
  }

  private scan8(a: Uint8Array, b: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (a[i] !== b[i]) this.judge(i, true);
    }
  }

  private scan16(a: Uint16Array, b: Uint16Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (a[i] !== b[i]) this.judge(i, true);
    }
  }

  private scan32(a: Int32Array, b: Int32Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (a[i] !== b[i]) this.judge(i, true);
    }
  }

  private scan64(a: Int32Array, b: Int32Array, start: number, end: number): void {
    for (let i = start, j = 2 * start; i < end; i++, j += 2) {
      if (a[j] !== b[j] || a[j + 1] !== b[j + 1]) this.judge(i, true);
    }
  }

  private scanWords(a: Int32Array, b: Int32Array, start: number, end: number, words: number): void {
    for (let i = start, j = start * words; i < end; i++, j += words) {
      for (let k = 0; k < words; k++) {
        if (a[j + k] !== b[j + k]) {
          this.judge(i, true);
          break;
        }
      }
    }
  }

  /** Any alignment, any dtype; decodes every element when decodeAll. */
  private scanBytes(a: Uint8Array, b: Uint8Array, n: number): void {
    const size = this.itemsize;
    for (let i = 0, off = 0; i < n; i++, off += size) {
      let differ = false;
      for (let k = 0; k < size; k++) {
        if (a[off + k] !== b[off + k]) {
          differ = true;
          break;
        }
      }
      if (differ || this.decodeAll) this.judge(i, differ);
    }
  }

  /** Element i of the current chunk pair: decode, update the stats, count a mismatch. */
  private judge(i: number, bitsDiffer: boolean): void {
    if (bitsDiffer) this.anyBitDiff = true;
    const off = i * this.itemsize;
    const A = this.dvA;
    const B = this.dvB;
    const le = this.littleEndian;
    let a = 0; // baseline
    let b = 0; // candidate
    switch (this.decoder) {
      case D_F16:
        a = halfToNumber(A.getUint16(off, le));
        b = halfToNumber(B.getUint16(off, le));
        break;
      case D_F32:
        a = A.getFloat32(off, le);
        b = B.getFloat32(off, le);
        break;
      case D_F64:
        a = A.getFloat64(off, le);
        b = B.getFloat64(off, le);
        break;
      case D_I8:
        a = A.getInt8(off);
        b = B.getInt8(off);
        break;
      case D_U8:
        a = A.getUint8(off);
        b = B.getUint8(off);
        break;
      case D_I16:
        a = A.getInt16(off, le);
        b = B.getInt16(off, le);
        break;
      case D_U16:
        a = A.getUint16(off, le);
        b = B.getUint16(off, le);
        break;
      case D_I32:
        a = A.getInt32(off, le);
        b = B.getInt32(off, le);
        break;
      case D_U32:
        a = A.getUint32(off, le);
        b = B.getUint32(off, le);
        break;
      case D_BOOL:
        a = A.getUint8(off) !== 0 ? 1 : 0;
        b = B.getUint8(off) !== 0 ? 1 : 0;
        break;
      case D_I64:
      case D_U64: {
        const x = this.decoder === D_I64 ? A.getBigInt64(off, le) : A.getBigUint64(off, le);
        const y = this.decoder === D_I64 ? B.getBigInt64(off, le) : B.getBigUint64(off, le);
        const d = x > y ? x - y : y - x;
        this.finite(Number(d), Math.abs(Number(x)), bitsDiffer, i);
        return;
      }
      case D_C64:
      case D_C128: {
        const half = this.itemsize >> 1;
        const f64 = this.decoder === D_C128;
        const ar = f64 ? A.getFloat64(off, le) : A.getFloat32(off, le);
        const ai = f64 ? A.getFloat64(off + half, le) : A.getFloat32(off + half, le);
        const br = f64 ? B.getFloat64(off, le) : B.getFloat32(off, le);
        const bi = f64 ? B.getFloat64(off + half, le) : B.getFloat32(off + half, le);
        const aNaN = ar !== ar || ai !== ai;
        const bNaN = br !== br || bi !== bi;
        if (aNaN || bNaN) {
          this.nonFinite(this.nanEqual && aNaN && bNaN, bitsDiffer, i);
        } else if (!Number.isFinite(ar) || !Number.isFinite(ai) || !Number.isFinite(br) || !Number.isFinite(bi)) {
          this.nonFinite(ar === br && ai === bi, bitsDiffer, i);
        } else {
          const dr = ar - br;
          const di = ai - bi;
          this.finite(Math.sqrt(dr * dr + di * di), Math.sqrt(ar * ar + ai * ai), bitsDiffer, i);
        }
        return;
      }
      default:
        // Bytes: no value semantics; a difference is a mismatch in every mode, and with nan_equal
        // off so is a NaN in a float inside the element (a record's field), as everywhere else.
        if (bitsDiffer || (this.decodeAll && (this.holdsNaN(A, off) || this.holdsNaN(B, off)))) this.mismatch(i);
        return;
    }
    if (a !== a || b !== b) {
      this.nonFinite(this.nanEqual && a !== a && b !== b, bitsDiffer, i);
    } else if (!Number.isFinite(a) || !Number.isFinite(b)) {
      this.nonFinite(a === b, bitsDiffer, i);
    } else {
      this.finite(Math.abs(a - b), Math.abs(a), bitsDiffer, i);
    }
  }

  /** Whether a float inside the element at `off` is a NaN. */
  private holdsNaN(view: DataView, off: number): boolean {
    for (const u of this.floatUnits) {
      const at = off + u.offset;
      if (u.width === 2) {
        const h = view.getUint16(at, u.littleEndian);
        if ((h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0) return true;
      } else if (u.width === 4) {
        if (Number.isNaN(view.getFloat32(at, u.littleEndian))) return true;
      } else if (u.width === 8) {
        if (Number.isNaN(view.getFloat64(at, u.littleEndian))) return true;
      }
    }
    return false;
  }

  /** absB: |baseline| (the model's b). */
  private finite(absDiff: number, absB: number, bitsDiffer: boolean, i: number): void {
    if (absDiff > this.maxAbs) this.maxAbs = absDiff;
    if (absB !== 0) {
      const rel = absDiff / absB;
      if (rel > this.maxRel) this.maxRel = rel;
    }
    const bad = this.mode === 'bitwise' ? bitsDiffer : !(absDiff <= this.atol + this.rtol * absB);
    if (bad) this.mismatch(i);
  }

  /** equal: the pair counts as equal in value (NaN pairs only with nan_equal, infinities only themselves). */
  private nonFinite(equal: boolean, bitsDiffer: boolean, i: number): void {
    // Bitwise: the bits decide, except that a NaN with nan_equal off is never equal.
    const bad = this.mode === 'bitwise' ? bitsDiffer || (!this.nanEqual && !equal) : !equal;
    if (bad) this.mismatch(i);
  }

  private mismatch(i: number): void {
    this.mismatched++;
    let flat = this.base + i;
    if (this.fortran) flat = fortranToCFlat(flat, this.shape, this.cStrides);
    if (this.firstFlat < 0 || flat < this.firstFlat) this.firstFlat = flat;
  }

  finish(): TensorStats {
    const elements = this.total;
    const status = this.mismatched > 0 ? 'different' : this.anyBitDiff ? 'equivalent' : 'identical';
    const stats = this.mode !== 'ignore' && elements > 0 && this.decoder !== D_BYTES;
    return {
      status,
      elements,
      max_abs_diff: stats ? this.maxAbs : null,
      max_rel_diff: stats ? this.maxRel : null,
      mismatched: this.mismatched,
      mismatched_fraction: elements > 0 ? this.mismatched / elements : 0,
      first_mismatch: this.firstFlat < 0 ? null : unravelC(this.firstFlat, this.shape),
    };
  }
}

/** Flat index in C (row-major) order to a multi-index. */
export function unravelC(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d] as number;
    idx[d] = rest % dim;
    rest = Math.floor(rest / dim);
  }
  return idx;
}

function cStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d] as number;
  }
  return strides;
}

function fortranToCFlat(flat: number, shape: readonly number[], strides: readonly number[]): number {
  let rest = flat;
  let c = 0;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d] as number;
    c += (rest % dim) * (strides[d] as number);
    rest = Math.floor(rest / dim);
  }
  return c;
}

/** Reorders a whole Fortran-order array's bytes into C order (for comparing it with a C-order one). */
export function fortranToC(bytes: Uint8Array, shape: readonly number[], itemsize: number): Uint8Array {
  const n = elementCount(shape);
  const out = new Uint8Array(n * itemsize);
  if (shape.length <= 1 || n === 0) {
    out.set(bytes.subarray(0, n * itemsize));
    return out;
  }
  const strides = cStrides(shape);
  const idx = new Array<number>(shape.length).fill(0);
  let c = 0; // C-order flat index of the element at Fortran position f
  for (let f = 0, src = 0; f < n; f++, src += itemsize) {
    const dst = c * itemsize;
    for (let k = 0; k < itemsize; k++) out[dst + k] = bytes[src + k] as number;
    // Advance the Fortran-order multi-index (first axis fastest), keeping c in step.
    for (let d = 0; d < shape.length; d++) {
      const next = (idx[d] as number) + 1;
      if (next < (shape[d] as number)) {
        idx[d] = next;
        c += strides[d] as number;
        break;
      }
      c -= (idx[d] as number) * (strides[d] as number);
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reverses the byte order of every element of a chunk in place: one side's bytes, brought into the
 * other side's byte order, so the same values compare as the same bits. Complex numbers are two
 * floats, each swapped on its own.
 */
export function swapByteOrder(chunk: Uint8Array, dtype: Pick<NpyDtype, 'kind' | 'itemsize'>): void {
  const width = dtype.kind === 'c' ? dtype.itemsize >> 1 : dtype.itemsize;
  if (width <= 1) return;
  const whole = chunk.length - (chunk.length % width);
  const view = Buffer.from(chunk.buffer, chunk.byteOffset, whole);
  // Node's own swaps are native loops; other widths (none NumPy writes for numbers) go byte by byte.
  if (width === 2) return void view.swap16();
  if (width === 4) return void view.swap32();
  if (width === 8) return void view.swap64();
  for (let off = 0; off + width <= whole; off += width) {
    for (let i = off, j = off + width - 1; i < j; i++, j--) {
      const t = chunk[i] as number;
      chunk[i] = chunk[j] as number;
      chunk[j] = t;
    }
  }
}

/**
 * Reverses the byte order of some scalars of every element of a chunk in place (a record's
 * multi-byte fields, a string's UCS-4 characters), leaving the rest of each element as it is.
 */
export function swapUnits(chunk: Uint8Array, itemsize: number, units: readonly Pick<ScalarUnit, 'offset' | 'width'>[]): void {
  if (itemsize <= 0 || units.length === 0) return;
  const whole = chunk.length - (chunk.length % itemsize);
  // Every scalar of one width covering whole elements ('<U5', '<M8[ns]', a record of int32s): one native swap.
  const width = units[0]?.width as number;
  if (units.every((u, i) => u.width === width && u.offset === i * width) && units.length * width === itemsize) {
    swapByteOrder(chunk.subarray(0, whole), { kind: 'other', itemsize: width });
    return;
  }
  for (let base = 0; base + itemsize <= whole; base += itemsize) {
    for (const u of units) {
      for (let i = base + u.offset, j = base + u.offset + u.width - 1; i < j; i++, j--) {
        const t = chunk[i] as number;
        chunk[i] = chunk[j] as number;
        chunk[j] = t;
      }
    }
  }
}
