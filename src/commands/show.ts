import { Args } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import type { Snapshot } from '../core/model.js';
import { renderSnapshot } from '../render/show.js';
import { loadSnapshot } from '../services/snapshots.js';

export default class Show extends SnapshotCommand {
  static override summary = 'Summarise a snapshot: frameworks, CUDA/cuDNN/driver, GPUs, Python, findings.';

  static override examples = ['<%= config.bin %> <%= command.id %> snapshot.yaml', '<%= config.bin %> <%= command.id %> snapshot.yaml --json'];

  static override args = {
    file: Args.string({ description: 'snapshot file', default: 'snapshot.yaml' }),
  };

  async run(): Promise<Snapshot> {
    const { args } = await this.parse(Show);
    const snapshot = await loadSnapshot(args.file, process.cwd());
    if (!this.jsonEnabled()) this.log(renderSnapshot(snapshot).join('\n'));
    return snapshot;
  }
}
