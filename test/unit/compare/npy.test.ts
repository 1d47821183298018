import { describe, expect, it } from '@jest/globals';
import { formatShape, npyDataIsPickled, parseNpyHeader } from '../../../src/core/compare/npy-header.js';
import { createTensorAccumulator, fortranToC, halfToNumber } from '../../../src/core/compare/tensor-compare.js';
import type { Tolerance } from '../../../src/core/compare/model.js';
import { BIT, CLOSE, CLOSE_NONAN, IGNORE } from '../../helpers/numpy-fixtures.js';

// ---------------------------------------------------------------------------------------------
// Header parsing and the accumulator, on hand-made bytes.

function npyBytes(dict: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const encode = (text: string): Uint8Array => (version === 3 ? new TextEncoder().encode(text) : Uint8Array.from(text, (c) => c.charCodeAt(0)));
  let header = encode(dict);
  const pad = (64 - ((prefix + header.length + 1) % 64)) % 64;
  header = encode(dict + ' '.repeat(pad) + '\n');
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(header, prefix);
  out.set(data, prefix + header.length);
  return out;
}

describe('parseNpyHeader', () => {
  it('reads v1, v2 and v3 headers', () => {
    const v1bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }");
    const v1 = parseNpyHeader(v1bytes);
    expect(v1).toEqual({ version: [1, 0], dtype: { descr: '<f4', kind: 'f', itemsize: 4, littleEndian: true }, fortranOrder: false, shape: [3, 4], dataOffset: v1bytes.length });
    const v2 = parseNpyHeader(npyBytes("{'descr': '>i8', 'fortran_order': True, 'shape': (5,), }", undefined, 2));
    expect(v2.version).toEqual([2, 0]);
    expect(v2.dtype).toEqual({ descr: '>i8', kind: 'i', itemsize: 8, littleEndian: false });
    expect(v2.fortranOrder).toBe(true);
    expect(v2.shape).toEqual([5]);
    expect(v2.dataOffset % 64).toBe(0);
    const v3 = parseNpyHeader(npyBytes("{'descr': [('é', '<u2')], 'fortran_order': False, 'shape': (), }", undefined, 3));
    expect(v3.dtype.kind).toBe('other');
    expect(v3.dtype.itemsize).toBe(2);
    expect(v3.shape).toEqual([]);
  });

  it('reads Python 2 shapes (3L, 4L) and leaves an l or L inside a field name alone', () => {
    expect(parseNpyHeader(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }")).shape).toEqual([3, 4]);
    const named = parseNpyHeader(npyBytes("{'descr': [('w1l', '<f4'), ('x2L', '<i4', (2L,))], 'fortran_order': False, 'shape': (1L,), }"));
    expect(named.dtype.descr).toBe("[('w1l', '<f4'), ('x2L', '<i4', [2])]");
    expect(named.shape).toEqual([1]);
  });

  it('knows every numeric dtype NumPy writes', () => {
    const cases: Array<[string, string, number, boolean]> = [
      ['<f2', 'f', 2, true], ['>f2', 'f', 2, false], ['<f4', 'f', 4, true], ['>f8', 'f', 8, false],
      ['|b1', 'b', 1, true], ['|i1', 'i', 1, true], ['|u1', 'u', 1, true], ['<i2', 'i', 2, true], ['>u4', 'u', 4, false],
      ['<i8', 'i', 8, true], ['<u8', 'u', 8, true], ['<c8', 'c', 8, true], ['<c16', 'c', 16, true],
      ['<U5', 'other', 20, true], ['|S3', 'other', 3, true], ['<M8[ns]', 'other', 8, true], ['<f16', 'other', 16, true],
    ];
    for (const [descr, kind, itemsize, le] of cases) {
      const h = parseNpyHeader(npyBytes(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`));
      expect(h.dtype).toMatchObject({ descr, kind, itemsize, littleEndian: le });
    }
    // Non-numeric types: what they hold without the byte order, and where their scalars are.
    const other = (descr: string) => parseNpyHeader(npyBytes(`{'descr': ${descr}, 'fortran_order': False, 'shape': (2,), }`)).dtype;
    expect(other("'>U2'")).toMatchObject({ canonical: 'U2', units: [{ offset: 0, width: 4, littleEndian: false }, { offset: 4, width: 4, littleEndian: false }] });
    expect(other("'<M8[ns]'")).toMatchObject({ canonical: 'M8[ns]', units: [{ offset: 0, width: 8, littleEndian: true }] });
    expect(other("'|S3'")).toMatchObject({ canonical: 'S3', units: [] });
    expect(other("[('a', '>i4'), ('b', '<f8', (2,))]")).toMatchObject({
      canonical: "{'a': i4 @0, 'b': f8 x2 @4}",
      units: [
        { offset: 0, width: 4, littleEndian: false },
        { offset: 4, width: 8, littleEndian: true, float: true },
        { offset: 12, width: 8, littleEndian: true, float: true },
      ],
    });
    expect(other("[]")).toMatchObject({ itemsize: 0, canonical: '{}', units: [] });
    const structured = parseNpyHeader(npyBytes("{'descr': [('x', '<i4'), ('y', '<f8', (2,)), ('z', [('a', '|u1')])], 'fortran_order': False, 'shape': (2,), }"));
    expect(structured.dtype.kind).toBe('other');
    expect(structured.dtype.itemsize).toBe(4 + 16 + 1);
    expect(structured.dtype.descr).toBe("[('x', '<i4'), ('y', '<f8', [2]), ('z', [('a', '|u1')])]");
    expect(npyDataIsPickled(parseNpyHeader(npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }")).dtype)).toBe(true);
    expect(npyDataIsPickled(structured.dtype)).toBe(false);
  });

  it('accepts Python 2 long shapes', () => {
    expect(parseNpyHeader(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }")).shape).toEqual([3, 4]);
  });

  it('throws clear errors for bad input', () => {
    expect(() => parseNpyHeader(new TextEncoder().encode('PK\x03\x04 not numpy at all'))).toThrow('not an .npy file: bad magic');
    expect(() => parseNpyHeader(new Uint8Array([0x93, 0x4e, 0x55]))).toThrow('truncated header');
    const good = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }");
    expect(() => parseNpyHeader(good.subarray(0, 40))).toThrow('truncated header');
    const v9 = good.slice();
    v9[6] = 9;
    expect(() => parseNpyHeader(v9)).toThrow('unsupported .npy format version 9.0');
    expect(() => parseNpyHeader(npyBytes("{'descr': '<f4', 'shape': (3,), }"))).toThrow("no 'fortran_order'");
    expect(() => parseNpyHeader(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))).toThrow("'shape'");
    expect(() => parseNpyHeader(npyBytes("{'descr': '<x4', 'fortran_order': False, 'shape': (3,), }"))).not.toThrow();
    expect(() => parseNpyHeader(npyBytes("{'descr': 'garbage!', 'fortran_order': False, 'shape': (3,), }"))).toThrow('unknown descr');
    expect(() => parseNpyHeader(npyBytes('[1, 2]'))).toThrow('not a dict literal');
  });

  it('formats shapes as NumPy does', () => {
    expect(formatShape([3, 4])).toBe('(3, 4)');
    expect(formatShape([3])).toBe('(3,)');
    expect(formatShape([])).toBe('()');
  });
});

const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const DT_F4 = { descr: '<f4', kind: 'f' as const, itemsize: 4, littleEndian: true };

describe('tensor accumulator', () => {
  it('folds chunks, skips equal ones, and reports the first mismatch in C order', () => {
    const acc = createTensorAccumulator({ dtype: DT_F4, shape: [2, 3], tolerance: CLOSE });
    acc.add(f32([1, 2, 3]), f32([1, 2, 3]), 0);
    acc.add(f32([4, 5, 6]), f32([4, 5 + 1e-7, 7]), 3);
    const got = acc.finish();
    expect(got.status).toBe('different');
    expect(got.mismatched).toBe(1);
    expect(got.first_mismatch).toEqual([1, 2]);
    expect(got.max_abs_diff).toBe(1);
    expect(got.max_rel_diff).toBe(1 / 6);
    expect(got.elements).toBe(6);
    expect(got.mismatched_fraction).toBe(1 / 6);
  });

  it('handles unaligned chunks like aligned ones', () => {
    const raw = new Uint8Array(1 + 12);
    raw.set(f32([1, 2, 3]), 1);
    const other = new Uint8Array(1 + 12);
    other.set(f32([1, 2.5, 3]), 1);
    const acc = createTensorAccumulator({ dtype: DT_F4, shape: [3], tolerance: BIT });
    acc.add(raw.subarray(1), other.subarray(1), 0);
    expect(acc.finish()).toMatchObject({ status: 'different', mismatched: 1, first_mismatch: [1], max_abs_diff: 0.5, max_rel_diff: 0.25 });
  });

  it('maps Fortran storage order to C-order indexes', () => {
    // shape (2, 3) in F order: storage [x00, x10, x01, x11, x02, x12]
    const acc = createTensorAccumulator({ dtype: DT_F4, shape: [2, 3], tolerance: BIT, fortranOrder: true });
    acc.add(f32([0, 0, 0, 0, 0, 0]), f32([0, 0, 0, 1, 1, 0]), 0);
    expect(acc.finish().first_mismatch).toEqual([0, 2]);
    const bytes = f32([0, 10, 1, 11, 2, 12]);
    expect(Array.from(new Float32Array(fortranToC(bytes, [2, 3], 4).buffer))).toEqual([0, 1, 2, 10, 11, 12]);
  });

  it('treats NaN, inf and signed zeros as NumPy does', () => {
    const a = f32([NaN, NaN, Infinity, 0, 1]);
    const b = f32([NaN, 1, Infinity, -0, 1]);
    const run = (tol: Tolerance) => {
      const acc = createTensorAccumulator({ dtype: DT_F4, shape: [5], tolerance: tol });
      acc.add(a, b, 0);
      return acc.finish();
    };
    expect(run(BIT)).toMatchObject({ status: 'different', mismatched: 2, first_mismatch: [1], max_abs_diff: 0 });
    expect(run(CLOSE)).toMatchObject({ status: 'different', mismatched: 1, first_mismatch: [1] });
    expect(run(CLOSE_NONAN)).toMatchObject({ status: 'different', mismatched: 2, first_mismatch: [0] });
    expect(run(IGNORE)).toMatchObject({ status: 'equivalent', mismatched: 0, max_abs_diff: null });
  });

  it('compares int64 exactly, beyond 2^53', () => {
    const dtype = { descr: '<i8', kind: 'i' as const, itemsize: 8, littleEndian: true };
    const a = new Uint8Array(new BigInt64Array([2n ** 60n + 1n, 5n]).buffer);
    const b = new Uint8Array(new BigInt64Array([2n ** 60n + 2n, 5n]).buffer);
    const acc = createTensorAccumulator({ dtype, shape: [2], tolerance: { mode: 'allclose', rtol: 0, atol: 0, nan_equal: true } });
    acc.add(a, b, 0);
    expect(acc.finish()).toMatchObject({ status: 'different', mismatched: 1, max_abs_diff: 1 });
  });

  it('decodes float16', () => {
    expect(halfToNumber(0x3c00)).toBe(1);
    expect(halfToNumber(0xc000)).toBe(-2);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(halfToNumber(0x7e00))).toBe(true);
  });

  it('refuses chunks that are not whole elements', () => {
    const acc = createTensorAccumulator({ dtype: DT_F4, shape: [2], tolerance: BIT });
    expect(() => acc.add(new Uint8Array(3), new Uint8Array(3), 0)).toThrow('whole number of elements');
  });
});
