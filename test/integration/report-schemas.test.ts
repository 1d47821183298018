// The JSON Schemas shipped for the reports others read (compare's and replay's --json, replay.json):
// generated from the TypeScript types, so they must match what the generator writes today, and
// real output (two real Keras trainings compared; replays of every verdict) must validate.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaProblems } from '../../src/adapters/json-schema.js';
import { runProcess } from '../../src/adapters/process.js';
import { replay, replayJson } from '../../src/services/replay.js';
import { repoRoot, runCli, tfPython } from '../helpers/cli.js';
import { FakeBackend, makeProject, probedFrom } from '../helpers/replay-fixture.js';

const COMPARE_SCHEMA = join(repoRoot, 'schemas', 'compare-report.schema.json');
const REPLAY_SCHEMA = join(repoRoot, 'schemas', 'replay-report.schema.json');

describe('the report schemas', () => {
  it('are what the generator writes from the types today (regenerate with node scripts/generate-report-schemas.mjs)', async () => {
    const { generate } = (await import(join(repoRoot, 'scripts', 'generate-report-schemas.mjs'))) as { generate: () => Record<string, unknown> };
    const fresh = generate();
    for (const name of ['compare-report', 'replay-report']) {
      expect(JSON.parse(readFileSync(join(repoRoot, 'schemas', `${name}.schema.json`), 'utf8'))).toEqual(fresh[name]);
    }
  }, 60_000);

  it("validate compare's --json of two real trainings that differ, NaN metrics included", async () => {
    const work = mkdtempSync(join(tmpdir(), 'report-schemas-'));
    const train = join(repoRoot, 'examples', 'keras-tiny', 'train.py');
    for (const [name, seed] of [['a', '1'], ['b', '2']] as const) {
      const r = await runProcess(tfPython, [train, '--out', join(work, name), '--epochs', '1', '--seed', seed], { cwd: join(repoRoot, 'examples', 'keras-tiny'), timeoutMs: 180_000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
      expect(r.outcome).toBe('ok');
    }
    // Python's json writes NaN and Infinity; the report carries them as strings.
    writeFileSync(join(work, 'a', 'extra.json'), '{"loss": NaN, "big": 9007199254740993}');
    writeFileSync(join(work, 'b', 'extra.json'), '{"loss": Infinity, "big": 9007199254740992}');
    const compared = await runCli(['compare', join(work, 'a'), join(work, 'b'), '--json'], { cwd: work });
    expect(compared.exitCode).toBe(1);
    expect(compared.json.result.outputs.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(compared.json.result)).toMatch(/"NaN"|"Infinity"/);
    expect(schemaProblems(COMPARE_SCHEMA, compared.json.result)).toEqual([]);
  }, 300_000);

  it('validate replay reports of every verdict, and refuse a report that is not one', async () => {
    const reports = [];
    for (const tweak of [
      (b: FakeBackend) => b,
      (b: FakeBackend) => Object.assign(b, { outputs: { 'metrics.json': '{"loss": 0.3}\n' } }),
      (b: FakeBackend) => Object.assign(b, { exitCode: 2 }),
      (b: FakeBackend) => Object.assign(b, { checks: [{ name: 'engine', status: 'fail', message: 'no engine' }] }),
    ]) {
      const project = makeProject();
      const backend = tweak(new FakeBackend(probedFrom(project.snapshot)));
      const report = await replay({ snapshotPath: project.snapshotPath, cwd: project.repo, dataRoots: [], env: ['SEED=1'], timeoutMs: null, verifyData: true, toolVersion: '0.1.0' }, { openBackend: async () => backend, events: () => undefined, now: () => new Date() });
      reports.push(replayJson(report));
      // replay.json in the folder is the same document.
      expect(JSON.parse(readFileSync(join(report.folder, 'replay.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(replayJson(report))));
    }
    expect(reports.map((r) => r.verdict)).toEqual(['identical', 'different', 'error', 'error']);
    for (const report of reports) expect(schemaProblems(REPLAY_SCHEMA, JSON.parse(JSON.stringify(report)))).toEqual([]);
    const broken = { ...JSON.parse(JSON.stringify(reports[0])), verdict: 'maybe' };
    expect(schemaProblems(REPLAY_SCHEMA, broken).join('\n')).toMatch(/verdict/);
  }, 120_000);
});
