// The header of a NumPy .npy file (format versions 1.0, 2.0 and 3.0), read without executing
// anything: magic "\x93NUMPY", major and minor version bytes, the header length (u16 little-endian
// for 1.0, u32 for 2.0 and 3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and '\n'.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { parsePythonLiteral, type PyValue } from '../parse/python-literal.js';

export type NpyKind = 'f' | 'i' | 'u' | 'b' | 'c' | 'other';

/** One multi-byte scalar inside an element of a non-numeric dtype (a record's field, a character of a '<U5'). */
export interface ScalarUnit {
  /** Byte offset inside one element. */
  offset: number;
  /** Bytes: 2, 4, 8 or 16. */
  width: number;
  littleEndian: boolean;
  /** An IEEE half, single or double: with nan_equal off, a NaN there never equals anything. */
  float?: boolean;
}

export interface NpyDtype {
  /** The descr as NumPy wrote it ('<f4'), or a Python rendering of a structured descr. */
  descr: string;
  /** f float, i signed int, u unsigned int, b bool, c complex; 'other' is compared as bytes. */
  kind: NpyKind;
  /** Bytes per element. */
  itemsize: number;
  littleEndian: boolean;
  /** Holds Python objects (descr 'O', alone or as a structured field): the data is a pickle. */
  pickled?: boolean;
  /**
   * For kind 'other': the type with byte order left out ('U2', 'M8[ns]', a record's field names,
   * types and offsets). Two dtypes of kind 'other' hold the same kind of values when these agree.
   */
  canonical?: string;
  /**
   * For kind 'other': the multi-byte scalars of one element and their byte order, so that a side in
   * another byte order is brought to this one before the bytes are compared (byte order is storage).
   * Absent or empty: nothing in an element has a byte order (bytes, '|S5', bools).
   */
  units?: ScalarUnit[];
}

export interface NpyHeader {
  version: [number, number];
  dtype: NpyDtype;
  fortranOrder: boolean;
  shape: number[];
  /** Where the element data starts (the whole header's length, prefix included). */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The most header bytes we accept; NumPy itself refuses to read headers over 10 000 bytes by default. */
export const MAX_NPY_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * The total header length (= data offset) from the first bytes of a file: 10 are enough for
 * version 1.0, 12 for 2.0 and 3.0. Throws for a bad magic, an unknown version or too few bytes.
 */
export function npyHeaderLength(prefix: Uint8Array): number {
  if (prefix.length < 8) {
    if (!MAGIC.slice(0, prefix.length).every((b, i) => prefix[i] === b)) throw new Error('not an .npy file: bad magic');
    throw new Error('truncated header');
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (prefix[i] !== MAGIC[i]) throw new Error('not an .npy file: bad magic');
  }
  const major = prefix[6] as number;
  const minor = prefix[7] as number;
  if (major === 1) {
    if (prefix.length < 10) throw new Error('truncated header');
    return 10 + ((prefix[8] as number) | ((prefix[9] as number) << 8));
  }
  if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new Error('truncated header');
    const len = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, true);
    return 12 + len;
  }
  throw new Error(`unsupported .npy format version ${major}.${minor}`);
}

