import { describe, expect, it } from '@jest/globals';
import type { Snapshot } from '../../../src/core/model.js';
import { renderCaptureDone, renderSnapshot } from '../../../src/render/show.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const NO_GPU: Snapshot['gpu'] = { available: false, driver_version: null, driver_cuda_version: null, devices: [], kernel_module: null, cuda_toolkit: null, cudnn: [] };

function text(lines: string[]): string {
  return lines.join('\n');
}

function line(lines: string[], label: string): string {
  const found = lines.find((l) => l.startsWith(`  ${label.padEnd(13)}`));
  if (found === undefined) throw new Error(`no line starting with ${label} in:\n${text(lines)}`);
  return found;
}

describe('renderSnapshot', () => {
  const s = makeSnapshot();
  const lines = renderSnapshot(s);

  it('starts with the id, time and tool', () => {
    expect(lines[0]).toBe(`snapshot ${s.id}  (captured ${s.created_at} by snapshot 0.1.0)`);
  });

  it('shows the TensorFlow version and its build kind', () => {
    expect(line(lines, 'TensorFlow')).toBe('  TensorFlow   2.15.0 (tensorflow; CUDA 12.2, cuDNN 8, sm_50 sm_60 sm_70 sm_75 compute_80)');
  });

  it('shows CPU-only, ROCm and unknown TensorFlow builds', () => {
    const tf = (build_info: NonNullable<Snapshot['frameworks']['tensorflow']>['build_info']) =>
      line(renderSnapshot(makeSnapshot({ frameworks: { ...s.frameworks, tensorflow: { version: '2.21.0', distribution: 'tensorflow-cpu', build_info } } })), 'TensorFlow');
    const none = { cuda_version: null, cudnn_version: null, cuda_compute_capabilities: null, is_rocm_build: false };
    expect(tf({ ...none, is_cuda_build: false })).toContain('2.21.0 (tensorflow-cpu; CPU-only build)');
    expect(tf({ ...none, is_cuda_build: false, is_rocm_build: true })).toContain('ROCm build');
    expect(tf(null)).toContain('build info unknown');
  });

  it('shows the Keras version and backend', () => {
    expect(line(lines, 'Keras')).toBe('  Keras        2.15.0 (backend tensorflow, from default)');
    const legacy = makeSnapshot({
      frameworks: { ...s.frameworks, keras: { version: '3.3.3', backend: 'jax', backend_source: 'KERAS_BACKEND', keras_home: '/k', tf_keras_version: '2.16.0', use_legacy_keras: true, config: null } },
    });
    expect(line(renderSnapshot(legacy), 'Keras')).toBe('  Keras        3.3.3 (backend jax, from KERAS_BACKEND; tf-keras 2.16.0 in use (TF_USE_LEGACY_KERAS))');
  });

  it('shows each GPU device, the driver, the toolkit and cuDNN', () => {
    expect(line(lines, 'GPU 0')).toBe('  GPU 0        NVIDIA H100 80GB HBM3 (compute 9.0, 81559 MiB) GPU-6e2b1c4a-0d3f-4b8e-9a71-2c5d8e0f1a36');
    expect(line(lines, 'Driver')).toBe('  Driver       550.54.15 (supports CUDA up to 12.4)');
    expect(line(lines, 'CUDA toolkit')).toBe('  CUDA toolkit 12.4.131 (nvcc --version)');
    expect(line(lines, 'cuDNN')).toBe('  cuDNN        8.9.4.25 (wheel nvidia-cudnn-cu12)');
    expect(lines.some((l) => l.startsWith('  GPUs '))).toBe(false);
  });

  it('says none without a GPU', () => {
    const out = renderSnapshot(makeSnapshot({ gpu: NO_GPU, probes: { 'nvidia-smi': { status: 'absent', duration_ms: 0, reason: 'nvidia-smi not found' } } }));
    expect(line(out, 'GPUs')).toBe('  GPUs         none');
    expect(line(out, 'Driver')).toBe('  Driver       none');
    expect(line(out, 'CUDA toolkit')).toBe('  CUDA toolkit none');
    expect(line(out, 'cuDNN')).toBe('  cuDNN        none');
    expect(out.some((l) => l.startsWith('  GPU 0 '))).toBe(false);
  });

  it('says unknown, not none, when nvidia-smi timed out', () => {
    const out = renderSnapshot(makeSnapshot({ gpu: NO_GPU, probes: { 'nvidia-smi': { status: 'timeout', duration_ms: 10000, reason: 'no answer in 10 s' } } }));
    expect(line(out, 'GPUs')).toBe('  GPUs         unknown: nvidia-smi timeout (no answer in 10 s)');
    expect(text(out)).toContain('Probes that did not answer');
    expect(line(out, 'nvidia-smi')).toBe('  nvidia-smi   timeout: no answer in 10 s');
  });

  it('shows the determinism settings and one line per finding', () => {
    expect(line(lines, 'Settings')).toBe('  Settings     CUDA_VISIBLE_DEVICES=0 PYTHONHASHSEED=0');
    for (const f of s.determinism.findings) {
      expect(lines).toContain(`  ${f.level === 'warning' ? '!' : '-'} ${f.message}`);
    }
    const clean = makeSnapshot();
    const quiet = renderSnapshot(makeSnapshot({ determinism: { env: {}, findings: [] }, code: { ...clean.code!, git: { ...clean.code!.git!, untracked: [] } } }));
    expect(line(quiet, 'Settings')).toBe('  Settings     none set');
    expect(quiet.some((l) => /^ {2}[!-] /.test(l))).toBe(false);
  });

  it('prints each finding\'s fix on its own line under it, and no fix line where there is none', () => {
    const at = lines.indexOf('  ! oneDNN CPU kernels are on: round-off differs between CPU models.');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('    fix: export TF_ENABLE_ONEDNN_OPTS=0');
    const info = lines.indexOf('  - Keras runs on another backend.');
    expect(info).toBeGreaterThan(at);
    expect((lines[info + 1] ?? '').startsWith('    fix:')).toBe(false);
    const escaped = renderSnapshot(makeSnapshot({ determinism: { env: {}, findings: [{ level: 'info', code: 'X', message: 'm', fix: 'run \u001b[2J' }] } }));
    expect(escaped).toContain('    fix: run \\u001b[2J');
  });

  it('shows Python, OS, code, data and the run', () => {
    expect(line(lines, 'Python')).toBe('  Python       3.11.9 CPython (venv) /opt/venv/bin/python');
    expect(line(lines, 'Packages')).toBe('  Packages     3 installed');
    expect(line(lines, 'OS')).toBe('  OS           Ubuntu 22.04.4 LTS; kernel 6.8.0-45-generic; x86_64; glibc 2.35');
    expect(line(lines, 'Code')).toBe('  Code         89abcdef0123 on main + uncommitted changes (saved as a patch), 1 untracked (https://github.com/org/project.git)');
    expect(line(lines, 'Data')).toContain('data: 2 files, 1280 bytes, digest ');
    expect(line(lines, 'Run')).toBe('  Run          python train.py --epochs 3 -> succeeded (exit 0, 12.3 s)');
    expect(line(lines, 'Baseline')).toBe('  Baseline     2 outputs in baseline');
  });

  it('says plainly when the code is not the captured tree, whatever the schema version recorded', () => {
    const base = makeSnapshot();
    const git = base.code?.git as NonNullable<NonNullable<Snapshot['code']>['git']>;
    const failed = renderSnapshot(makeSnapshot({ code: { path: '/p', repo_root: '/p', in_repo: '', git: { ...git, patch_file: null, patch_sha256: null, patch_size: null, patch_error: 'git exited with code 128: fatal: write error' } } }));
    expect(line(failed, 'Code')).not.toContain('uncommitted changes (saved');
    expect(text(failed)).toContain('  ! The code is not the captured tree: the training ran with uncommitted changes that were not saved (git exited with code 128: fatal: write error); the commit alone is other code.');
    // Schema 1 could record a dirty tree whose patch was lost, with no reason.
    const legacy = renderSnapshot(makeSnapshot({ code: { path: '/p', repo_root: '/p', in_repo: '', git: { ...git, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null } } }));
    expect(text(legacy)).toContain('The code is not the captured tree: the training ran with uncommitted changes that were not saved (the snapshot records uncommitted changes but no patch)');
    const clean = renderSnapshot(makeSnapshot({ code: { path: '/p', repo_root: '/p', in_repo: '', git: { ...git, dirty: false, patch_file: null, patch_sha256: null, patch_size: null } } }));
    expect(text(clean)).not.toContain('not the captured tree');
  });

  it('does not list probes that answered', () => {
    expect(text(lines)).not.toContain('Probes that did not answer');
  });

  it('says when no framework is installed', () => {
    const out = renderSnapshot(makeSnapshot({ frameworks: { tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [] } }));
    expect(text(out)).toContain('none of TensorFlow, Keras, PyTorch, JAX');
  });
});

