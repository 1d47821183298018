import { Args, Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import type { ReplayEvent } from '../core/replay/backend.js';
import type { ReplayReport } from '../core/replay/report.js';
import { buildFlags, dockerSettings } from '../flags/build.js';
import { renderReplay, renderReplayMarkdown } from '../render/replay.js';
import { replayBackends, type EngineKind } from '../services/engines/open.js';
import { checkReportTargets, writeReports } from '../services/reports.js';
import { replay, replayJson } from '../services/replay.js';

export default class Replay extends SnapshotCommand {
  static override summary = 'Rebuild a snapshot on this machine, run its training, and say whether the result reproduces, and why not.';

  static override description = [
    "Two engines, one pipeline: --engine docker builds the image on a Docker (or Podman) engine, --engine local rebuilds the environment in a cached venv on this host (the exact captured Python from PATH, pyenv, asdf, conda or uv, the same pinned requirements), and --engine auto (the default) takes Docker when an engine answers and has or can pull the base image, else local, and says why.",
    "Docker: builds the snapshot's image on a Docker (or Podman) engine from a context streamed in memory (the pinned Dockerfile, the probe, and the code at the captured commit with its patch), checks every data file against its captured sha256, runs the captured command in the captured working directory with the data mounted read-only, copies the outputs out, probes the environment again, and compares the outputs with the baseline under --policy.",
    'The verdict is identical, equivalent (within the policy), different (with the environment differences most likely to explain it first), or error. Exit codes: 0 identical or equivalent, 1 different, 6 could not run (engine unreachable, build failed, no GPU runtime), 7 ran but could not be judged (training crashed, data changed, unreadable outputs), 3 bad input.',
    "Each replay writes into a folder of its own (<snapshot>.replays/<id>/: outputs, logs, replay.json, environment.yaml). Replaying runs the snapshot's command, which is code from whoever made the snapshot: replay only snapshots you would run yourself.",
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> <%= command.id %> snapshot.yaml',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --policy examples/policies/cross-gpu.yaml --junit replay.xml',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --gpus none --data-root /data/imagenet=/mnt/imagenet',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --env TF_ENABLE_ONEDNN_OPTS=0 --json',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --engine local --pip-index-url http://mirror.local/simple/',
  ];

  static override args = {
    snapshot: Args.string({ description: 'the snapshot file to replay', default: 'snapshot.yaml' }),
  };

  static override flags = {
    code: Flags.string({ description: "the repository to take the code from [default: the snapshot's repository, else the current folder's, else the captured path]", helpValue: 'DIR' }),
    'data-root': Flags.string({ description: 'where a captured data folder is on this machine (repeatable)', multiple: true, default: [], helpValue: 'CAPTURED=HERE' }),
    env: Flags.string({ description: 'a variable for the training, on top of the captured ones (repeatable); nothing else of this shell reaches it', multiple: true, default: [], helpValue: 'KEY=VALUE' }),
    policy: Flags.string({ description: 'tolerance policy (YAML); default: bitwise everywhere', helpValue: 'FILE' }),
    'output-dir': Flags.string({ description: 'the replay\'s own folder, which must not exist [default: <snapshot>.replays/<id>]', helpValue: 'DIR' }),
    timeout: Flags.integer({ description: 'stop the training after this many seconds (the verdict is then error)', min: 1, helpValue: 'SECONDS' }),
    gpus: Flags.string({ description: "GPUs for the training: all, none (CPU), a count, or device=ID[,ID] [default: all when the snapshot had GPUs, else none]", helpValue: 'WHICH' }),
    engine: Flags.string({ description: 'where to replay: docker, local (a venv on this host), or auto (docker when an engine answers and has or can pull the base image, else local)', options: ['auto', 'docker', 'local'], default: 'auto' }),
    python: Flags.string({ description: '(local) the interpreter to rebuild the environment with [default: the captured version found on PATH, pyenv, asdf, conda or uv]; with --engine auto it chooses local', helpValue: 'PATH' }),
    'exact-python': Flags.boolean({ description: '(local) refuse another patch release of the captured Python instead of reporting the difference; with --engine auto it chooses local', default: false }),
    'pip-index-url': Flags.string({ description: "pip's index for the rebuild: the venv's, or a container build's PIP_INDEX_URL argument [default: pip's own settings: PIP_INDEX_URL, pip.conf]", helpValue: 'URL' }),
    'verify-data': Flags.boolean({ description: 'check every data file against its captured sha256 before training', default: true, allowNo: true }),
    record: Flags.boolean({ description: "record what the replay's training does (seeds, fit's model, parameters and data) and compare it with the baseline's record; --no-record turns it off", default: true, allowNo: true }),
    reload: Flags.boolean({ description: "load the baseline's saved models in the replay environment, without retraining, and compare their predictions with the ones kept at capture; --no-reload turns it off", default: true, allowNo: true }),
    ...buildFlags,
    junit: Flags.string({ description: 'also write a JUnit XML report here', helpValue: 'FILE' }),
    markdown: Flags.string({ description: 'also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)', helpValue: 'FILE' }),
  };

  async run(): Promise<ReplayReport> {
    const { args, flags } = await this.parse(Replay);
    const targets = { junit: flags.junit, markdown: flags.markdown };
    await checkReportTargets(targets);
    const json = this.jsonEnabled();
    const events = (event: ReplayEvent) => this.printEvent(event);
    let cleanup: (() => Promise<void>) | null = null;
    const interrupts = this.interruptible(() => cleanup?.() ?? Promise.resolve());
    let report: ReplayReport;
    try {
      report = await replay(
        {
          snapshotPath: args.snapshot,
          cwd: process.cwd(),
          codeDir: flags.code,
          dataRoots: flags['data-root'],
          env: flags.env,
          policyPath: flags.policy,
          outputDir: flags['output-dir'],
          timeoutMs: flags.timeout === undefined ? null : flags.timeout * 1000,
          gpus: flags.gpus,
          verifyData: flags['verify-data'],
          record: flags.record,
          reload: flags.reload,
          toolVersion: this.config.version,
        },
        {
          openBackend: replayBackends({
            engine: flags.engine as EngineKind,
            docker: dockerSettings(flags, this.config.version, process.env),
            local: { python: flags.python, exactPython: flags['exact-python'], pipIndexUrl: flags['pip-index-url'], env: process.env, toolVersion: this.config.version, gitTimeoutMs: 60_000 },
          }),
          events,
          now: () => new Date(),
          signal: interrupts.signal,
          registerCleanup: (fn) => {
            cleanup = fn;
          },
        },
      );
    } finally {
      interrupts.release();
    }
    // Warnings gathered on the way are in the report; in human mode they were printed as they came.
    this.collectedWarnings.push(...report.warnings);
    await writeReports(targets, { junit: async () => (await import('../render/junit.js')).renderReplayJUnit(report), markdown: () => renderReplayMarkdown(report) }, process.env);
    if (!json) this.log(renderReplay(report, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }).join('\n'));
    this.resultStatus = report.exit_code;
    process.exitCode = report.exit_code;
    return replayJson(report);
  }
}
