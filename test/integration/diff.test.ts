// snapshot diff on real snapshot files: the stored capture against itself and against a copy with
// what a replay on other hardware would change.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { repoRoot, runCli } from '../helpers/cli.js';

const stored = join(repoRoot, 'test', 'fixtures', 'snapshots', 'schema-3', 'snapshot.yaml');

describe('snapshot diff', () => {
  it('finds nothing between a snapshot and itself: exit 0', async () => {
    const r = await runCli(['diff', stored, stored, '--json'], { cwd: repoRoot });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.differences).toEqual([]);
    const text = await runCli(['diff', stored, stored], { cwd: repoRoot });
    expect(text.stdout).toMatch(/No differences\.\n$/);
  });

  it('lists each difference with its severity, numerics first: exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshot-diff-'));
    const doc = YAML.parse(readFileSync(stored, 'utf8'));
    doc.python.version = '3.12.1';
    doc.determinism.env = { ...doc.determinism.env, TF_ENABLE_ONEDNN_OPTS: '1' };
    doc.system.kernel = '9.9.9-other';
    doc.code.path = '/elsewhere';
    writeFileSync(join(dir, 'b.yaml'), YAML.stringify(doc));
    const r = await runCli(['diff', stored, join(dir, 'b.yaml'), '--json'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.json.result.differences.map((d: { field: string; severity: string }) => [d.field, d.severity])).toEqual([
      ['python.version', 'high'],
      ['determinism.env.TF_ENABLE_ONEDNN_OPTS', 'high'],
      ['system.kernel', 'info'],
      ['code.path', 'info'],
    ]);
    expect(r.json.result.counts).toEqual({ high: 2, medium: 0, low: 0, info: 2 });
    const text = await runCli(['diff', stored, join(dir, 'b.yaml')], { cwd: dir });
    expect(text.stdout).toContain('4 difference(s): 2 high, 0 medium, 0 low, 2 info');
  });

  it('refuses a file that is not a snapshot, naming it: exit 3', async () => {
    const r = await runCli(['diff', stored, join(repoRoot, 'package.json'), '--json'], { cwd: repoRoot });
    expect(r.exitCode).toBe(3);
  });
});
