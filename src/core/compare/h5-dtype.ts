// What an HDF5 datatype holds, as the tensor pairing in tensor-pair.ts judges it: numbers (ints,
// floats, h5py's complex {r, i} and bool FALSE/TRUE enums) by value, everything else (strings,
// enums, compounds, arrays, opaque and reference types) bit for bit with its full type: field
// names, field types and offsets, enum members, string length, character set and padding. Pure:
// the adapter hands over the datatype description h5wasm gives and the bytes it reads.
//
// Byte order is storage, as for .npy files. The bytes arrive as h5wasm reads them: a datatype
// whose order is big-endian as a whole (H5Tget_order: an atomic type, or a compound all of whose
// ordered members are big-endian) is converted to little-endian by HDF5 as it reads; one of mixed
// order arrives as stored. Each scalar's byte order in memory is worked out the same way here, so
// that a side in another order is swapped into the other's, scalar by scalar, before comparing.
import { renderPy, type NpyDtype, type ScalarUnit } from './npy-header.js';

/** The parts of h5wasm's datatype metadata this reads (H5T_class_t numbers in `type`). */
export interface H5TypeInfo {
  type: number;
  size: number;
  signed?: boolean;
  littleEndian: boolean;
  vlen?: boolean;
  cset?: number;
  strpad?: number;
  compound_type?: { members: Array<H5TypeInfo & { name: string; offset: number }> };
  enum_type?: { type: number; members: Record<string, number> };
  array_type?: H5TypeInfo & { shape?: number[] };
  vlen_type?: H5TypeInfo;
  ref_type?: string;
}

export const H5T_INTEGER = 0;
export const H5T_FLOAT = 1;
export const H5T_TIME = 2;
export const H5T_STRING = 3;
export const H5T_BITFIELD = 4;
export const H5T_OPAQUE = 5;
export const H5T_COMPOUND = 6;
export const H5T_REFERENCE = 7;
export const H5T_ENUM = 8;
export const H5T_VLEN = 9;
export const H5T_ARRAY = 10;

type Order = 'le' | 'be' | 'none' | 'mixed';

/** H5Tget_order as HDF5 computes it: atomic types their own, fixed strings and opaque none, a compound its members' (none ignored). */
export function h5Order(t: H5TypeInfo): Order {
  switch (t.type) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_TIME:
    case H5T_BITFIELD:
    case H5T_ENUM:
      return t.littleEndian ? 'le' : 'be';
    case H5T_COMPOUND: {
      let order: Order = 'none';
      for (const m of t.compound_type?.members ?? []) {
        const o = h5Order(m);
        if (o === 'none') continue;
        if (o === 'mixed' || (order !== 'none' && order !== o)) return 'mixed';
        order = o;
      }
      return order;
    }
    case H5T_ARRAY:
      return t.array_type ? h5Order(t.array_type) : 'none';
    case H5T_VLEN:
      return t.vlen_type ? h5Order(t.vlen_type) : 'none';
    case H5T_STRING:
      // A fixed-length string has no order; a variable-length one has its characters' (little-endian).
      return t.vlen && t.littleEndian ? 'le' : 'none';
    default:
      return 'none';
  }
}

/** Whether the type holds variable-length data (pointers in memory): compared by its values, not its bytes. */
export function h5IsVariable(t: H5TypeInfo): boolean {
  if (t.type === H5T_VLEN || (t.type === H5T_STRING && t.vlen === true)) return true;
  if (t.type === H5T_COMPOUND) return (t.compound_type?.members ?? []).some(h5IsVariable);
  if (t.type === H5T_ARRAY) return t.array_type !== undefined && h5IsVariable(t.array_type);
  return false;
}

const CSETS = ['ascii', 'utf-8'];
const PADS = ['nullterm', 'nullpad', 'spacepad'];

function orderChar(t: H5TypeInfo): string {
  return t.size === 1 ? '|' : t.littleEndian ? '<' : '>';
}

