import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareNpzFiles } from '../../../src/adapters/readers/npz-file.js';
import { listZip, openZipEntryStream, readZipEntry } from '../../../src/adapters/readers/zip.js';
import { BIT, CLOSE, runPython, type Expected } from '../../helpers/numpy-fixtures.js';

// Baseline holds x, y, z and big; candidate holds x, y (changed), big (changed) and w.
const SCRIPT = String.raw`
import zipfile
spec = json.load(sys.stdin)
d = spec['dir']
rng = np.random.default_rng(7)
x = rng.standard_normal((20, 30)).astype('f4')
y = np.arange(100, dtype='i8') * (2**55)
z = np.array([True, False])
big = rng.standard_normal(2_500_000)            # 20 MB of float64: several chunks, many stream pieces
y2 = y.copy(); y2[42] += 3
big2 = big + rng.uniform(-1e-9, 1e-9, big.shape); big2[2_400_000] = 5.0
w = np.zeros(3)
for save, tag in ((np.savez, 'stored'), (np.savez_compressed, 'deflated')):
    save(f'{d}/{tag}.a.npz', x=x, y=y, z=z, big=big)
    save(f'{d}/{tag}.b.npz', x=x, y=y2, w=w, big=big2)
np.savez(f'{d}/mixed.a.npz', x=x, y=y)
np.savez_compressed(f'{d}/mixed.b.npz', x=x.copy(), y=y.copy())
with zipfile.ZipFile(f'{d}/evil.npz', 'w') as zf:
    zf.writestr('../evil.npy', b'hello')
out = {}
for tag, tol in (('bit', spec['tols'][0]), ('close', spec['tols'][1])):
    out[tag] = {'x': expect(x, x, tol), 'y': expect(y, y2, tol), 'big': expect(big, big2, tol)}
print(json.dumps(out))
`;

let dir = '';
let expected: Record<'bit' | 'close', Record<string, Expected>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-npz-'));
  expected = (await runPython(SCRIPT, { dir, tols: [BIT, CLOSE] })) as typeof expected;
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('compareNpzFiles', () => {
  it.each([
    ['stored', 'bit'],
    ['stored', 'close'],
    ['deflated', 'bit'],
    ['deflated', 'close'],
  ] as const)('%s archives, %s', async (tag, tolName) => {
    const tol = tolName === 'bit' ? BIT : CLOSE;
    const got = await compareNpzFiles(join(dir, `${tag}.a.npz`), join(dir, `${tag}.b.npz`), () => tol);
    expect(got.error).toBeUndefined();
    expect(got.missing).toEqual(['z']);
    expect(got.extra).toEqual(['w']);
    // Sorted by name, as every archive's items are.
    expect(got.tensors.map((t) => t.name)).toEqual(['big', 'x', 'y']);
    for (const t of got.tensors) {
      const want = expected[tolName][t.name] as Expected;
      expect({
        status: t.status,
        elements: t.elements,
        max_abs_diff: t.max_abs_diff,
        max_rel_diff: t.max_rel_diff,
        mismatched: t.mismatched,
        mismatched_fraction: t.mismatched_fraction,
        first_mismatch: t.first_mismatch,
      }).toEqual(want);
    }
    const y = got.tensors[2];
    expect(y?.dtype).toEqual({ baseline: '<i8', candidate: '<i8' });
    expect(y?.max_abs_diff).toBe(3);
  });

  it('compares a stored archive with a compressed one', async () => {
    const got = await compareNpzFiles(join(dir, 'mixed.a.npz'), join(dir, 'mixed.b.npz'), () => BIT);
    expect(got).toEqual({ tensors: expect.any(Array), entries: [], missing: [], extra: [] });
    expect(got.tensors.map((t) => t.status)).toEqual(['identical', 'identical']);
  });

  it('reports unreadable archives without throwing', async () => {
    const junk = join(dir, 'junk.npz');
    await writeFile(junk, Buffer.from('definitely not a zip file, just some text padding it out'.repeat(4)));
    const got = await compareNpzFiles(join(dir, 'stored.a.npz'), junk, () => BIT);
    expect(got.tensors).toEqual([]);
    expect(got.error).toMatch(/^candidate: not a zip archive \(corrupt or truncated\): .*junk\.npz/);
    const truncated = join(dir, 'truncated.npz');
    const full = await readFile(join(dir, 'deflated.a.npz'));
    await writeFile(truncated, full.subarray(0, full.length - 200));
    expect((await compareNpzFiles(truncated, truncated, () => BIT)).error).toMatch(/baseline: not a zip archive \(corrupt or truncated\)/);
    const missing = await compareNpzFiles(join(dir, 'nope.npz'), join(dir, 'stored.a.npz'), () => BIT);
    expect(missing.error).toMatch(/^baseline: no such file: .*nope\.npz$/);
  });
});

describe('zip adapter', () => {
  it('lists entries with sizes and compression', async () => {
    const stored = await listZip(join(dir, 'stored.a.npz'));
    expect(stored.map((e) => e.name)).toEqual(['x.npy', 'y.npy', 'z.npy', 'big.npy']);
    expect(stored.every((e) => !e.compressed && e.size === e.compressedSize)).toBe(true);
    const deflated = await listZip(join(dir, 'deflated.a.npz'));
    expect(deflated.every((e) => e.compressed)).toBe(true);
  });

  it('reads small entries and refuses large ones', async () => {
    const z = await readZipEntry(join(dir, 'deflated.a.npz'), 'z.npy', 1024);
    expect(z.subarray(1, 6).toString('latin1')).toBe('NUMPY');
    await expect(readZipEntry(join(dir, 'deflated.a.npz'), 'big.npy', 1024)).rejects.toThrow(/big\.npy .* is too large: \d+ bytes \(limit 1024\)/);
    await expect(readZipEntry(join(dir, 'deflated.a.npz'), 'nope.npy', 1024)).rejects.toThrow(/no entry nope\.npy in zip archive/);
  });

  it('streams an entry', async () => {
    const stream = await openZipEntryStream(join(dir, 'deflated.a.npz'), 'big.npy');
    let total = 0;
    for await (const chunk of stream) total += (chunk as Buffer).length;
    expect(total).toBe(2_500_000 * 8 + 128);
  });

  it("refuses entry names with '..'", async () => {
    await expect(listZip(join(dir, 'evil.npz'))).rejects.toThrow(/evil\.npz/);
    const got = await compareNpzFiles(join(dir, 'evil.npz'), join(dir, 'stored.a.npz'), () => BIT);
    expect(got.error).toMatch(/^baseline: (unsafe entry name|not a zip archive).*evil\.npz/);
  });
});
