import { Args, Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { renderDockerfileDone } from '../render/dockerfile.js';
import { generateDockerfile, type DockerfileResult } from '../services/dockerfile.js';

export default class Dockerfile extends SnapshotCommand {
  static override summary = 'Write a pinned, buildable Docker build context from a snapshot.';

  static override description = [
    'Chooses the base image from data (data/compat.json: TensorFlow -> CUDA/cuDNN -> nvidia/cuda tag and minimum driver; torch and jax CUDA wheels; python:X.Y.Z-slim images), pins every captured package exactly, bakes in the numerics settings and labels, and copies the code at the captured commit with its patch applied.',
    'The output folder holds the Dockerfile, requirements.txt, the snapshot, the probe and code/. The same snapshot always gives byte-identical files. Every value from the snapshot is validated before it reaches a file.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> <%= command.id %> snapshot.yaml',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --cpu --output-dir build/',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --base-image registry.example.com/ml/base:2024@sha256:<digest>',
    '<%= config.bin %> <%= command.id %> snapshot.yaml --json | jq .result.base',
  ];

  static override args = {
    snapshot: Args.string({ description: 'snapshot file', default: 'snapshot.yaml' }),
  };

  static override flags = {
    'output-dir': Flags.string({ char: 'o', description: 'build context folder to write [default: <snapshot>.docker beside the snapshot]', helpValue: 'DIR' }),
    'base-image': Flags.string({ description: 'use this base image instead of the chosen one (name[:tag][@sha256:digest])', helpValue: 'REF' }),
    gpu: Flags.boolean({ description: 'build for GPUs even if the snapshot saw none', exclusive: ['cpu'] }),
    cpu: Flags.boolean({ description: 'build for CPU even if the snapshot saw GPUs', exclusive: ['gpu'] }),
    'python-from': Flags.option({ description: 'how the exact Python arrives: with the base image, from uv, or the distribution\'s apt python3', options: ['base', 'apt', 'uv'] as const })(),
    code: Flags.string({ description: 'git repository holding the captured commit [default: the folder the snapshot recorded]', helpValue: 'DIR' }),
    'no-code': Flags.boolean({ description: 'leave the code out of the image (replay mounts it)', default: false }),
    'commit-only': Flags.boolean({
      description: 'build the captured commit even though the uncommitted changes the training ran with were not captured (the output says so)',
      default: false,
    }),
    force: Flags.boolean({ char: 'f', description: 'replace an existing output folder', default: false }),
  };

  async run(): Promise<DockerfileResult> {
    const { args, flags } = await this.parse(Dockerfile);
    const result = await generateDockerfile({
      snapshotPath: args.snapshot,
      outputDir: flags['output-dir'],
      baseImage: flags['base-image'],
      target: flags.gpu ? 'gpu' : flags.cpu ? 'cpu' : undefined,
      pythonFrom: flags['python-from'],
      codeDir: flags.code,
      noCode: flags['no-code'],
      commitOnly: flags['commit-only'],
      force: flags.force,
      cwd: process.cwd(),
      toolVersion: this.config.version,
      timeoutMs: 120_000,
    });
    for (const warning of result.plan.warnings) this.addWarning(warning);
    if (!this.jsonEnabled()) this.log(renderDockerfileDone(result).join('\n'));
    return result;
  }
}
