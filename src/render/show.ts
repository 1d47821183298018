// Pure renderers: a snapshot in, lines of text out. What a person wants at a glance: the
// framework, CUDA/cuDNN/driver, GPUs, Python and the findings.
import type { Snapshot } from '../core/model.js';
import { capturedTree, untrackedAtCapture } from '../core/git.js';
import { formatBytes, formatSeconds } from '../core/units.js';
import { findingLines, printable } from './text.js';
import { renderRecord, renderReloadCheck, renderRepeat } from './record.js';

function row(label: string, value: string): string {
  return `  ${label.padEnd(13)}${printable(value)}`;
}

export function renderSnapshot(s: Snapshot): string[] {
  const lines: string[] = [];
  const f = s.frameworks;
  lines.push(printable(`snapshot ${s.id}  (captured ${s.created_at} by ${s.tool.name} ${s.tool.version})`));
  lines.push('');
  lines.push('Frameworks');
  if (f.tensorflow) {
    const b = f.tensorflow.build_info;
    const build = b === null ? 'build info unknown' : b.is_cuda_build ? `CUDA ${b.cuda_version ?? '?'}, cuDNN ${b.cudnn_version ?? '?'}${b.cuda_compute_capabilities ? `, ${b.cuda_compute_capabilities.join(' ')}` : ''}` : b.is_rocm_build ? 'ROCm build' : 'CPU-only build';
    lines.push(row('TensorFlow', `${f.tensorflow.version ?? 'unknown version'} (${f.tensorflow.distribution ?? 'no installed distribution'}; ${build})`));
  }
  if (f.keras) {
    const legacy = f.keras.tf_keras_version ? `; tf-keras ${f.keras.tf_keras_version}${f.keras.use_legacy_keras ? ' in use (TF_USE_LEGACY_KERAS)' : ''}` : '';
    lines.push(row('Keras', `${f.keras.version ?? 'not installed'} (backend ${f.keras.backend}, from ${f.keras.backend_source}${legacy})`));
  }
  if (f.torch) lines.push(row('PyTorch', `${f.torch.version ?? 'unknown version'}${f.torch.cuda ? ` (CUDA ${f.torch.cuda})` : ' (CPU build)'}`));
  if (f.jax) {
    const plugins = f.jax.cuda_plugins.map((p) => `${p.name} ${p.version}`).join(', ');
    lines.push(row('JAX', `${f.jax.version ?? '?'} (jaxlib ${f.jax.jaxlib ?? '?'}${plugins ? `; ${plugins}` : ''})`));
  }
  if (f.numpy) lines.push(row('NumPy', f.numpy.version));
  if (!f.tensorflow && !f.keras && !f.torch && !f.jax) lines.push(row('', 'none of TensorFlow, Keras, PyTorch, JAX'));
  if (f.nvidia_wheels.length > 0) lines.push(row('CUDA wheels', f.nvidia_wheels.map((w) => `${w.name} ${w.version}`).join(', ')));

  lines.push('');
  lines.push('GPU');
  const g = s.gpu;
  const smi = s.probes['nvidia-smi'];
  if (g.available) {
    for (const d of g.devices) {
      lines.push(row(`GPU ${d.index}`, `${d.name} (compute ${d.compute_capability ?? '?'}, ${d.memory_total_mib ?? '?'} MiB) ${d.uuid}`));
    }
  } else {
    lines.push(row('GPUs', smi && smi.status !== 'ok' && smi.status !== 'absent' ? `unknown: nvidia-smi ${smi.status}${smi.reason ? ` (${smi.reason})` : ''}` : 'none'));
  }
  lines.push(row('Driver', g.driver_version ? `${g.driver_version}${g.driver_cuda_version ? ` (supports CUDA up to ${g.driver_cuda_version})` : ''}` : 'none'));
  lines.push(row('CUDA toolkit', g.cuda_toolkit ? `${g.cuda_toolkit.version} (${g.cuda_toolkit.source})` : 'none'));
  lines.push(row('cuDNN', g.cudnn.length > 0 ? g.cudnn.map((c) => `${c.version} (${c.kind} ${c.source})`).join('; ') : 'none'));

  lines.push('');
  lines.push('Python and system');
  lines.push(row('Python', `${s.python.version} ${s.python.implementation} (${s.python.environment}) ${s.python.executable}`));
  lines.push(row('Packages', `${s.packages.length} installed`));
  const os = s.system.os;
  lines.push(row('OS', `${os.pretty_name ?? os.id ?? 'unknown'}; kernel ${s.system.kernel}; ${s.system.arch}; glibc ${s.system.glibc ?? 'unknown'}`));
  lines.push(row('CPU', `${s.system.cpu.model ?? 'unknown'} x${s.system.cpu.logical_cores}; ${s.system.cpu.flags.join(' ') || 'no numerics flags recorded'}`));
  lines.push(row('Memory', formatBytes(s.system.memory_total_bytes)));
  if (s.system.container.inside) lines.push(row('Container', s.system.container.runtime ?? 'yes'));

  if (s.code?.git && s.code.git.commit === null) {
    const c = s.code.git;
    lines.push(row('Code', `${s.code.path}: a git repository without a commit yet${c.branch ? ` (branch ${c.branch})` : ''}, ${c.staged.length} staged, ${c.untracked.length} untracked`));
    lines.push('  ! The code cannot be rebuilt from git: the repository had no commit when the training ran.');
  } else if (s.code?.git) {
    const c = s.code.git;
    const tree = capturedTree(c);
    const changes = tree.kind === 'patched' ? ' + uncommitted changes (saved as a patch)' : '';
    lines.push(row('Code', `${(c.commit as string).slice(0, 12)}${c.branch ? ` on ${c.branch}` : ''}${changes}${c.untracked.length ? `, ${c.untracked.length} untracked` : ''}${c.remote_url ? ` (${c.remote_url})` : ''}`));
    if (tree.kind === 'commit-only') {
      lines.push(`  ! The code is not the captured tree: the training ran with uncommitted changes that were not saved (${printable(tree.reason)}); the commit alone is other code.`);
    }
    for (const sub of c.submodules) {
      const state = !sub.initialized ? 'not initialized: the training ran without its files' : `${(sub.commit ?? '?').slice(0, 12)}${sub.patch_file ? ' + uncommitted changes (saved as a patch)' : sub.dirty ? ' + uncommitted changes NOT saved' : ''}`;
      lines.push(row('  submodule', `${sub.path}: ${state}`));
    }
    const untracked = untrackedAtCapture(c);
    if (untracked.length > 0) {
      const shown = untracked.slice(0, 5).join(', ');
      lines.push(`  ! ${untracked.length} untracked file${untracked.length === 1 ? ' was' : 's were'} in the code folder at capture and will not be in a rebuild: ${printable(shown)}${untracked.length > 5 ? ', ...' : ''}`);
    }
  } else if (s.code) {
    lines.push(row('Code', `${s.code.path} (not a git repository)`));
  }
  for (const d of s.data) lines.push(row('Data', `${d.path}: ${d.file_count} files, ${d.total_bytes} bytes, digest ${d.digest.slice(0, 16)}`));
  if (s.run) {
    const r = s.run;
    lines.push(row('Run', `${r.command} -> ${r.status} (exit ${r.exit_code ?? r.signal}, ${formatSeconds(r.duration_ms)})`));
    if (r.baseline) lines.push(row('Baseline', `${r.baseline.files.length} outputs in ${r.baseline.dir}`));
  }
  if (s.run?.record || s.run?.repeat || s.run?.reload) {
    lines.push('');
    lines.push('Training (what the recorder saw)');
    if (s.run.record) lines.push(...renderRecord(s.run.record));
    else lines.push(row('Record', 'not recorded (--no-record, or an older snapshot)'));
    if (s.run.repeat) lines.push(...renderRepeat(s.run.repeat));
    if (s.run.reload) lines.push(...renderReloadCheck(s.run.reload));
  }

  const envNames = Object.keys(s.determinism.env);
  lines.push('');
  lines.push('Determinism');
  lines.push(row('Settings', envNames.length ? envNames.map((n) => `${n}=${s.determinism.env[n]}`).join(' ') : 'none set'));
  for (const finding of s.determinism.findings) lines.push(...findingLines(finding));

  const failed = Object.entries(s.probes).filter(([, p]) => p.status === 'timeout' || p.status === 'error');
  if (failed.length) {
    lines.push('');
    lines.push('Probes that did not answer');
    for (const [name, p] of failed) lines.push(row(name, `${p.status}${p.reason ? `: ${p.reason}` : ''}`));
  }
  return lines;
}

