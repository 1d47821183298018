import { Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { prune, type PruneResult } from '../services/prune.js';

export default class Prune extends SnapshotCommand {
  static override summary = 'Remove the containers and images that replays made (found by their label; nothing else is touched).';

  static override examples = ['<%= config.bin %> <%= command.id %> --dry-run', '<%= config.bin %> <%= command.id %> --json'];

  static override flags = {
    'docker-host': Flags.string({ description: 'the engine to prune [default: DOCKER_HOST, else the current docker context, else the local socket]', helpValue: 'URL' }),
    'dry-run': Flags.boolean({ description: 'list what would be removed, remove nothing', default: false }),
    force: Flags.boolean({ description: 'also stop and remove running replay containers (a replay in progress, maybe someone else\'s)', default: false }),
    'snapshot-id': Flags.string({ description: "only what the replays of this snapshot made (its id field)", helpValue: 'ID' }),
  };

  async run(): Promise<PruneResult> {
    const { flags } = await this.parse(Prune);
    const result = await prune({ dockerHost: flags['docker-host'], env: process.env, dryRun: flags['dry-run'], snapshotId: flags['snapshot-id'], force: flags.force });
    if (!this.jsonEnabled()) {
      this.log(`${result.dryRun ? 'Would remove' : 'Removed'} ${result.containers.length} container(s) and ${result.images.length} image(s) on ${result.engine}.`);
      if (result.running.length > 0) this.log(`Left ${result.running.length} running container(s) and the images alone: a replay is in progress (--force stops it).`);
    }
    return result;
  }
}
