// Golden files: the Dockerfile and requirements.txt for each example snapshot, kept as plain
// fixtures under test/fixtures/dockerfile/<case>/. Regenerate on purpose with UPDATE_GOLDENS=1.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompatTable, loadTemplates } from '../../../src/adapters/package-files.js';
import { readSnapshot } from '../../../src/adapters/snapshot-file.js';
import { planDockerfile, type PlanOptions } from '../../../src/core/dockerfile/plan.js';
import { repoRoot } from '../../helpers/cli.js';

const UV_IMAGE = 'ghcr.io/astral-sh/uv:0.13.8';

const cases: Array<[string, Partial<PlanOptions>]> = [
  ['tf221-cpu', {}],
  ['tf221-gpu', {}],
  ['tf215-gpu-keras215', {}],
  ['tf24-gpu', {}],
  ['torch-cu121', {}],
  ['jax-cuda12', {}],
  ['editable-vcs', {}],
];

describe('Dockerfile goldens', () => {
  it.each(cases)('%s', async (name, extra) => {
    const snapshot = await readSnapshot(join(repoRoot, 'examples', 'snapshots', `${name}.yaml`));
    const [table, templates] = await Promise.all([loadCompatTable(), loadTemplates()]);
    const options: PlanOptions = {
      toolVersion: '0.1.0',
      uvImage: UV_IMAGE,
      code: snapshot.code?.git?.commit ? { included: true, commit: snapshot.code.git.commit, patched: false, commitOnly: false, subdir: '', submodules: [] } : { included: false, reason: 'no commit' },
      ...extra,
    };
    const plan = planDockerfile(snapshot, options, table, templates);
    const again = planDockerfile(snapshot, options, table, templates);
    expect(again.files).toEqual(plan.files);
    const dir = join(repoRoot, 'test', 'fixtures', 'dockerfile', name);
    for (const file of ['Dockerfile', 'requirements.txt'] as const) {
      const path = join(dir, file);
      if (process.env.UPDATE_GOLDENS === '1') {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path, plan.files[file]);
      }
      expect(existsSync(path)).toBe(true);
      expect(plan.files[file]).toBe(readFileSync(path, 'utf8'));
    }
  });
});
