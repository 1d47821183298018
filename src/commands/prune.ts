import { Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { prune, type PruneResult } from '../services/prune.js';

export default class Prune extends SnapshotCommand {
  static override summary = 'Remove the containers and images that replays made (found by their label; nothing else is touched), and with --venvs the local engine\'s cached environments.';

  static override examples = ['<%= config.bin %> <%= command.id %> --dry-run', '<%= config.bin %> <%= command.id %> --venvs', '<%= config.bin %> <%= command.id %> --json'];

  static override flags = {
    'docker-host': Flags.string({ description: 'the engine to prune [default: DOCKER_HOST, else the current docker context, else the local socket]', helpValue: 'URL' }),
    'dry-run': Flags.boolean({ description: 'list what would be removed, remove nothing', default: false }),
    venvs: Flags.boolean({ description: "also remove the local engine's cached venvs ($XDG_CACHE_HOME/snapshot/venvs, else ~/.cache/snapshot/venvs); with no engine answering, only them", default: false }),
    force: Flags.boolean({ description: 'also stop and remove running replay containers (a replay in progress, maybe someone else\'s)', default: false }),
    'snapshot-id': Flags.string({ description: "only what the replays of this snapshot made (its id field)", helpValue: 'ID' }),
  };

  async run(): Promise<PruneResult> {
    const { flags } = await this.parse(Prune);
    const result = await prune({ dockerHost: flags['docker-host'], env: process.env, dryRun: flags['dry-run'], snapshotId: flags['snapshot-id'], venvs: flags.venvs, force: flags.force });
    if (!this.jsonEnabled()) {
      const verb = result.dryRun ? 'Would remove' : 'Removed';
      if (result.engine !== null) this.log(`${verb} ${result.containers.length} container(s) and ${result.images.length} image(s) on ${result.engine}.`);
      else this.log(`No Docker engine pruned: ${result.engineSkipped ?? 'none answers'}.`);
      if (result.running.length > 0) this.log(`Left ${result.running.length} running container(s) and the images alone: a replay is in progress (--force stops it).`);
      if (flags.venvs) this.log(`${verb} ${result.venvs.length} cached venv(s)${result.venvs.length > 0 ? `: ${result.venvs.join(', ')}` : ''}.`);
    }
    return result;
  }
}
