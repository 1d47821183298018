// Which base image rebuilds a snapshot: pure, from the snapshot, the user's options and the
// compatibility table (data/compat.json). Odd or unknown values never throw: they give the
// nearest safe choice and a warning that says so.
import { normalizePackageName } from '../package-name.js';
import pep440 from '@renovatebot/pep440';
import type { Snapshot } from '../model.js';
import { compareVersions, isValidPep440, majorMinor } from '../versions.js';
import {
  cudaRow,
  cudnnMajorInImage,
  driverFloor,
  jaxPluginCuda,
  pythonCodename,
  tensorflowRow,
  torchVariant,
  type CompatTable,
  type CudaRow,
  type TensorflowRow,
} from './compat.js';

export interface BaseOptions {
  target?: 'gpu' | 'cpu';
  pythonFrom?: 'base' | 'apt' | 'uv';
  /** already validated by the caller */
  baseImage?: string;
}

export interface BaseCuda {
  version: string;
  cudnn: string | null;
  source: 'base-image' | 'wheels';
  minDriver: string | null;
}

export interface BaseChoice {
  /** full reference without the digest: "python:3.11.7-slim-bookworm", "nvidia/cuda:12.5.1-cudnn-runtime-ubuntu22.04", the override */
  image: string;
  /** "sha256:<64 hex>" when known (an override given as name@sha256:...), else null */
  digest: string | null;
  family: 'python' | 'nvidia-cuda' | 'tensorflow' | 'override';
  target: 'gpu' | 'cpu';
  /** how the exact Python arrives */
  pythonFrom: 'base' | 'apt' | 'uv';
  cuda: BaseCuda | null;
  /** e.g. the torch variant index for +cu121 / +cpu */
  extraIndexUrls: string[];
  /** human lines: why this image */
  warnings: string[];
  reasons: string[];
  /** with --base-image: what the override may no longer guarantee */
  notGuaranteed: string[];
}

const FALLBACK_CODENAME = 'bookworm';

// ---------------------------------------------------------------------------------------------
// What the snapshot holds

function packageVersion(snapshot: Snapshot, name: string): string | null {
  return snapshot.packages.find((p) => normalizePackageName(p.name) === name)?.version ?? null;
}

interface NvidiaWheel {
  name: string;
  version: string;
  cudaMajor: string;
}

// From CUDA 13 the toolkit wheels lose their -cuNN suffix (nvidia-cuda-runtime 13.0.96); these
// are versioned with CUDA itself, so their major is the CUDA major. Others without a suffix
// (nvidia-cufft 12.0 ships with CUDA 13) take the major of those.
const CUDA_VERSIONED_WHEEL = /^nvidia-(cuda-runtime|cuda-nvrtc|cuda-cupti|cuda-nvcc|nvjitlink|cublas)$/;

/** nvidia-* CUDA wheels (cudnn, cublas, cuda-runtime...), from the package list and the framework probe. */
function nvidiaWheels(snapshot: Snapshot): NvidiaWheel[] {
  const out = new Map<string, NvidiaWheel>();
  const unsuffixed: Array<{ name: string; version: string }> = [];
  for (const w of [...snapshot.packages, ...snapshot.frameworks.nvidia_wheels]) {
    const name = normalizePackageName(w.name);
    if (out.has(name)) continue;
    const m = /^nvidia-[a-z0-9-]+-cu(\d+)$/.exec(name);
    if (m) out.set(name, { name, version: w.version, cudaMajor: m[1] as string });
    else if (/^nvidia-[a-z0-9-]+$/.test(name)) unsuffixed.push({ name, version: w.version });
  }
  const cudaMajor = unsuffixed
    .filter((w) => CUDA_VERSIONED_WHEEL.test(w.name))
    .map((w) => majorOf(w.version))
    .filter((major): major is string => major !== null && Number(major) >= 13)
    .sort((a, b) => Number(b) - Number(a))[0];
  if (cudaMajor !== undefined) {
    for (const w of unsuffixed) if (!out.has(w.name)) out.set(w.name, { name: w.name, version: w.version, cudaMajor });
  }
  return [...out.values()];
}

interface TfInfo {
  version: string;
  cudaBuild: boolean;
  capturedCuda: string | null;
}