export function renderCaptureDone(s: Snapshot, snapshotPath: string, bundlePath: string | null): string[] {
  const f = s.frameworks;
  const parts = [
    f.tensorflow ? `TensorFlow ${f.tensorflow.version}` : null,
    f.keras?.version ? `Keras ${f.keras.version} (${f.keras.backend})` : null,
    f.torch ? `PyTorch ${f.torch.version}` : null,
    f.jax?.version ? `JAX ${f.jax.version}` : null,
    `Python ${s.python.version}`,
    `${s.packages.length} packages`,
    s.gpu.available ? `${s.gpu.devices.length} GPU(s), driver ${s.gpu.driver_version}` : 'no GPU',
  ].filter((p): p is string => p !== null);
  const lines = [`Wrote ${snapshotPath}: ${parts.join(', ')}`];
  if (bundlePath) lines.push(`Bundle: ${bundlePath}`);
  if (s.run) lines.push(`Run: ${s.run.status} in ${formatSeconds(s.run.duration_ms)}${s.run.baseline ? `, baseline of ${s.run.baseline.files.length} outputs` : ''}`);
  const warnings = s.determinism.findings.filter((x) => x.level === 'warning').length;
  if (warnings) lines.push(`${warnings} determinism warning(s): see \`snapshot show ${snapshotPath}\``);
  return lines;
}
