import { Args, Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import type { ReplayEvent } from '../core/replay/backend.js';
import { buildFlags, dockerSettings } from '../flags/build.js';
import { printable } from '../render/text.js';
import { buildImage, type BuildReport } from '../services/build.js';

export default class Build extends SnapshotCommand {
  static override summary = "Build a snapshot's image on a Docker engine (the first half of replay), from a context streamed in memory.";

  static override description = [
    "The context holds the pinned Dockerfile, the probe, the snapshot and the code at the captured commit with its patch applied (the repository's .dockerignore honoured), with sorted entries and fixed times: an unchanged snapshot builds from the cache, and a code-only change rebuilds only the code layer.",
    'Exit codes: 0 built, 6 the engine or the build failed (the step and its log tail are named), 3 bad input.',
  ].join('\n\n');

  static override examples = ['<%= config.bin %> <%= command.id %> snapshot.yaml', '<%= config.bin %> <%= command.id %> snapshot.yaml --build-arg PIP_INDEX_URL=http://mirror.local/simple --build-network host'];

  static override args = {
    snapshot: Args.string({ description: 'the snapshot file', default: 'snapshot.yaml' }),
  };

  static override flags = {
    code: Flags.string({ description: "the repository to take the code from [default: the snapshot's repository, else the current folder's, else the captured path]", helpValue: 'DIR' }),
    ...buildFlags,
    gpus: Flags.string({ description: 'build for GPUs or for CPU: all / a count / device=... build the GPU image, none the CPU one [default: what the snapshot had]', helpValue: 'WHICH' }),
  };

  async run(): Promise<BuildReport> {
    const { args, flags } = await this.parse(Build);
    const json = this.jsonEnabled();
    const events = (event: ReplayEvent) => this.printEvent(event);
    const interrupts = this.interruptible();
    try {
      const report = await buildImage(
        { snapshotPath: args.snapshot, cwd: process.cwd(), codeDir: flags.code, gpus: flags.gpus },
        dockerSettings(flags, this.config.version, process.env),
        events,
        interrupts.signal,
      );
      this.collectedWarnings.push(...report.warnings);
      if (!json) this.log(`Built ${printable(String(report.facts.image_id))} from ${printable(String(report.facts.base_image))} on ${printable(report.engine)}.`);
      return report;
    } finally {
      interrupts.release();
    }
  }
}