describe('renderCaptureDone', () => {
  it('names the snapshot path, the bundle, the frameworks, the GPU and the run', () => {
    const s = makeSnapshot();
    const lines = renderCaptureDone(s, 'out/snapshot.yaml', 'out/bundle');
    expect(lines[0]).toBe('Wrote out/snapshot.yaml: TensorFlow 2.15.0, Keras 2.15.0 (tensorflow), Python 3.11.9, 3 packages, 1 GPU(s), driver 550.54.15');
    expect(lines).toContain('Bundle: out/bundle');
    expect(lines).toContain('Run: succeeded in 12.3 s, baseline of 2 outputs');
    expect(lines).toContain('2 determinism warning(s): see `snapshot show out/snapshot.yaml`');
  });

  it('leaves out what is not there', () => {
    const s = makeSnapshot({ gpu: NO_GPU, run: null, determinism: { env: {}, findings: [] } });
    const lines = renderCaptureDone(s, 'snap.yaml', null);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Wrote snap.yaml: ');
    expect(lines[0]).toContain('no GPU');
  });

  it('reports a failed run', () => {
    const base = makeSnapshot();
    const s = makeSnapshot({ run: { ...(base.run as NonNullable<Snapshot['run']>), status: 'failed', exit_code: 1, baseline: null } });
    expect(renderCaptureDone(s, 'snap.yaml', null)).toContain('Run: failed in 12.3 s');
  });
});

describe('text from a snapshot is printed safely', () => {
  it('shows terminal escape sequences as visible escapes', async () => {
    const { makeSnapshot } = await import('../../helpers/snapshot-fixture.js');
    const { renderSnapshot } = await import('../../../src/render/show.js');
    const s = makeSnapshot();
    s.system.os.pretty_name = 'Debian\u001b]0;pwned\u0007\u001b[2J';
    const text = renderSnapshot(s).join('\n');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('Debian\\u001b]0;pwned\\u0007\\u001b[2J');
  });
});
