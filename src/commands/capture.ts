import { UserInputError } from '../errors.js';
import { Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import type { Snapshot } from '../core/model.js';
import { renderCaptureDone } from '../render/show.js';
import { capture, RunFailedError, type CaptureResult } from '../services/capture.js';

export default class Capture extends SnapshotCommand {
  static override summary = 'Record what this training environment really is, and optionally run the training as the baseline.';

  static override description = [
    'Probes the Python environment (without importing any framework), the GPUs, CUDA, cuDNN, the OS and CPU, the numerics-relevant environment variables, the code\'s git state and the training data, and writes a snapshot file validated against schemas/snapshot.schema.json.',
    'With --run, the training runs with the captured interpreter first on PATH, and its --outputs are kept as the baseline in <snapshot>.bundle/ with a manifest. Nothing is overwritten without --force.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --python .venv/bin/python --data data/ --output runs/snapshot.yaml',
    '<%= config.bin %> <%= command.id %> --run "python train.py" --outputs out/',
    '<%= config.bin %> <%= command.id %> --json | jq .result.frameworks',
  ];

  static override flags = {
    python: Flags.string({ description: 'Python interpreter of the training environment [default: the active venv/conda env, else python3 on PATH]', helpValue: 'PATH' }),
    code: Flags.string({ description: 'folder with the training code (its git state is recorded)', default: '.', helpValue: 'DIR' }),
    data: Flags.string({ description: 'training data file or folder to hash (repeatable)', multiple: true, default: [], helpValue: 'PATH' }),
    run: Flags.string({ description: 'training command to run (through the shell) after probing', dependsOn: ['outputs'], helpValue: 'CMD' }),
    outputs: Flags.string({ description: 'folder the training writes its outputs to; kept as the baseline', dependsOn: ['run'], helpValue: 'DIR' }),
    record: Flags.boolean({ description: "record what the training does (seed calls, each fit's model, parameters and data digests, the libraries it loaded) through a sitecustomize on the training's PYTHONPATH; --no-record turns it off", default: true, allowNo: true }),
    reload: Flags.boolean({ description: "after the run, load every saved model among the outputs (.keras, legacy .h5, SavedModel) again in this environment, run it on a fixed seeded input, and keep its predictions for replay to check; --no-reload turns it off (it imports the framework: seconds)", default: true, allowNo: true }),
    repeat: Flags.integer({ description: 'run the training N times in all (each further run in a fresh outputs folder) and record whether the outputs stay the same, where the runs parted and why', min: 2, max: 100, dependsOn: ['run'], helpValue: 'N' }),
    policy: Flags.string({ description: '(with --repeat) the tolerance policy the runs are compared under, as for compare [default: bit for bit]', dependsOn: ['repeat'], helpValue: 'FILE' }),
    explain: Flags.boolean({ description: '(with --repeat) when the runs differ, try the fixes the findings suggest, one at a time, each in a further pair of runs, and say which one makes them identical', default: false }),
    'explain-budget': Flags.integer({ description: '(with --explain) the most further runs --explain makes', default: 8, min: 2, max: 100, helpValue: 'N' }),
    output: Flags.string({ char: 'o', description: 'snapshot file to write', default: 'snapshot.yaml', helpValue: 'FILE' }),
    force: Flags.boolean({ char: 'f', description: 'replace an existing snapshot and its bundle', default: false }),
    'probe-timeout': Flags.integer({ description: 'seconds each probe may take before it is recorded as timed out (the code patch has no timeout)', default: 10, min: 1, max: 3600 }),
    'allow-missing-patch': Flags.boolean({
      description: 'when the uncommitted changes cannot be saved as a patch, keep a snapshot of the commit alone (recorded as such) instead of failing',
      default: false,
    }),
  };

  async run(): Promise<Snapshot> {
    const { flags } = await this.parse(Capture);
    // A boolean with a default cannot carry oclif's dependsOn (the default counts as given): checked here.
    if (flags.explain && flags.repeat === undefined) throw new UserInputError('FLAG_NEEDS_REPEAT', '--explain needs --repeat N: it explains why repeated runs differ', { hint: 'Add --repeat 2 (or more).' });
    // Ctrl-C, or a SIGTERM that reaches only us (a job manager, CI cancelling), stops every step:
    // the patch being written, the hashing, the training; the staged bundle is discarded and the
    // command ends with its message and exit code instead of dying mid-write.
    // A second signal (or SIGHUP after one) forces the exit, killing the training's group and
    // removing the staging folder first (adapters/signals.ts).
    const interrupts = this.interruptible();
    let result: CaptureResult;
    try {
      result = await capture({
        python: flags.python,
        codeDir: flags.code,
        data: flags.data,
        run: flags.run !== undefined && flags.outputs !== undefined ? { command: flags.run, outputsDir: flags.outputs } : undefined,
        record: flags.record,
        reload: flags.reload,
        repeat: flags.repeat === undefined ? undefined : { runs: flags.repeat, policyPath: flags.policy, explain: flags.explain, explainBudget: flags['explain-budget'] },
        output: flags.output,
        force: flags.force,
        probeTimeoutMs: flags['probe-timeout'] * 1000,
        env: process.env,
        cwd: process.cwd(),
        toolVersion: this.config.version,
        echoRun: true,
        echo: (chunk) => this.echoToStderr(chunk),
        allowMissingPatch: flags['allow-missing-patch'],
        signal: interrupts.signal,
        log: (line) => this.note(line),
      });
    } catch (error) {
      if (error instanceof RunFailedError) this.report(error.result);
      throw error;
    } finally {
      interrupts.release();
    }
    this.report(result);
    return result.snapshot;
  }

  private report(result: CaptureResult): void {
    for (const warning of result.warnings) this.addWarning(warning);
    if (!this.jsonEnabled()) this.log(renderCaptureDone(result.snapshot, result.snapshotPath, result.bundlePath).join('\n'));
  }
}