/** The type as the report shows it, in the file's own byte order: '<f4', '|S4', "[('a', '<i4'), ('b', '<f4')]", 'enum(|i1){RED: 0, GREEN: 1}'. */
export function h5Descr(t: H5TypeInfo): string {
  switch (t.type) {
    case H5T_INTEGER:
      return `${orderChar(t)}${t.signed ? 'i' : 'u'}${t.size}`;
    case H5T_FLOAT:
      return `${orderChar(t)}f${t.size}`;
    case H5T_STRING: {
      const cset = CSETS[t.cset ?? 0] ?? `cset${t.cset}`;
      if (t.vlen) return `str (${cset})`;
      const pad = PADS[t.strpad ?? 1] ?? `pad${t.strpad}`;
      return cset === 'ascii' && pad === 'nullpad' ? `|S${t.size}` : `|S${t.size} (${cset}, ${pad})`;
    }
    case H5T_ENUM: {
      const members = Object.entries(t.enum_type?.members ?? {}).sort(([x, a], [y, b]) => a - b || (x < y ? -1 : x > y ? 1 : 0));
      return `enum(${orderChar(t)}${t.signed ? 'i' : 'u'}${t.size}){${members.map(([name, value]) => `${name}: ${value}`).join(', ')}}`;
    }
    case H5T_COMPOUND: {
      const members = t.compound_type?.members ?? [];
      let packed = 0;
      const fields = members.map((m) => {
        const ok = m.offset === packed;
        packed = m.offset + m.size;
        const inner = h5Descr(m);
        return { text: `(${renderPy(m.name)}, ${m.type === H5T_COMPOUND || m.type === H5T_ARRAY ? inner : renderPy(inner)})`, ok, offset: m.offset };
      });
      const layout = fields.every((f) => f.ok) && packed === t.size ? '' : ` (offsets ${fields.map((f) => f.offset).join(', ')}; ${t.size} bytes)`;
      return `[${fields.map((f) => f.text).join(', ')}]${layout}`;
    }
    case H5T_ARRAY: {
      const shape = t.array_type?.shape ?? [];
      const base = t.array_type ? h5Descr(t.array_type) : '?';
      return `(${t.array_type?.type === H5T_COMPOUND ? base : renderPy(base)}, (${shape.join(', ')}${shape.length === 1 ? ',' : ''}))`;
    }
    case H5T_VLEN:
      return `vlen(${t.vlen_type ? h5Descr(t.vlen_type) : '?'})`;
    case H5T_OPAQUE:
      return `|V${t.size}`;
    case H5T_REFERENCE:
      return `ref(${t.ref_type ?? '?'})`;
    case H5T_BITFIELD:
      return `${orderChar(t)}bitfield${t.size}`;
    default:
      return `h5class${t.type}/${t.size}`;
  }
}

