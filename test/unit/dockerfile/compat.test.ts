import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import pep440 from '@renovatebot/pep440';
import {
  checkCompatConsistency,
  cudaRow,
  driverFloor,
  jaxPluginCuda,
  parseCompat,
  pythonCodename,
  tensorflowRow,
  torchVariant,
  wheelsOnlyTorchLabels,
  type CompatTable,
} from '../../../src/core/dockerfile/compat.js';
import { compareVersions } from '../../../src/core/versions.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rawJson = (): Record<string, unknown> => JSON.parse(readFileSync(resolve(root, 'data/compat.json'), 'utf8')) as Record<string, unknown>;
const readme = readFileSync(resolve(root, 'data/README.md'), 'utf8');
const table: CompatTable = parseCompat(rawJson());

/** A deep copy of the real table document with one section's row edited. */
function edited(section: string, index: number, edit: (row: Record<string, unknown>) => void): Record<string, unknown> {
  const doc = rawJson();
  const rows = doc[section] as Array<Record<string, unknown>>;
  edit(rows[index] as Record<string, unknown>);
  return doc;
}

describe('data/compat.json', () => {
  it('parses, at format version 1', () => {
    expect(table.version).toBe(1);
    expect(table.updated).toBe('2026-11-26');
    expect(table.tensorflow.map((r) => r.tf)).toEqual(Array.from({ length: 18 }, (_, i) => `2.${i + 4}`));
    expect(table.cuda.map((r) => r.cuda)).toEqual(expect.arrayContaining(['11.0', '11.2', '11.8', '12.1', '12.2', '12.3', '12.4', '12.5', '12.6', '12.8', '12.9', '13.0']));
    expect(table.torch.map((t) => t.label)).toEqual(['cu102', 'cu113', 'cu116', 'cu117', 'cu118', 'cu121', 'cu124', 'cu126', 'cu128', 'cu129', 'cu130', 'cpu']);
    expect(table.jax.map((j) => `${j.package}=${j.cuda_major}`)).toEqual(['jax-cuda12-plugin=12', 'jax-cuda12-pjrt=12', 'jax-cuda13-plugin=13', 'jax-cuda13-pjrt=13']);
  });

  it('is consistent across rows', () => {
    expect(checkCompatConsistency(table)).toEqual([]);
  });

  it('has a cuda row for every TensorFlow row', () => {
    for (const row of table.tensorflow) expect(cudaRow(table, row.cuda)?.cuda).toBe(row.cuda);
  });

  it('has a min_driver and a driver floor for every cuda row', () => {
    for (const row of table.cuda) {
      expect(pep440.valid(row.min_driver)).not.toBeNull();
      expect(driverFloor(table, row.cuda)).not.toBeNull();
    }
    // 11.0 shipped before the 11.x minor-version floor existed: its own driver is lower.
    expect(compareVersions(cudaRow(table, '11.0')?.min_driver ?? '', driverFloor(table, '11.0') ?? '')).toBeLessThan(0);
  });

  it('gives every CUDA torch label a cuda row, or lists it as wheels-only in data/README.md', () => {
    const line = /^Wheels-only torch labels: (.+)$/m.exec(readme);
    expect(line).not.toBeNull();
    const documented = (line?.[1] ?? '').split(',').map((s) => s.trim());
    expect(wheelsOnlyTorchLabels(table)).toEqual(documented);
    for (const t of table.torch) {
      if (t.cuda === null) expect(t.label).toBe('cpu');
      else expect(cudaRow(table, t.cuda) !== null || documented.includes(t.label)).toBe(true);
      expect(t.index_url).toBe(`https://download.pytorch.org/whl/${t.label}`);
    }
  });

  it('uses valid PEP 440 specifiers for every python range', () => {
    for (const spec of [...table.tensorflow.map((r) => r.python), ...table.python_images.map((r) => r.python)]) {
      expect(pep440.validRange(spec)).toBe(true);
    }
  });

  it('has no duplicate keys in any section', () => {
    const doc = rawJson();
    const keys: Record<string, string> = { tensorflow: 'tf', cuda: 'cuda', torch: 'label', jax: 'package', python_images: 'python', driver_floor: 'cuda_major' };
    for (const [section, key] of Object.entries(keys)) {
      const values = (doc[section] as Array<Record<string, unknown>>).map((r) => r[key]);
      expect(new Set(values).size).toBe(values.length);
    }
  });

  it('keeps TensorFlow and CUDA rows in ascending order', () => {
    const tf = table.tensorflow.map((r) => r.tf);
    expect([...tf].sort(compareVersions)).toEqual(tf);
    const cuda = table.cuda.map((r) => r.cuda);
    expect([...cuda].sort(compareVersions)).toEqual(cuda);
  });

  it('records the facts the chooser depends on', () => {
    expect(tensorflowRow(table, '2.15.0').row).toMatchObject({ cuda: '12.2', cudnn: '8.9', keras: '2.15', wheels_cuda: true });
    expect(tensorflowRow(table, '2.13.1').row.wheels_cuda).toBe(false);
    expect(cudaRow(table, '12.2')).toMatchObject({ image_version: '12.2.2', cudnn_tag: 'cudnn8', ubuntu: '22.04', min_driver: '535.104.05', eol: false });
    expect(cudaRow(table, '12.5')).toMatchObject({ image_version: '12.5.1', cudnn_tag: 'cudnn', cudnn_in_image: '9.2.1.18', min_driver: '555.42.06' });
    expect(cudaRow(table, '12.3')?.cudnn_tag).toBe('cudnn9');
    expect(cudaRow(table, '11.0')).toMatchObject({ eol: true, ubuntu: '20.04' });
  });
});

