import { Args, Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { ExitCode } from '../errors.js';
import { renderDoctor } from '../render/doctor.js';
import type { DoctorReport } from '../core/replay/report.js';
import { doctor } from '../services/doctor.js';

export default class Doctor extends SnapshotCommand {
  static override summary = 'Check that this machine can replay: the Docker engine, its GPU runtime, free disk, the local engine\'s Python, and the GPUs and driver a snapshot needs.';

  static override description = [
    "Each check is ok, warn or fail with its reason. The engine is found as replay finds it (--docker-host, DOCKER_HOST, the current docker context, the local socket); the GPUs and the driver are the engine's host's (checked on a local engine).",
    "The local engine's checks are named \"local ...\": the captured Python (exact, or the nearest of its minor), a conda snapshot's packages, the host's GPUs. With --engine auto (the default) the machine is ready when either engine is.",
    'Replay runs the same checks first and stops on a fail. Exit codes: 0 no fail (warnings are listed), 6 some check failed, 3 bad input.',
  ].join('\n\n');

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> snapshot.yaml --json'];

  static override args = {
    snapshot: Args.string({ description: 'a snapshot to check this machine against', required: false }),
  };

  static override flags = {
    'docker-host': Flags.string({ description: 'the engine to check [default: DOCKER_HOST, else the current docker context, else the local socket]', helpValue: 'URL' }),
    engine: Flags.string({ description: 'the engine to check: docker, local (a venv on this host), or auto (both; ready when either is, as replay --engine auto would choose)', options: ['auto', 'docker', 'local'], default: 'auto' }),
    python: Flags.string({ description: '(local) the interpreter a local replay would rebuild with', helpValue: 'PATH' }),
    'exact-python': Flags.boolean({ description: '(local) only the exact captured Python will do', default: false }),
    gpus: Flags.string({ description: 'the GPUs a replay would ask for: all, none, a count, or device=ID[,ID] [default: what the snapshot had]', helpValue: 'WHICH' }),
  };

  async run(): Promise<DoctorReport> {
    const { args, flags } = await this.parse(Doctor);
    const report = await doctor({ snapshotPath: args.snapshot, cwd: process.cwd(), dockerHost: flags['docker-host'], env: process.env, gpus: flags.gpus, engine: flags.engine as 'auto' | 'docker' | 'local', python: flags.python, exactPython: flags['exact-python'] });
    if (!this.jsonEnabled()) this.log(renderDoctor(report).join('\n'));
    this.resultStatus = report.status === 'fail' ? ExitCode.external : ExitCode.ok;
    process.exitCode = this.resultStatus;
    return report;
  }
}