/** The type with byte order left out: what two sides must agree on. */
export function h5Canonical(t: H5TypeInfo): string {
  switch (t.type) {
    case H5T_INTEGER:
    case H5T_ENUM: {
      const base = `${t.signed ? 'i' : 'u'}${t.size}`;
      if (t.type === H5T_INTEGER) return base;
      const members = Object.entries(t.enum_type?.members ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      return `enum(${base}){${members.map(([name, value]) => `${JSON.stringify(name)}=${value}`).join(',')}}`;
    }
    case H5T_FLOAT:
      return `f${t.size}`;
    case H5T_STRING:
      return t.vlen ? `str/${t.cset ?? 0}` : `S${t.size}/${t.cset ?? 0}/${t.strpad ?? 1}`;
    case H5T_COMPOUND:
      return `{${(t.compound_type?.members ?? []).map((m) => `${JSON.stringify(m.name)}:${h5Canonical(m)}@${m.offset}`).join(',')}}/${t.size}`;
    case H5T_ARRAY:
      return `(${(t.array_type?.shape ?? []).join(',')})${t.array_type ? h5Canonical(t.array_type) : '?'}`;
    case H5T_VLEN:
      return `vlen(${t.vlen_type ? h5Canonical(t.vlen_type) : '?'})`;
    case H5T_REFERENCE:
      return `ref(${t.ref_type ?? '?'})/${t.size}`;
    default:
      return `h5class${t.type}/${t.size}`;
  }
}

/** The scalars with a byte order inside one element, at their byte order in memory. */
function h5Units(t: H5TypeInfo, converted: boolean, offset: number, out: ScalarUnit[]): void {
  switch (t.type) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_TIME:
    case H5T_BITFIELD:
    case H5T_ENUM:
      if (t.size > 1) out.push({ offset, width: t.size, littleEndian: converted || t.littleEndian, ...(t.type === H5T_FLOAT && [2, 4, 8].includes(t.size) ? { float: true } : {}) });
      return;
    case H5T_COMPOUND:
      for (const m of t.compound_type?.members ?? []) h5Units(m, converted, offset + m.offset, out);
      return;
    case H5T_ARRAY: {
      const base = t.array_type;
      if (!base) return;
      const count = (base.shape ?? []).reduce((n, d) => n * d, 1);
      for (let i = 0; i < count; i++) h5Units(base, converted, offset + i * base.size, out);
      return;
    }
    default:
  }
}

/** Whether HDF5 hands the bytes of this type over converted to little-endian (its order is big-endian as a whole). */
export function h5ReadsConverted(t: H5TypeInfo): boolean {
  return h5Order(t) === 'be';
}

/** h5py's complex numbers: a compound {r, i} of two floats of one width and one byte order. */
function complexOf(t: H5TypeInfo): number | null {
  const members = t.compound_type?.members ?? [];
  const [r, i] = members;
  if (t.type !== H5T_COMPOUND || members.length !== 2 || r === undefined || i === undefined) return null;
  if (r.name !== 'r' || i.name !== 'i' || r.type !== H5T_FLOAT || i.type !== H5T_FLOAT || r.size !== i.size || ![4, 8].includes(r.size)) return null;
  if (r.offset !== 0 || i.offset !== r.size || t.size !== 2 * r.size || r.littleEndian !== i.littleEndian) return null;
  return t.size;
}

/** h5py's bools: an enum {FALSE: 0, TRUE: 1} over a one-byte integer. */
function isBoolEnum(t: H5TypeInfo): boolean {
  const members = t.enum_type?.members ?? {};
  const names = Object.keys(members);
  return t.type === H5T_ENUM && t.size === 1 && names.length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

/**
 * The dtype of an HDF5 type for the pairing. Numbers are numeric kinds over little-endian bytes
 * (HDF5 converts a big-endian one as it reads); everything else is kind 'other', with its full
 * type as `canonical` and its scalars' byte order in memory as `units`.
 */
export function h5Dtype(t: H5TypeInfo): NpyDtype {
  const descr = h5Descr(t);
  if (t.type === H5T_INTEGER && [1, 2, 4, 8].includes(t.size)) return { descr, kind: t.signed ? 'i' : 'u', itemsize: t.size, littleEndian: true };
  if (t.type === H5T_FLOAT && [2, 4, 8].includes(t.size)) return { descr, kind: 'f', itemsize: t.size, littleEndian: true };
  const complex = complexOf(t);
  if (complex !== null) return { descr: `${orderChar(t.compound_type?.members[0] as H5TypeInfo)}c${complex}`, kind: 'c', itemsize: complex, littleEndian: true };
  if (isBoolEnum(t)) return { descr: '|b1', kind: 'b', itemsize: 1, littleEndian: true };
  const units: ScalarUnit[] = [];
  h5Units(t, h5ReadsConverted(t), 0, units);
  return { descr, kind: 'other', itemsize: t.size, littleEndian: true, canonical: h5Canonical(t), units };
}
