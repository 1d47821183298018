// Which of the baseline's saved models a replay reloads, and what it refuses from an untrusted
// snapshot before anything is built: a model path or a predictions file that leads out.
import { describe, expect, it } from '@jest/globals';
import type { ReloadedModel, Snapshot } from '../../../src/core/model.js';
import { planReplayReload, summarize } from '../../../src/services/reload.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const model = (overrides: Partial<ReloadedModel> = {}): ReloadedModel => ({ path: 'model.keras', format: 'keras', status: 'ok', message: null, inputs: [{ name: 'x', shape: [4, 4], dtype: 'float32' }], predictions: 'snapshot.bundle/reload/0.npz', sha256: 'a'.repeat(64), ...overrides });

function withReload(models: ReloadedModel[] | null): Snapshot {
  const base = makeSnapshot();
  const run = base.run as NonNullable<Snapshot['run']>;
  return { ...base, run: { ...run, baseline: { dir: 'snapshot.bundle/baseline', files: [] }, reload: models === null ? null : { seed: 1, batch: 4, duration_ms: 10, models } } };
}

describe('planReplayReload', () => {
  // /p does not exist: no link to resolve, the paths are placed as written.
  it('places each model under the baseline folder; none without a reload check', async () => {
    expect(await planReplayReload(withReload(null), '/p/snapshot.yaml')).toBeNull();
    expect(await planReplayReload(withReload([]), '/p/snapshot.yaml')).toBeNull();
    const plan = await planReplayReload(withReload([model(), model({ path: 'nested/export', format: 'savedmodel', predictions: null, status: 'error', message: 'no' })]), '/p/snapshot.yaml');
    expect(plan?.baselineDir).toBe('/p/snapshot.bundle/baseline');
    expect(plan?.models.map((m) => m.hostPath)).toEqual(['/p/snapshot.bundle/baseline/model.keras', '/p/snapshot.bundle/baseline/nested/export']);
  });

  it('refuses a model path or a predictions file that leads out, naming the field', async () => {
    for (const path of ['../x.keras', 'a/../../x.keras', '/etc/passwd']) {
      await expect(planReplayReload(withReload([model({ path })]), '/p/snapshot.yaml')).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE', message: expect.stringContaining('run.reload.models[0].path') });
    }
    await expect(planReplayReload(withReload([model(), model({ predictions: '../../etc/shadow' })]), '/p/snapshot.yaml')).rejects.toMatchObject({ message: expect.stringContaining('run.reload.models[1].predictions') });
  });
});

describe('summarize', () => {
  it('counts the verdicts, the worst first', () => {
    expect(summarize([])).toBe('no saved model to reload');
    const line = summarize([
      { path: 'a', format: 'keras', status: 'identical', message: '' },
      { path: 'b', format: 'h5', status: 'unloadable', message: '' },
      { path: 'c', format: 'h5', status: 'identical', message: '' },
    ]);
    expect(line).toBe("the baseline's saved models, reloaded without retraining: 1 do not load here, 2 give bit-identical predictions");
  });
});