function tensorflowInfo(snapshot: Snapshot): TfInfo | null {
  const tf = snapshot.frameworks.tensorflow;
  const distribution = tf?.distribution ? normalizePackageName(tf.distribution) : null;
  const version = tf?.version ?? packageVersion(snapshot, distribution ?? 'tensorflow') ?? packageVersion(snapshot, 'tensorflow') ?? packageVersion(snapshot, 'tensorflow-cpu');
  if (version === null && !tf) return null;
  const cpuDistribution = distribution !== null ? /-cpu(-|$)/.test(distribution) : tf === null && packageVersion(snapshot, 'tensorflow-cpu') !== null;
  const isCuda = tf?.build_info?.is_cuda_build;
  return { version: version ?? '', cudaBuild: !cpuDistribution && isCuda !== false, capturedCuda: tf?.build_info?.cuda_version ?? null };
}

function torchVersion(snapshot: Snapshot): string | null {
  return snapshot.frameworks.torch?.version ?? packageVersion(snapshot, 'torch');
}

function localLabel(version: string): string | null {
  const parsed = pep440.parse(version) as { local?: string[] | null } | null;
  if (parsed?.local && parsed.local.length > 0) return parsed.local.join('.').toLowerCase();
  const plus = version.lastIndexOf('+');
  return plus >= 0 ? version.slice(plus + 1).toLowerCase() : null;
}