/** Parses the header at the start of `bytes` (which may hold more than the header). */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const dataOffset = npyHeaderLength(bytes);
  if (dataOffset > MAX_NPY_HEADER_BYTES) throw new Error(`implausible .npy header length ${dataOffset}`);
  if (bytes.length < dataOffset) throw new Error('truncated header');
  const major = bytes[6] as number;
  const minor = bytes[7] as number;
  const start = major === 1 ? 10 : 12;
  const raw = bytes.subarray(start, dataOffset);
  // 1.0 and 2.0 are latin-1, 3.0 is utf-8 (for structured field names).
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : latin1(raw);
  // Python 2 era files may write shapes as (3L, 4L): the suffix goes from integer literals, never
  // from inside a string (a structured field named 'w1l' is not 'w1').
  const value = parsePythonLiteral(withoutLongSuffixes(text));
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value) || value.kind !== 'dict') {
    throw new Error('bad .npy header: not a dict literal');
  }
  const fields = new Map<string, PyValue>();
  for (const [k, v] of value.entries) {
    if (typeof k !== 'string') throw new Error('bad .npy header: non-string key');
    fields.set(k, v);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!fields.has(key)) throw new Error(`bad .npy header: no '${key}'`);
  }
  const fortran = fields.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new Error("bad .npy header: 'fortran_order' is not True/False");
  const shapeValue = fields.get('shape');
  if (!Array.isArray(shapeValue) || !shapeValue.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error("bad .npy header: 'shape' is not a tuple of non-negative integers");
  }
  return {
    version: [major, minor],
    dtype: parseDescr(fields.get('descr') as PyValue),
    fortranOrder: fortran,
    shape: shapeValue as number[],
    dataOffset,
  };
}

/** Python 2 long literals (3L) as plain integers, outside string literals only. */
export function withoutLongSuffixes(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== null) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ((c === 'L' || c === 'l') && /\d/.test(text[i - 1] ?? '') && !/\w/.test(text[i + 1] ?? '')) {
      // The digits before it must be a number, not the end of a name.
      let j = i - 1;
      while (j >= 0 && /\d/.test(text[j] as string)) j--;
      if (j < 0 || !/[\w.]/.test(text[j] as string)) continue;
    }
    out += c;
  }
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

const SIMPLE = /^([<>|=])?([a-zA-Z])(\d+)?(\[\w+\])?$/;

/** A descr: a type string ('<f4', '|b1', '<U5', '<M8[ns]') or a structured list of fields. */
export function parseDescr(descr: PyValue): NpyDtype {
  if (typeof descr === 'string') {
    const m = SIMPLE.exec(descr);
    if (!m) throw new Error(`bad .npy header: unknown descr ${JSON.stringify(descr)}`);
    const order = m[1] ?? '|';
    const code = m[2] as string;
    const size = m[3] === undefined ? undefined : Number(m[3]);
    // '=' (native) is little-endian on every platform NumPy writes these files on in practice.
    const littleEndian = order !== '>';
    const numeric = (kind: NpyKind, sizes: number[]): NpyDtype | null =>
      size !== undefined && sizes.includes(size) && m[4] === undefined ? { descr, kind, itemsize: size, littleEndian } : null;
    const known =
      code === 'f' ? numeric('f', [2, 4, 8])
      : code === 'i' ? numeric('i', [1, 2, 4, 8])
      : code === 'u' ? numeric('u', [1, 2, 4, 8])
      : code === 'b' ? numeric('b', [1])
      : code === 'c' ? numeric('c', [8, 16])
      : null;
    if (known) return known;
    const itemsize = simpleItemsize(code, size, descr);
    const canonical = `${code}${m[3] ?? ''}${m[4] ?? ''}`;
    return { descr, kind: 'other', itemsize, littleEndian, canonical, units: simpleUnits(code, itemsize, littleEndian), ...(code === 'O' ? { pickled: true } : {}) };
  }
  if (Array.isArray(descr)) {
    let offset = 0;
    const units: ScalarUnit[] = [];
    const canonical: string[] = [];
    let pickled = false;
    for (const field of descr) {
      if (!Array.isArray(field) || field.length < 2 || field.length > 3) throw new Error('bad .npy header: bad structured descr');
      const inner = parseDescr(field[1] as PyValue);
      const count = subarrayCount(field[2]);
      pickled ||= inner.pickled === true;
      canonical.push(`${renderPy(field[0] as PyValue)}: ${canonicalOf(inner)}${field[2] === undefined ? '' : ` x${count}`} @${offset}`);
      for (let k = 0; k < count; k++) for (const u of unitsOf(inner)) units.push({ ...u, offset: offset + k * inner.itemsize + u.offset });
      offset += inner.itemsize * count;
    }
    return { descr: renderPy(descr), kind: 'other', itemsize: offset, littleEndian: true, canonical: `{${canonical.join(', ')}}`, units, ...(pickled ? { pickled } : {}) };
  }
  throw new Error(`bad .npy header: unknown descr ${renderPy(descr)}`);
}

