import { Args } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { ExitCode } from '../errors.js';
import { renderSnapshotDiff } from '../render/diff.js';
import type { SnapshotDiffResult } from '../core/snapshot-diff.js';
import { diffSnapshotFiles } from '../services/snapshots.js';

export default class Diff extends SnapshotCommand {
  static override summary = 'Compare two snapshots field by field, each difference with how likely it is to change numerics.';

  static override description = [
    'high: changes numerics as a rule (framework, CUDA, cuDNN, Python, GPU architecture, numerics variables, CPU flags that pick other kernels); medium: may (other packages, GPU model or count, driver); low: rarely; info: never (paths, host names).',
    'A replay keeps its environment as environment.yaml in its folder: diff it against the snapshot to see everything that differed. Exit codes: 0 when nothing differs that may change numerics (only low and info), 1 otherwise, 3 bad input.',
  ].join('\n\n');

  static override examples = ['<%= config.bin %> <%= command.id %> snapshot.yaml snapshot.replays/<id>/environment.yaml', '<%= config.bin %> <%= command.id %> a.yaml b.yaml --json'];

  static override args = {
    a: Args.string({ description: 'the first snapshot (the captured one)', required: true }),
    b: Args.string({ description: 'the second snapshot (a replay environment, another capture)', required: true }),
  };

  async run(): Promise<SnapshotDiffResult> {
    const { args } = await this.parse(Diff);
    const result = await diffSnapshotFiles(args.a, args.b, process.cwd());
    if (!this.jsonEnabled()) this.log(renderSnapshotDiff(result).join('\n'));
    this.resultStatus = result.counts.high + result.counts.medium > 0 ? ExitCode.different : ExitCode.ok;
    process.exitCode = this.resultStatus;
    return result;
  }
}