function jaxPlugins(snapshot: Snapshot, table: CompatTable): Array<{ name: string; cudaMajor: string }> {
  const names = new Set<string>([...(snapshot.frameworks.jax?.cuda_plugins ?? []).map((p) => p.name), ...snapshot.packages.map((p) => p.name)].map(normalizePackageName));
  const out: Array<{ name: string; cudaMajor: string }> = [];
  for (const name of names) {
    const major = jaxPluginCuda(table, name);
    if (major !== null) out.push({ name, cudaMajor: major });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// Pieces of the choice

function cudaImage(row: CudaRow): string {
  return `nvidia/cuda:${row.image_version}-${row.cudnn_tag}-runtime-ubuntu${row.ubuntu}`;
}

/** A Python version usable in a python:<X.Y.Z> tag, or null. */
function taggablePython(version: string): string | null {
  if (!isValidPep440(version) || !/^[0-9][0-9a-z.]*$/.test(version)) return null;
  const parsed = pep440.parse(version) as { release?: number[] } | null;
  return parsed?.release && parsed.release.length >= 3 ? version : null;
}

function majorOf(version: string): string | null {
  return isValidPep440(version) ? String(pep440.major(version)) : null;
}

interface Draft {
  image: string;
  family: BaseChoice['family'];
  pythonFrom: BaseChoice['pythonFrom'];
  cuda: BaseCuda | null;
  extraIndexUrls: string[];
  reasons: string[];
  warnings: string[];
}

/** The Debian-based CPU / CUDA-from-wheels base: python:<X.Y.Z>-slim-<codename>, or debian slim for uv/apt. */
function pythonBase(snapshot: Snapshot, table: CompatTable, options: BaseOptions, d: Draft): void {
  const captured = snapshot.python.version;
  const python = taggablePython(captured);
  const lookup = pythonCodename(table, python ?? captured);
  const codename = python === null ? FALLBACK_CODENAME : lookup.codename;
  if (options.pythonFrom === 'uv' || options.pythonFrom === 'apt') {
    d.image = `debian:${codename}-slim`;
    d.family = 'python';
    d.pythonFrom = options.pythonFrom;
    if (options.pythonFrom === 'uv') {
      d.reasons.push(`--python-from uv: Python ${captured} comes from uv on ${d.image} instead of the python image`);
    } else {
      d.reasons.push(`--python-from apt: Python comes from Debian ${codename}'s python3 on ${d.image}`);
      d.warnings.push(`--python-from apt installs Debian ${codename}'s python3, which is not necessarily the captured Python ${captured}; use the default (python image) or --python-from uv for the exact version`);
    }
    if (lookup.warning && python !== null) d.warnings.push(lookup.warning);
    return;
  }
  d.family = 'python';
  d.pythonFrom = 'base';
  if (python === null) {
    d.image = `python:3-slim-${codename}`;
    d.warnings.push(`the captured Python version "${captured}" cannot be pinned as a python image tag; using the floating ${d.image} — pin the Python version by hand`);
    return;
  }
  d.image = `python:${python}-slim-${codename}`;
  d.reasons.push(`python:${python}-slim-${codename} carries the captured Python ${python} exactly (Debian ${codename}${lookup.exact ? '' : ', guessed'})`);
  if (lookup.warning) d.warnings.push(lookup.warning);
}

/** A CUDA + cuDNN runtime base for system-CUDA TensorFlow; Python from uv (default) or apt. */
function cudaBase(snapshot: Snapshot, options: BaseOptions, row: CudaRow, d: Draft): void {
  const captured = snapshot.python.version;
  d.image = cudaImage(row);
  d.family = 'nvidia-cuda';
  if (options.pythonFrom === 'apt') {
    d.pythonFrom = 'apt';
    d.warnings.push(`--python-from apt installs Ubuntu ${row.ubuntu}'s python3, which is not necessarily the captured Python ${captured}; the default (uv) installs ${captured} exactly`);
  } else {
    d.pythonFrom = 'uv';
    if (options.pythonFrom === 'base') d.warnings.push(`--python-from base: ${d.image} has no Python; Python ${captured} comes from uv instead`);
    d.reasons.push(`Python ${captured} comes from uv (${d.image} has no Python)`);
  }
  if (row.eol) {
    d.warnings.push(`${d.image} is end-of-life: NVIDIA deletes EOL tags and their layers six months later, so it may no longer pull; pin its digest and keep a mirror (docker save)`);
  }
}

function checkCudnn(tfRow: TensorflowRow, row: CudaRow, d: Draft): void {
  const imageMajor = cudnnMajorInImage(row);
  const wantMajor = majorOf(tfRow.cudnn);
  if (imageMajor !== null && wantMajor !== null && imageMajor !== wantMajor) {
    d.warnings.push(
      `TensorFlow ${tfRow.tf} is built with cuDNN ${tfRow.cudnn}, but ${cudaImage(row)} carries cuDNN ${row.cudnn_in_image ?? imageMajor}: TF will not load it; install nvidia-cudnn-cu${majorOf(row.cuda)}==${tfRow.cudnn}.* or use tensorflow[and-cuda] wheels`,
    );
    return;
  }
  if (row.cudnn_in_image !== null && compareVersions(majorMinor(row.cudnn_in_image) ?? row.cudnn_in_image, tfRow.cudnn) < 0) {
    d.warnings.push(`${cudaImage(row)} carries cuDNN ${row.cudnn_in_image}, older than the cuDNN ${tfRow.cudnn} TensorFlow ${tfRow.tf} is built with; TF may refuse an older cuDNN minor (unverified) — prefer tensorflow[and-cuda] wheels`);
  }
}

function cudaInfo(table: CompatTable, version: string, cudnn: string | null, source: BaseCuda['source'], d: Draft): BaseCuda {
  const row = cudaRow(table, version);
  const floor = driverFloor(table, version);
  const minDriver = row?.min_driver ?? floor;
  if (row === null) {
    d.reasons.push(
      floor !== null
        ? `CUDA ${version} has no row in the table; its minimum driver is the CUDA ${majorOf(version)}.x floor ${floor} (minor-version compatibility)`
        : `CUDA ${version} is not in the table and has no known driver floor`,
    );
    if (floor === null) d.warnings.push(`CUDA ${version} is not in the compatibility table: no minimum driver is known — check the host driver by hand`);
  }
  return { version, cudnn, source, minDriver };
}

function checkDriver(snapshot: Snapshot, table: CompatTable, cuda: BaseCuda, d: Draft): void {
  const driver = snapshot.gpu.driver_version;
  if (cuda.minDriver === null || driver === null || !isValidPep440(driver) || !isValidPep440(cuda.minDriver)) return;
  if (compareVersions(driver, cuda.minDriver) >= 0) return;
  const floor = driverFloor(table, cuda.version);
  if (cuda.source === 'wheels' && floor !== null && compareVersions(driver, floor) >= 0 && compareVersions(floor, cuda.minDriver) < 0) {
    d.warnings.push(
      `the captured driver ${driver} is below ${cuda.minDriver}, the driver shipped with CUDA ${cuda.version}; CUDA ${majorOf(cuda.version)}.x minor-version compatibility runs it from ${floor}, with limits (no JIT of newer PTX) — a host driver ≥ ${cuda.minDriver} is safer`,
    );
    return;
  }
  d.warnings.push(`the captured driver ${driver} is below the minimum ${cuda.minDriver} for CUDA ${cuda.version}; the rebuilt image will not run on that host's driver — update the driver or pick an older CUDA`);
}

// ---------------------------------------------------------------------------------------------

function parseOverride(reference: string, d: Draft): { image: string; digest: string | null } {
  const at = reference.indexOf('@');
  if (at < 0) return { image: reference, digest: null };
  const image = reference.slice(0, at);
  const digest = reference.slice(at + 1);
  if (/^sha256:[0-9a-f]{64}$/.test(digest)) return { image, digest };
  d.warnings.push(`--base-image digest "${digest}" is not sha256:<64 hex>; ignoring it, so the base is pinned by tag only`);
  return { image, digest: null };
}

/** Chooses the base image, how Python arrives and where CUDA comes from. */
export function chooseBaseImage(snapshot: Snapshot, options: BaseOptions, table: CompatTable): BaseChoice {
  const d: Draft = { image: '', family: 'python', pythonFrom: 'base', cuda: null, extraIndexUrls: [], reasons: [], warnings: [] };
  const target: 'gpu' | 'cpu' = options.target ?? (snapshot.gpu.available ? 'gpu' : 'cpu');
  d.reasons.push(
    options.target
      ? `target ${target}: requested with --${target}`
      : `target ${target}: the snapshot ${snapshot.gpu.available ? 'saw a GPU' : 'saw no GPU'} at capture`,
  );
  if (target === 'cpu' && snapshot.gpu.available) {
    d.warnings.push('the snapshot was captured on a GPU but this image is CPU-only (--cpu): results can differ from the GPU baseline (other kernels, no TF32)');
  }

  // The frameworks and where each one's CUDA comes from.
  const wheels = nvidiaWheels(snapshot);
  const wheelMajors = [...new Set(wheels.map((w) => w.cudaMajor))].sort();
  const cudnnWheel = wheels.find((w) => /^nvidia-cudnn-cu\d+$/.test(w.name));
  const tf = tensorflowInfo(snapshot);
  const tfLookup = tf !== null && tf.version !== '' ? tensorflowRow(table, tf.version) : null;
  if (tf !== null && tf.version === '' && tf.cudaBuild) d.warnings.push('TensorFlow has no version (a source build?); its CUDA is taken from the captured build info only');

  // torch: the local label picks the wheel index for CPU and GPU images alike.
  const torch = torchVersion(snapshot);
  const label = torch !== null ? localLabel(torch) : null;
  const variant = label !== null ? torchVariant(table, label) : null;
  if (label !== null) {
    if (variant) {
      d.extraIndexUrls.push(variant.index_url);
      d.reasons.push(`torch ${torch}: the +${variant.label} wheels come from ${variant.index_url}`);
    } else {
      d.warnings.push(`torch ${torch}: the local label "+${label}" is not in the table (ROCm and other builds are not covered); no extra wheel index is added — check where that wheel comes from`);
    }
  }
  const torchCuda = variant ? variant.cuda : label === null ? (snapshot.frameworks.torch?.cuda ?? null) : null;
  const torchGpu = torch !== null && torchCuda !== null;
  const jax = jaxPlugins(snapshot, table);

  const tfGpu = tf !== null && tf.cudaBuild;
  const gpuFrameworks = tfGpu || torchGpu || jax.length > 0 || wheels.length > 0;

  if (target === 'cpu' || !gpuFrameworks) {
    if (target === 'gpu') {
      d.warnings.push(
        `target gpu, but nothing in the snapshot is a CUDA build (tensorflow-cpu, torch +cpu, no JAX CUDA plugin, no nvidia-* wheels); the image is the plain Python one${options.target === 'gpu' ? ' despite --gpu' : ''}`,
      );
    }
    if (tfLookup?.warning) d.warnings.push(tfLookup.warning);
    pythonBase(snapshot, table, options, d);
    return finish(snapshot, options, target, d);
  }

  // GPU.
  let cudaVersion: string | null = null;
  let cudnn: string | null = cudnnWheel ? cudnnWheel.version : null;
  let source: BaseCuda['source'] = 'wheels';

  if (tfGpu && tf !== null) {
    let tfRow: TensorflowRow | null = tfLookup?.row ?? null;
    if (tfLookup?.warning) d.warnings.push(tfLookup.warning);
    let wantCuda = tfRow?.cuda ?? null;
    if (tf.capturedCuda !== null && isValidPep440(tf.capturedCuda)) {
      const captured = majorMinor(tf.capturedCuda) ?? tf.capturedCuda;
      if (wantCuda === null || compareVersions(captured, wantCuda) !== 0) {
        if (cudaRow(table, captured) !== null) {
          if (wantCuda !== null) d.warnings.push(`TensorFlow ${tf.version} reports a CUDA ${captured} build, not the table's ${wantCuda}; following the captured build`);
          wantCuda = captured;
        } else if (wantCuda !== null) {
          d.warnings.push(`TensorFlow ${tf.version} reports a CUDA ${captured} build, which is not in the table; using the table's CUDA ${wantCuda}`);
        } else {
          wantCuda = captured;
        }
      }
    }
    if (tfRow === null && wantCuda === null) {
      tfRow = table.tensorflow[table.tensorflow.length - 1] as TensorflowRow;
      wantCuda = tfRow.cuda;
      d.warnings.push(`TensorFlow has neither a version nor a captured CUDA; using the newest row, ${tfRow.tf}'s CUDA ${tfRow.cuda} — check it`);
    }
    const cuda = wantCuda as string;
    const systemCuda = tfRow !== null && !tfRow.wheels_cuda;
    if (systemCuda || wheels.length === 0) {
      // System CUDA: a CUDA + cuDNN runtime base (or the official TF image with the same Python).
      const row = cudaRow(table, cuda) ?? (tfRow ? cudaRow(table, tfRow.cuda) : null);
      if (systemCuda && tfRow) d.reasons.push(`TensorFlow ${tf.version} (< 2.14) loads the system CUDA ${tfRow.cuda} and cuDNN ${tfRow.cudnn}: the base must carry them`);
      else if (tfRow) d.reasons.push(`TensorFlow ${tf.version} can take CUDA from nvidia-* wheels, but the snapshot has none (system CUDA): using a CUDA ${cuda} runtime base`);
      const official = tfRow && options.pythonFrom !== 'uv' && options.pythonFrom !== 'apt' ? officialImage(tfRow, tf.version, snapshot.python.version) : null;
      if (official) {
        d.image = `tensorflow/tensorflow:${official.tag}`;
        d.family = 'tensorflow';
        d.pythonFrom = 'base';
        d.reasons.push(`${d.image} ships Python ${official.python}, the captured Python exactly, on Ubuntu ${official.ubuntu}`);
        if (compareVersions(official.tf, tf.version) !== 0) d.reasons.push(`the image ships TensorFlow ${official.tf}; the Dockerfile installs the captured ${tf.version} over it`);
        cudaVersion = official.cuda ?? cuda;
        cudnn = tfRow?.cudnn ?? null;
        source = 'base-image';
        d.warnings.push(`${d.image} is an old image: pin its digest and keep a mirror (docker save) in case it is removed`);
      } else if (row) {
        cudaBase(snapshot, options, row, d);
        if (tfRow) checkCudnn(tfRow, row, d);
        cudaVersion = row.cuda;
        cudnn = row.cudnn_in_image ?? tfRow?.cudnn ?? null;
        source = 'base-image';
      } else {
        d.warnings.push(`CUDA ${cuda} has no nvidia/cuda row in the table; falling back to the python image — CUDA must come from elsewhere`);
        pythonBase(snapshot, table, options, d);
        cudaVersion = cuda;
        cudnn = tfRow?.cudnn ?? null;
        source = 'wheels';
      }
    } else {
      d.reasons.push(`TensorFlow ${tf.version} takes CUDA ${cuda} and cuDNN from the nvidia-* wheels in the snapshot (${wheels.map((w) => w.name).join(', ')}); the NVIDIA container toolkit injects the driver`);
      pythonBase(snapshot, table, options, d);
      cudaVersion = cuda;
      cudnn = cudnn ?? tfRow?.cudnn ?? null;
      const cudaMajor = majorOf(cuda);
      if (cudaMajor !== null && !wheelMajors.includes(cudaMajor)) {
        d.warnings.push(`TensorFlow ${tf.version} is built with CUDA ${cuda}, but the nvidia-* wheels are for CUDA ${wheelMajors.join('/')}; check the [and-cuda] pins`);
      }
    }
  } else {
    // torch / JAX / other nvidia-wheel users: CUDA comes with the wheels.
    pythonBase(snapshot, table, options, d);
    if (torchGpu && torchCuda !== null) {
      cudaVersion = torchCuda;
      d.reasons.push(`torch ${torch} brings CUDA ${torchCuda} with its wheels; the NVIDIA container toolkit injects the driver`);
    } else if (jax.length > 0) {
      const majors = [...new Set(jax.map((j) => j.cudaMajor))];
      cudaVersion = majors.sort((a, b) => compareVersions(b, a))[0] as string;
      d.reasons.push(`JAX's ${jax.map((j) => j.name).join(', ')} brings CUDA ${cudaVersion} with its wheels; the NVIDIA container toolkit injects the driver`);
      if (majors.length > 1) d.warnings.push(`JAX CUDA plugins for several CUDA majors are installed (${majors.join(', ')}); using CUDA ${cudaVersion}`);
    } else {
      cudaVersion = wheelMajors[wheelMajors.length - 1] as string;
      d.reasons.push(`CUDA ${cudaVersion} comes from the nvidia-* wheels in the snapshot (${wheels.map((w) => w.name).join(', ')})`);
    }
    source = 'wheels';
  }

  // Frameworks that disagree on the CUDA major.
  const majors = new Set<string>();
  if (cudaVersion !== null) majors.add(majorOf(cudaVersion) ?? cudaVersion);
  if (torchGpu && torchCuda !== null) majors.add(majorOf(torchCuda) ?? torchCuda);
  for (const j of jax) majors.add(j.cudaMajor);
  if (majors.size > 1) d.warnings.push(`the frameworks in the snapshot want different CUDA majors (${[...majors].sort().join(', ')}); the image follows CUDA ${cudaVersion}`);

  if (cudaVersion !== null) {
    const info = cudaInfo(table, cudaVersion, cudnn, source, d);
    d.cuda = info;
    if (info.minDriver !== null) d.reasons.push(`CUDA ${info.version} needs an NVIDIA driver ≥ ${info.minDriver} on the host`);
    checkDriver(snapshot, table, info, d);
  }
  return finish(snapshot, options, target, d);
}

function officialImage(row: TensorflowRow, tfVersion: string, python: string) {
  if (!isValidPep440(python)) return null;
  const matching = row.official_gpu_images.filter((img) => compareVersions(img.python, python) === 0);
  return matching.find((img) => compareVersions(img.tf, tfVersion) === 0) ?? matching[0] ?? null;
}

function finish(snapshot: Snapshot, options: BaseOptions, target: 'gpu' | 'cpu', d: Draft): BaseChoice {
  const choice: BaseChoice = {
    image: d.image,
    digest: null,
    family: d.family,
    target,
    pythonFrom: d.pythonFrom,
    cuda: d.cuda,
    extraIndexUrls: d.extraIndexUrls,
    reasons: d.reasons,
    warnings: d.warnings,
    notGuaranteed: [],
  };
  if (options.baseImage === undefined || options.baseImage.trim() === '') return choice;

  const { image, digest } = parseOverride(options.baseImage.trim(), d);
  const computed = choice.image;
  const pythonFrom = options.pythonFrom ?? 'base';
  const python = snapshot.python.version;
  const notGuaranteed: string[] = [];
  if (pythonFrom === 'base') notGuaranteed.push(`exact Python: the image must provide Python ${python} as python3; it is trusted, not checked`);
  else if (pythonFrom === 'apt') {
    d.warnings.push(`apt (--python-from apt) installs ${image}'s distribution python3, which is not necessarily the captured Python ${python}`);
    notGuaranteed.push(`exact Python: apt installs the image distribution's python3, not necessarily ${python}`);
  }
  if (target === 'gpu' && choice.cuda !== null) {
    const cudnn = choice.cuda.cudnn ? `/cuDNN ${choice.cuda.cudnn}` : '';
    notGuaranteed.push(
      choice.cuda.source === 'wheels'
        ? `CUDA ${choice.cuda.version}${cudnn}: still from the nvidia-* wheels, but any CUDA libraries in the image may shadow them`
        : `CUDA ${choice.cuda.version}${cudnn}: the image must carry the CUDA and cuDNN the frameworks were built with`,
    );
  }
  const os = snapshot.system.os.pretty_name ?? snapshot.system.os.id ?? 'the captured OS';
  notGuaranteed.push(`OS/glibc: the snapshot ran on ${os}${snapshot.system.glibc ? ` with glibc ${snapshot.system.glibc}` : ''}; compiled wheels may need a compatible glibc in the image`);
  return {
    ...choice,
    image,
    digest,
    family: 'override',
    pythonFrom,
    reasons: [`--base-image: using ${image}${digest ? `@${digest}` : ''} as given (the computed choice was ${computed})`, ...choice.reasons.filter((r) => !r.includes(computed))],
    // Warnings about the computed image or its Python do not apply to the override.
    warnings: d.warnings.filter((w) => !w.includes(computed) && !w.startsWith('--python-from')),
    notGuaranteed,
  };
}