/** The type with byte order left out: what two dtypes must agree on to hold the same kind of values. */
export function canonicalOf(dtype: NpyDtype): string {
  return dtype.kind === 'other' ? (dtype.canonical ?? dtype.descr) : `${dtype.kind}${dtype.itemsize}`;
}

/** The multi-byte scalars of one element, whatever the kind (numbers are one or, complex, two). */
export function unitsOf(dtype: NpyDtype): ScalarUnit[] {
  const le = dtype.littleEndian;
  switch (dtype.kind) {
    case 'f':
      return dtype.itemsize > 1 ? [{ offset: 0, width: dtype.itemsize, littleEndian: le, float: true }] : [];
    case 'i':
    case 'u':
      return dtype.itemsize > 1 ? [{ offset: 0, width: dtype.itemsize, littleEndian: le }] : [];
    case 'c': {
      const half = dtype.itemsize / 2;
      return [
        { offset: 0, width: half, littleEndian: le, float: true },
        { offset: half, width: half, littleEndian: le, float: true },
      ];
    }
    case 'b':
      return [];
    default:
      return dtype.units ?? [];
  }
}

/** Scalars with a byte order in a simple non-numeric type: UCS-4 characters, a datetime's int64, a long double. */
function simpleUnits(code: string, itemsize: number, littleEndian: boolean): ScalarUnit[] {
  const each = (width: number, float = false): ScalarUnit[] =>
    Array.from({ length: Math.floor(itemsize / width) }, (_, i) => ({ offset: i * width, width, littleEndian, ...(float ? { float } : {}) }));
  if (code === 'U') return each(4);
  if (code === 'M' || code === 'm') return itemsize === 8 ? each(8) : [];
  if (code === 'f' && itemsize > 8) return each(itemsize);
  if (code === 'c' && itemsize > 16) return each(itemsize / 2);
  if ((code === 'i' || code === 'u') && itemsize > 1) return each(itemsize);
  return [];
}

function subarrayCount(sub: PyValue | undefined): number {
  if (sub === undefined) return 1;
  const dims = Array.isArray(sub) ? sub : [sub];
  let count = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new Error('bad .npy header: bad subarray shape');
    count *= d;
  }
  return count;
}

function simpleItemsize(code: string, size: number | undefined, descr: string): number {
  if (code === 'O') return 8; // pickled: the data section is not raw elements (see npyDataIsPickled)
  if (size === undefined) {
    if (code === 'b' || code === 'B' || code === '?') return 1;
    throw new Error(`bad .npy header: descr ${JSON.stringify(descr)} has no size`);
  }
  return code === 'U' ? 4 * size : size;
}

/** Object arrays hold a pickle after the header, not fixed-size elements. */
export function npyDataIsPickled(dtype: NpyDtype): boolean {
  return dtype.pickled === true;
}

/** Python's rendering of a literal, for messages: [('a', '<f4'), ('b', '<i8', (2,))]. */
export function renderPy(value: PyValue): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  if (Array.isArray(value)) return `[${value.map((v) => (Array.isArray(v) ? formatTuple(v.map(renderPy)) : renderPy(v))).join(', ')}]`;
  if (value.kind === 'dict') return `{${value.entries.map(([k, v]) => `${renderPy(k)}: ${renderPy(v)}`).join(', ')}}`;
  if (value.kind === 'call') return `${value.callee}(${value.args.map(renderPy).join(', ')})`;
  return value.name;
}

function formatTuple(items: string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** A shape as NumPy prints it: (3, 4), (3,), (). */
export function formatShape(shape: readonly number[]): string {
  return formatTuple(shape.map(String));
}

/** Number of elements of a shape (1 for a 0-d scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
