import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { outputKind, treeDigest } from '../../../src/core/manifest.js';
import type { FileEntry } from '../../../src/core/model.js';

const A = 'a'.repeat(64);
const B = '0123456789abcdef'.repeat(4);
const C = 'f'.repeat(63) + '0';

const files: FileEntry[] = [
  { path: 'train/b.npy', size: 10, sha256: B },
  { path: 'labels.csv', size: 3, sha256: A },
  { path: 'train/a b.npy', size: 7, sha256: C },
];

describe('treeDigest', () => {
  it('is sha256 over the sorted "sha256  path" lines, as sha256sum prints them', () => {
    const text = `${A}  labels.csv\n${C}  train/a b.npy\n${B}  train/b.npy\n`;
    const expected = createHash('sha256').update(text).digest('hex');
    expect(treeDigest(files)).toBe(expected);
    expect(treeDigest(files)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order of the entries, and does not reorder its input', () => {
    const before = files.map((f) => f.path);
    expect(treeDigest([...files].reverse())).toBe(treeDigest(files));
    expect(treeDigest([files[1] as FileEntry, files[2] as FileEntry, files[0] as FileEntry])).toBe(treeDigest(files));
    expect(files.map((f) => f.path)).toEqual(before);
  });

  it('ignores sizes (the hash covers the content)', () => {
    expect(treeDigest(files.map((f) => ({ ...f, size: 0 })))).toBe(treeDigest(files));
  });

  it('changes when one byte of one hash changes, or a path is renamed', () => {
    const changed = files.map((f, i) => (i === 0 ? { ...f, sha256: `${f.sha256.slice(0, -1)}e` } : f));
    expect(treeDigest(changed)).not.toBe(treeDigest(files));
    const renamed = files.map((f, i) => (i === 1 ? { ...f, path: 'labels2.csv' } : f));
    expect(treeDigest(renamed)).not.toBe(treeDigest(files));
  });

  it('of no files is sha256 of the empty string', () => {
    expect(treeDigest([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('outputKind', () => {
  it.each([
    ['metrics.json', 'metrics'],
    ['eval/metrics.json', 'metrics'],
    ['preds.npy', 'npy'],
    ['x.npz', 'npz'],
    ['model.weights.h5', 'h5'],
    ['legacy.h5', 'h5'],
    ['a.hdf5', 'h5'],
    ['model.keras', 'keras'],
    ['history.csv', 'csv'],
    ['UPPER.NPY', 'npy'],
    ['Model.KERAS', 'keras'],
    ['notes.txt', 'other'],
    ['npy', 'other'],
    ['checkpoint', 'other'],
  ])('%s is %s', (path, kind) => {
    expect(outputKind(path)).toBe(kind);
  });
});