describe('parseCompat on a malformed table', () => {
  it('names the row and field that is missing', () => {
    expect(() => parseCompat(edited('tensorflow', 2, (r) => delete r.cuda))).toThrow('tensorflow[2] (tf "2.6"): field "cuda" is missing');
  });

  it('names a bad PEP 440 specifier', () => {
    expect(() => parseCompat(edited('tensorflow', 3, (r) => (r.python = '3.7-3.9')))).toThrow('tensorflow[3] (tf "2.7"): field "python" must be a PEP 440 specifier, got "3.7-3.9"');
    expect(() => parseCompat(edited('python_images', 0, (r) => (r.python = '<3.7')))).toThrow('python_images[0] (python "<3.7"): field "python" needs a ">=" lower bound');
  });

  it('names bad versions, enums and types', () => {
    expect(() => parseCompat(edited('cuda', 1, (r) => (r.min_driver = 'latest')))).toThrow('cuda[1] (cuda "11.2"): field "min_driver" must be a PEP 440 version, got "latest"');
    expect(() => parseCompat(edited('cuda', 1, (r) => (r.cudnn_tag = 'cudnn7')))).toThrow('field "cudnn_tag" must be one of cudnn, cudnn8, cudnn9');
    expect(() => parseCompat(edited('cuda', 1, (r) => (r.eol = 'no')))).toThrow('cuda[1] (cuda "11.2"): field "eol" must be true or false');
    expect(() => parseCompat(edited('tensorflow', 0, (r) => (r.tf = '2.4.0')))).toThrow('field "tf" must be a major.minor version, got "2.4.0"');
    expect(() => parseCompat(edited('tensorflow', 0, (r) => ((r.official_gpu_images as Array<Record<string, unknown>>)[0] = { tag: '2.4.0-gpu' })))).toThrow(
      'tensorflow[0] (tf "2.4") official_gpu_images[0]: field "tf" is missing',
    );
    expect(() => parseCompat(edited('torch', 0, (r) => (r.index_url = 'http://example.com')))).toThrow('torch[0] (label "cu102"): field "index_url" must be an https URL');
  });

  it('refuses duplicate keys, other format versions and non-objects', () => {
    expect(() => parseCompat(edited('cuda', 2, (r) => (r.cuda = '11.2')))).toThrow('cuda[2] (cuda "11.2"): duplicate cuda "11.2"');
    expect(() => parseCompat({ ...rawJson(), version: 2 })).toThrow('"version" must be 1, got 2');
    expect(() => parseCompat({ ...rawJson(), tensorflow: [] })).toThrow('section "tensorflow" is empty');
    expect(() => parseCompat({ ...rawJson(), jax: undefined })).toThrow('section "jax" is missing');
    expect(() => parseCompat([])).toThrow('must be a JSON object');
    const doc = rawJson();
    (doc.torch as unknown[])[1] = 'cu113';
    expect(() => parseCompat(doc)).toThrow('torch[1] is not an object');
  });

  it('reports rows out of order and dangling CUDA references as consistency problems', () => {
    const doc = rawJson();
    (doc.tensorflow as unknown[]).reverse();
    const swapped = parseCompat(doc);
    expect(checkCompatConsistency(swapped)[0]).toMatch(/^tensorflow: "2\.20" comes after "2\.21"/);
    const dangling = parseCompat(edited('tensorflow', 0, (r) => (r.cuda = '10.1')));
    expect(checkCompatConsistency(dangling)).toContain('tensorflow 2.4: CUDA 10.1 has no cuda row');
    const overlap = parseCompat(edited('python_images', 1, (r) => (r.python = '>=3.6.9,<3.7')));
    expect(checkCompatConsistency(overlap).some((p) => p.includes('rules must not overlap'))).toBe(true);
  });
});

