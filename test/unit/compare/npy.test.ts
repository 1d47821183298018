import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tolerance } from '../../../src/core/compare/model.js';
import { formatShape, npyDataIsPickled, parseNpyHeader } from '../../../src/core/compare/npy-header.js';
import { createTensorAccumulator, fortranToC, halfToNumber } from '../../../src/core/compare/tensor-compare.js';
import { compareNpyFiles } from '../../../src/adapters/npy-file.js';
import { BIT, CLOSE, CLOSE_NONAN, IGNORE, runPython, type Expected } from './numpy-fixtures.js';

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

  it('knows every numeric dtype NumPy writes', () => {
    const cases: Array<[string, string, number, boolean]> = [
      ['<f2', 'f', 2, true], ['>f2', 'f', 2, false], ['<f4', 'f', 4, true], ['>f8', 'f', 8, false],
      ['|b1', 'b', 1, true], ['|i1', 'i', 1, true], ['|u1', 'u', 1, true], ['<i2', 'i', 2, true], ['>u4', 'u', 4, false],
      ['<i8', 'i', 8, true], ['<u8', 'u', 8, true], ['<c8', 'c', 8, true], ['<c16', 'c', 16, true],
      ['<U5', 'other', 20, true], ['|S3', 'other', 3, true], ['<M8[ns]', 'other', 8, true], ['<f16', 'other', 16, true],
    ];
    for (const [descr, kind, itemsize, le] of cases) {
      const h = parseNpyHeader(npyBytes(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`));
      expect(h.dtype).toEqual({ descr, kind, itemsize, littleEndian: le });
    }
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

// ---------------------------------------------------------------------------------------------
// Real NumPy files.

interface Case {
  id: string;
  /** Python code that defines a (baseline) and b (candidate). */
  code: string;
  tols: Tolerance[];
}

const ALL = [BIT, CLOSE, CLOSE_NONAN, IGNORE];

const CASES: Case[] = [
  { id: 'f4_identical', code: "a = rng.standard_normal((30, 40)).astype('f4'); b = a.copy()", tols: ALL },
  { id: 'f4_one_changed', code: "a = rng.standard_normal((30, 40)).astype('f4'); b = a.copy(); b[7, 11] += 0.5", tols: ALL },
  { id: 'f4_noise', code: "a = rng.standard_normal((50, 60)).astype('f4'); b = (a.astype('f8') + rng.uniform(-1e-7, 1e-7, a.shape)).astype('f4')", tols: ALL },
  { id: 'f4_signed_zero', code: "a = np.array([0.0, 1.0], 'f4'); b = np.array([-0.0, 1.0], 'f4')", tols: ALL },
  { id: 'f2', code: "a = rng.standard_normal(100).astype('f2'); b = a.copy(); b[3] = 1.5; b[50] += np.float16(0.01)", tols: ALL },
  { id: 'f8', code: "a = rng.standard_normal((4, 5, 6)); b = a + rng.uniform(-1e-9, 1e-9, a.shape); b[3, 4, 5] = 7", tols: ALL },
  { id: 'be_f2', code: "a = rng.standard_normal(10).astype('>f2'); b = a.copy(); b[9] = 2", tols: ALL },
  { id: 'be_f4', code: "a = rng.standard_normal((6, 7)).astype('>f4'); b = a.copy(); b[2, 3] += 1e-7; b[5, 0] = 9", tols: ALL },
  { id: 'be_f8', code: "a = rng.standard_normal(33).astype('>f8'); b = a.copy(); b[1] *= 1.5", tols: ALL },
  { id: 'be_i4', code: "a = rng.integers(-1000, 1000, 20).astype('>i4'); b = a.copy(); b[7] += 3", tols: ALL },
  { id: 'be_i8', code: "a = np.array([2**60, -5, 7], '>i8'); b = a.copy(); b[0] += 1", tols: ALL },
  { id: 'bool', code: 'a = rng.random(64) > 0.5; b = a.copy(); b[10] = not b[10]; b[40] = not b[40]', tols: ALL },
  { id: 'i1', code: "a = rng.integers(-128, 127, 50).astype('i1'); b = a.copy(); b[5] = -a[5] - 1", tols: ALL },
  { id: 'i2', code: "a = rng.integers(-3000, 3000, 50).astype('<i2'); b = a.copy(); b[49] = 0", tols: ALL },
  { id: 'i4', code: "a = rng.integers(-2**31, 2**31 - 1, 50).astype('<i4'); b = a.copy(); b[0] = 2**31 - 1; b[1] = -2**31", tols: ALL },
  { id: 'i8_big', code: "a = np.array([2**60 + 1, -2**62, 5, 2**53 + 1], 'i8'); b = a.copy(); b[0] = 2**60 + 3; b[3] = 2**53 + 2", tols: ALL },
  { id: 'u1', code: "a = np.arange(200, dtype='u1'); b = a.copy(); b[199] = 0", tols: ALL },
  { id: 'u2', code: "a = np.arange(300, dtype='<u2'); b = a.copy(); b[0] = 65535", tols: ALL },
  { id: 'u4', code: "a = np.arange(300, dtype='<u4'); b = a.copy(); b[100] = 2**32 - 1", tols: ALL },
  { id: 'u8_big', code: "a = np.array([2**64 - 1, 0, 2**63], 'u8'); b = a.copy(); b[0] = 2**64 - 5; b[2] = 0", tols: ALL },
  { id: 'c8', code: "a = (rng.standard_normal(20) + 1j * rng.standard_normal(20)).astype('c8'); b = a.copy(); b[3] += 3 + 4j; b[8] += 1e-7j", tols: ALL },
  { id: 'c16', code: "a = rng.standard_normal(20) + 1j * rng.standard_normal(20); b = a.copy(); b[19] = complex(np.nan, 1); b[4] += 1e-12", tols: ALL },
  { id: 'scalar0d', code: "a = np.array(3.5, 'f4'); b = np.array(3.25, 'f4')", tols: ALL },
  { id: 'scalar0d_same', code: "a = np.array(7, 'i8'); b = np.array(7, 'i8')", tols: ALL },
  { id: 'empty', code: "a = np.zeros((0,), 'f4'); b = np.zeros((0,), 'f4')", tols: ALL },
  { id: 'empty_2d', code: "a = np.zeros((3, 0), 'f8'); b = np.zeros((3, 0), 'f8')", tols: [BIT] },
  { id: 'structured', code: "dt = [('x', '<i4'), ('y', '<f8')]; a = np.array([(1, 2.0), (3, 4.0), (5, 6.0)], dtype=dt); b = a.copy(); b[1]['y'] = 4.5", tols: [BIT, CLOSE] },
  { id: 'nan_one_side', code: "a = np.arange(10, dtype='f4'); b = a.copy(); b[4] = np.nan", tols: ALL },
  { id: 'nan_both', code: "a = np.arange(10, dtype='f4'); a[[2, 5]] = np.nan; b = a.copy()", tols: ALL },
  { id: 'inf', code: "a = np.array([1, np.inf, -np.inf, np.inf, 5], 'f8'); b = np.array([1, np.inf, -np.inf, -np.inf, 5.5], 'f8')", tols: ALL },
  { id: 'fortran_both', code: "a = np.asfortranarray(rng.standard_normal((5, 7, 3)).astype('f4')); b = a.copy(order='F'); b[4, 1, 2] = 0; b[0, 6, 0] = 1", tols: ALL },
  { id: 'fortran_vs_c', code: "x = rng.standard_normal((6, 9)); a = np.asfortranarray(x); b = np.ascontiguousarray(x); b[3, 2] += 1e-3; b[5, 1] += 1e-8", tols: ALL },
  { id: 'c_vs_fortran_i2', code: "x = rng.integers(0, 100, (4, 3, 2)).astype('i2'); a = np.ascontiguousarray(x); b = np.asfortranarray(x.copy()); b[2, 2, 1] = 999", tols: [BIT] },
  {
    id: 'multi_chunk',
    code: "a = rng.standard_normal(3_000_000).astype('f4'); b = a.copy(); b[2_500_000] += 1; b[2_999_999] = np.nan; b[2_100_000] += 1e-7",
    tols: ALL,
  },
  {
    id: 'multi_chunk_fortran',
    code: "a = np.asfortranarray(rng.standard_normal((1500, 1000)).astype('f8')); b = a.copy(order='F'); b[1499, 3] = 0; b[2, 999] = 1",
    tols: [BIT, CLOSE],
  },
];

const OTHER: Array<{ id: string; code: string }> = [
  { id: 'shape_mismatch', code: "a = np.zeros((3, 4), 'f4'); b = np.zeros((4, 3), 'f4')" },
  { id: 'dtype_mismatch', code: "a = np.zeros(5, 'f4'); b = np.zeros(5, 'f8')" },
  { id: 'both_mismatch', code: "a = np.zeros(5, '<f4'); b = np.zeros(6, '>f4')" },
  { id: 'object_same', code: "a = np.array([1, 'x', None], dtype=object); b = np.array([1, 'x', None], dtype=object)" },
  { id: 'object_diff', code: "a = np.array([1, 'x', None], dtype=object); b = np.array([1, 'y', None], dtype=object)" },
  { id: 'trunc', code: "a = np.arange(1200, dtype='f4'); b = a.copy()" },
];

const SCRIPT = String.raw`
spec = json.load(sys.stdin)
out = {}
for case in spec['cases']:
    env = {'np': np, 'rng': np.random.default_rng(12345)}
    exec(case['code'], env)
    a, b = env['a'], env['b']
    np.save(f"{spec['dir']}/{case['id']}.a.npy", a)
    np.save(f"{spec['dir']}/{case['id']}.b.npy", b)
    if 'tols' in case:
        out[case['id']] = [expect(a, b, t) for t in case['tols']]
print(json.dumps(out))
`;

let dir = '';
let expected: Record<string, Expected[]> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-npy-'));
  expected = (await runPython(SCRIPT, { dir, cases: [...CASES, ...OTHER] })) as Record<string, Expected[]>;
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const pair = (id: string): [string, string] => [join(dir, `${id}.a.npy`), join(dir, `${id}.b.npy`)];

describe('compareNpyFiles on NumPy files', () => {
  const rows = CASES.flatMap((c) => c.tols.map((tol, i) => ({ id: c.id, tol, i, label: `${c.id} ${tol.mode}${tol.mode === 'allclose' ? ` nan_equal=${tol.nan_equal}` : ''}` })));

  it.each(rows)('$label', async ({ id, tol, i }) => {
    const want = (expected[id] as Expected[])[i] as Expected;
    const got = await compareNpyFiles(...pair(id), tol, id);
    expect(got.message ?? '').not.toMatch(/truncated|error/);
    const { max_abs_diff, max_rel_diff, ...rest } = want;
    expect({
      status: got.status,
      elements: got.elements,
      mismatched: got.mismatched,
      mismatched_fraction: got.mismatched_fraction,
      first_mismatch: got.first_mismatch,
    }).toEqual(rest);
    if (id.startsWith('c')) {
      // Complex moduli: NumPy uses hypot, we use sqrt(re² + im²); they may differ in the last bit.
      for (const [g, w] of [
        [got.max_abs_diff, max_abs_diff],
        [got.max_rel_diff, max_rel_diff],
      ] as const) {
        if (w === null) expect(g).toBeNull();
        else expect(g as number).toBeCloseTo(w, 12);
      }
    } else {
      expect(got.max_abs_diff).toBe(max_abs_diff);
      expect(got.max_rel_diff).toBe(max_rel_diff);
    }
    expect(got.name).toBe(id);
    expect(got.tolerance).toBe(tol);
  });

  it('reports dtypes and shapes, and the noise example the way a user expects', async () => {
    const bit = await compareNpyFiles(...pair('f4_noise'), BIT);
    expect(bit.status).toBe('different');
    expect(bit.dtype).toEqual({ baseline: '<f4', candidate: '<f4' });
    expect(bit.shape).toEqual({ baseline: [50, 60], candidate: [50, 60] });
    const close = await compareNpyFiles(...pair('f4_noise'), CLOSE);
    expect(close.status).toBe('equivalent');
    expect(close.max_abs_diff).toBeGreaterThan(0);
    expect(close.max_abs_diff).toBeLessThan(1e-6);
    const be = await compareNpyFiles(...pair('be_f4'), BIT);
    expect(be.dtype.baseline).toBe('>f4');
    const structured = await compareNpyFiles(...pair('structured'), BIT);
    expect(structured.message).toMatch(/not a numeric dtype: elements compared as bytes/);
  });

  it('does no element work on shape or dtype mismatches', async () => {
    const shape = await compareNpyFiles(...pair('shape_mismatch'), CLOSE);
    expect(shape).toMatchObject({ status: 'different', message: 'shape differs: (3, 4) vs (4, 3)', mismatched: 0, first_mismatch: null, max_abs_diff: null });
    expect(shape.shape).toEqual({ baseline: [3, 4], candidate: [4, 3] });
    const dtype = await compareNpyFiles(...pair('dtype_mismatch'), CLOSE);
    expect(dtype).toMatchObject({ status: 'different', message: 'dtype differs: <f4 vs <f8', dtype: { baseline: '<f4', candidate: '<f8' } });
    const both = await compareNpyFiles(...pair('both_mismatch'), BIT);
    expect(both.message).toBe('dtype differs: <f4 vs >f4; shape differs: (5,) vs (6,)');
  });

  it('compares pickled object arrays as bytes', async () => {
    expect(await compareNpyFiles(...pair('object_same'), CLOSE)).toMatchObject({ status: 'identical', elements: 3 });
    const diff = await compareNpyFiles(...pair('object_diff'), CLOSE);
    expect(diff.status).toBe('different');
    expect(diff.message).toMatch(/pickled/);
  });

  it('reports truncated files, bad files and missing files as errors, naming the side', async () => {
    const [a, b] = pair('trunc');
    const size = (await stat(b)).size;
    await truncate(b, size - 100);
    expect(await compareNpyFiles(a, b, BIT)).toMatchObject({ status: 'error', message: 'candidate is truncated: 100 of 4800 data bytes missing', elements: 1200 });
    const both = join(dir, 'trunc.both.npy');
    const full = await readFile(b);
    await writeFile(both, full.subarray(0, full.length - 4700 + 7));
    const cut = await compareNpyFiles(b, both, BIT);
    expect(cut.message).toBe('baseline is truncated: 100 of 4800 data bytes missing; candidate is truncated: 4793 of 4800 data bytes missing');

    const header = join(dir, 'header.npy');
    await writeFile(header, (await readFile(a)).subarray(0, 30));
    expect(await compareNpyFiles(a, header, BIT)).toMatchObject({ status: 'error', message: 'candidate: truncated header' });

    const random = join(dir, 'random.npy');
    await writeFile(random, Buffer.from('this is not numpy data at all, just bytes'));
    expect(await compareNpyFiles(random, a, BIT)).toMatchObject({ status: 'error', message: 'baseline: not an .npy file: bad magic' });
    const empty = join(dir, 'empty.npy');
    await writeFile(empty, Buffer.alloc(0));
    expect((await compareNpyFiles(a, empty, BIT)).message).toBe('candidate: truncated header');

    const none = await compareNpyFiles(join(dir, 'nope.npy'), dir, BIT);
    expect(none.status).toBe('error');
    expect(none.message).toMatch(/^baseline: no such file: .*nope\.npy; candidate: not a regular file/);
  });
});
