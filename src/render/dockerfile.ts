// Pure renderer for `snapshot dockerfile`: what was written and why this base image.
import type { DockerfileResult } from '../services/dockerfile.js';

export function renderDockerfileDone(result: DockerfileResult): string[] {
  const { base, requirements, environment } = result.plan;
  const lines = [`Wrote ${result.outputDir}/: ${result.files.join(', ')}`];
  lines.push(`Base image: ${base.image}${base.digest ? `@${base.digest}` : ''} (${base.target}, Python from ${base.pythonFrom})`);
  for (const reason of base.reasons) lines.push(`  - ${reason}`);
  if (base.cuda) lines.push(`CUDA ${base.cuda.version}${base.cuda.cudnn ? `, cuDNN ${base.cuda.cudnn}` : ''} from ${base.cuda.source}${base.cuda.minDriver ? `; needs driver >= ${base.cuda.minDriver}` : ''}`);
  if (base.notGuaranteed.length) {
    lines.push('The --base-image override may no longer guarantee:');
    for (const item of base.notGuaranteed) lines.push(`  - ${item}`);
  }
  lines.push(`Requirements: ${requirements.pinned} pinned, ${requirements.skipped.length} left out`);
  if (environment.length) lines.push(`Environment: ${environment.map((e) => e.name).join(', ')}`);
  const c = result.code;
  lines.push(
    c.included
      ? `Code: commit ${c.commit?.slice(0, 12)}${c.patched ? ' + captured patch' : ''}${c.commitOnly ? ' ONLY, without the uncommitted changes the training ran with (--commit-only)' : ''}`
      : `Code: not included (${c.reason})`,
  );
  for (const sub of c.submodules) lines.push(`  submodule ${sub.path}: commit ${sub.commit.slice(0, 12)}${sub.patched ? ' + captured patch' : ''}`);
  for (const tool of requirements.tooling) {
    const why = [...(tool.requested ? ['installed on request'] : []), ...(tool.requiredBy.length > 0 ? [`required by ${tool.requiredBy.join(', ')}`] : [])];
    lines.push(`Packaging tool: ${tool.requirement}, not pinned (${why.join(', ')}; captured ${tool.captured})`);
  }
  lines.push(`Build: docker build -t snapshot-replay ${result.outputDir}`);
  return lines;
}