describe('lookups', () => {
  it('tensorflowRow keys on major.minor', () => {
    expect(tensorflowRow(table, '2.15.1')).toEqual({ row: table.tensorflow[11], exact: true });
    expect(tensorflowRow(table, '2.16.0rc0').row.tf).toBe('2.16');
  });

  it('tensorflowRow falls back to the newest row for a newer TF, with a warning', () => {
    const r = tensorflowRow(table, '2.99.0');
    expect(r.row.tf).toBe('2.21');
    expect(r.exact).toBe(false);
    expect(r.warning).toBe("TensorFlow 2.99.0 is newer than the table (newest 2.21); using 2.21's CUDA 12.5/cuDNN 9.3 — check it");
  });

  it('tensorflowRow falls back to the oldest row for an older TF, and to the lower row in a gap', () => {
    const old = tensorflowRow(table, '2.3.1');
    expect(old.row.tf).toBe('2.4');
    expect(old.warning).toBe("TensorFlow 2.3.1 is older than the table (oldest 2.4); using 2.4's CUDA 11.0/cuDNN 8.0 — check it");
    const gappy: CompatTable = { ...table, tensorflow: table.tensorflow.filter((r) => r.tf !== '2.10') };
    const gap = tensorflowRow(gappy, '2.10.1');
    expect(gap.row.tf).toBe('2.9');
    expect(gap.warning).toContain('nearest lower row');
    const odd = tensorflowRow(table, 'banana');
    expect(odd.row.tf).toBe('2.21');
    expect(odd.warning).toContain('not a PEP 440');
  });

  it('cudaRow, torchVariant, jaxPluginCuda and driverFloor', () => {
    expect(cudaRow(table, '12.5.82')?.image_version).toBe('12.5.1');
    expect(cudaRow(table, '12.7')).toBeNull();
    expect(cudaRow(table, 'n/a')).toBeNull();
    expect(torchVariant(table, 'cu121')?.index_url).toBe('https://download.pytorch.org/whl/cu121');
    expect(torchVariant(table, '+CU121')?.cuda).toBe('12.1');
    expect(torchVariant(table, '2.4.0+cpu')?.cuda).toBeNull();
    expect(torchVariant(table, 'rocm6.0')).toBeNull();
    expect(torchVariant(table, '')).toBeNull();
    expect(jaxPluginCuda(table, 'jax_cuda12_plugin')).toBe('12');
    expect(jaxPluginCuda(table, 'jax-cuda13-pjrt')).toBe('13');
    expect(jaxPluginCuda(table, 'jaxlib')).toBeNull();
    expect(driverFloor(table, '12.5')).toBe('525.60.13');
    expect(driverFloor(table, '11')).toBe('450.80.02');
    expect(driverFloor(table, '13.0')).toBe('580');
    expect(driverFloor(table, '10.2')).toBeNull();
    expect(driverFloor(table, 'x')).toBeNull();
  });

  it('pythonCodename prefers bookworm where the patch has a bookworm tag', () => {
    expect(pythonCodename(table, '3.11.7')).toEqual({ codename: 'bookworm', exact: true });
    expect(pythonCodename(table, '3.11.3')).toEqual({ codename: 'bullseye', exact: true });
    expect(pythonCodename(table, '3.10.12').codename).toBe('bookworm');
    expect(pythonCodename(table, '3.8.10').codename).toBe('buster');
    expect(pythonCodename(table, '3.6.9').codename).toBe('buster');
    expect(pythonCodename(table, '3.13.1').codename).toBe('bookworm');
  });

  it('pythonCodename guesses with a warning outside the rules', () => {
    const old = pythonCodename(table, '3.5.2');
    expect(old).toMatchObject({ codename: 'buster', exact: false });
    expect(old.warning).toContain('older than the python image rules');
    const future = pythonCodename(table, '3.15.0');
    expect(future).toMatchObject({ codename: 'bookworm', exact: false });
    expect(future.warning).toContain('newer than the python image rules');
    const rc = pythonCodename(table, '3.11.0rc1');
    expect(rc.exact).toBe(false);
    expect(rc.warning).toContain('python:3.11.0rc1-slim-');
    expect(pythonCodename(table, 'three').warning).toContain('not a PEP 440 version');
  });
});
