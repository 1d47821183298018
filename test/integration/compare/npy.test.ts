// .npy files made by the real NumPy of the test venv, compared by compareNpyFiles.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tolerance } from '../../../src/core/compare/model.js';
import { compareNpyFiles } from '../../../src/adapters/readers/npy-file.js';
import { blankTensorDiff, type TensorDiff } from '../../../src/core/compare/model.js';
import type { PairOptions } from '../../../src/core/compare/tensor-pair.js';
import { BIT, CLOSE, CLOSE_NONAN, IGNORE, runPython, type Expected } from '../../helpers/numpy-fixtures.js';

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

/** The judgement of two one-array files: their single item, or the file-level error as one. */
async function one(a: string, b: string, tol: Tolerance, name = '', options?: PairOptions): Promise<TensorDiff> {
  const result = await compareNpyFiles(a, b, tol, options);
  if (result.error !== undefined) return blankTensorDiff(name, 'error', tol, { message: result.error });
  if (result.tensors.length !== 1) throw new Error(`expected one array, got ${result.tensors.map((t) => `${t.name}: ${t.status} ${t.message ?? ''}`).join(', ')}`);
  return { ...(result.tensors[0] as TensorDiff), name };
}

describe('compareNpyFiles on NumPy files', () => {
  const rows = CASES.flatMap((c) => c.tols.map((tol, i) => ({ id: c.id, tol, i, label: `${c.id} ${tol.mode}${tol.mode === 'allclose' ? ` nan_equal=${tol.nan_equal}` : ''}` })));

  it.each(rows)('$label', async ({ id, tol, i }) => {
    const want = (expected[id] as Expected[])[i] as Expected;
    const got = await one(...pair(id), tol, id);
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
    const bit = await one(...pair('f4_noise'), BIT);
    expect(bit.status).toBe('different');
    expect(bit.dtype).toEqual({ baseline: '<f4', candidate: '<f4' });
    expect(bit.shape).toEqual({ baseline: [50, 60], candidate: [50, 60] });
    const close = await one(...pair('f4_noise'), CLOSE);
    expect(close.status).toBe('equivalent');
    expect(close.max_abs_diff).toBeGreaterThan(0);
    expect(close.max_abs_diff).toBeLessThan(1e-6);
    const be = await one(...pair('be_f4'), BIT);
    expect(be.dtype.baseline).toBe('>f4');
    const structured = await one(...pair('structured'), BIT);
    expect(structured.message).toMatch(/not a numeric dtype: elements compared as bytes/);
  });

  it('does no element work on shape or dtype mismatches', async () => {
    const shape = await one(...pair('shape_mismatch'), CLOSE);
    expect(shape).toMatchObject({ status: 'different', message: 'shape differs: (3, 4) vs (4, 3)', mismatched: 0, first_mismatch: null, max_abs_diff: null });
    expect(shape.shape).toEqual({ baseline: [3, 4], candidate: [4, 3] });
    const dtype = await one(...pair('dtype_mismatch'), CLOSE);
    expect(dtype).toMatchObject({ status: 'different', message: 'dtype differs: <f4 vs <f8', dtype: { baseline: '<f4', candidate: '<f8' } });
    const both = await one(...pair('both_mismatch'), BIT);
    // Byte order is storage: <f4 against >f4 is no dtype difference, the shape is.
    expect(both.message).toBe('shape differs: (5,) vs (6,)');
  });

  it('compares pickled object arrays as bytes', async () => {
    expect(await one(...pair('object_same'), CLOSE)).toMatchObject({ status: 'identical', elements: 3 });
    const diff = await one(...pair('object_diff'), CLOSE);
    expect(diff.status).toBe('different');
    expect(diff.message).toMatch(/pickled/);
  });

  it('reports truncated files, bad files and missing files as errors, naming the side', async () => {
    const [a, b] = pair('trunc');
    const size = (await stat(b)).size;
    await truncate(b, size - 100);
    expect(await one(a, b, BIT)).toMatchObject({ status: 'error', message: 'candidate is truncated: 100 of 4800 data bytes missing', elements: 1200 });
    const both = join(dir, 'trunc.both.npy');
    const full = await readFile(b);
    await writeFile(both, full.subarray(0, full.length - 4700 + 7));
    const cut = await one(b, both, BIT);
    expect(cut.message).toBe('baseline is truncated: 100 of 4800 data bytes missing; candidate is truncated: 4793 of 4800 data bytes missing');

    const header = join(dir, 'header.npy');
    await writeFile(header, (await readFile(a)).subarray(0, 30));
    expect(await one(a, header, BIT)).toMatchObject({ status: 'error', message: 'candidate: truncated header' });

    const random = join(dir, 'random.npy');
    await writeFile(random, Buffer.from('this is not numpy data at all, just bytes'));
    expect(await one(random, a, BIT)).toMatchObject({ status: 'error', message: 'baseline: not an .npy file: bad magic' });
    const empty = join(dir, 'empty.npy');
    await writeFile(empty, Buffer.alloc(0));
    expect((await one(a, empty, BIT)).message).toBe('candidate: empty file, not an .npy file');

    const none = await one(join(dir, 'nope.npy'), dir, BIT);
    expect(none.status).toBe('error');
    expect(none.message).toMatch(/^baseline: cannot open .*nope\.npy: does not exist; candidate: not a regular file/);
  });
});
