// TensorFlow's generated tensorflow/python/platform/build_info.py, read as text (no import,
// no Python). Shapes seen:
//   TF ≥2.4: build_info = collections.OrderedDict([('cuda_version', '12.2'), ...])
//   TF 2.3:  build_info = {'cuda_version': '10.1', ...}
//   older:   module-level is_cuda_build = True, cuda_version_number = '10.1', cudnn_version_number = '7'
// Windows builds write '64_110' for CUDA 11.0 and '64_8' for cuDNN 8 (from the DLL names).

import type { TensorflowInfo } from '../model.js';
import { pythonMappingEntries, pythonModuleAssignments, type PyValue } from './python-literal.js';

export type TensorflowBuildInfo = NonNullable<TensorflowInfo['build_info']>;

const KNOWN_KEYS = [
  'cuda_version',
  'cudnn_version',
  'cuda_compute_capabilities',
  'is_cuda_build',
  'is_rocm_build',
  'is_tensorrt_build',
] as const;

/** Old module-level names for the same facts. */
const LEGACY_NAMES: Record<string, (typeof KNOWN_KEYS)[number]> = {
  cuda_version_number: 'cuda_version',
  cudnn_version_number: 'cudnn_version',
  cuda_compute_capabilities: 'cuda_compute_capabilities',
  is_cuda_build: 'is_cuda_build',
  is_rocm_build: 'is_rocm_build',
  is_tensorrt_build: 'is_tensorrt_build',
};

function asText(v: PyValue | undefined): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'number') return String(v);
  return null;
}

/** '64_110' → '11.0', '64_101' → '10.1', '64_12' → '12'; '12.2' unchanged. */
function cudaVersion(v: PyValue | undefined): string | null {
  const text = asText(v);
  if (text === null) return null;
  const win = /^64_(\d+)$/.exec(text);
  if (!win) return text;
  const digits = win[1] as string;
  return digits.length >= 3 ? `${digits.slice(0, -1)}.${digits.slice(-1)}` : digits;
}

/** '64_8' → '8'; '8' unchanged. */
function cudnnVersion(v: PyValue | undefined): string | null {
  const text = asText(v);
  if (text === null) return null;
  return /^64_(\d+)$/.exec(text)?.[1] ?? text;
}

function asBool(v: PyValue | undefined): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'True' || v === 'true' || v === '1') return true;
  if (v === 'False' || v === 'false' || v === '0') return false;
  return null;
}

function asStringList(v: PyValue | undefined): string[] | null {
  if (Array.isArray(v)) {
    const out = v.filter((x): x is string => typeof x === 'string').map((s) => s.trim());
    return out.length === v.length ? out : null;
  }
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  return null;
}

/**
 * The build facts in a build_info.py source; unknown keys are ignored and missing ones are
 * null. Returns null when the text holds neither a build_info mapping nor any of the old
 * module-level names (not a build_info.py, or unreadable).
 */
export function parseTensorflowBuildInfo(source: string): TensorflowInfo['build_info'] {
  const assignments = pythonModuleAssignments(source);
  const facts = new Map<string, PyValue>();
  let found = false;

  for (const [name, key] of Object.entries(LEGACY_NAMES)) {
    if (assignments.has(name)) {
      facts.set(key, assignments.get(name) as PyValue);
      found = true;
    }
  }
  const entries = pythonMappingEntries(assignments.get('build_info'));
  if (entries !== null) {
    found = true;
    for (const [k, v] of entries) {
      if (typeof k === 'string' && (KNOWN_KEYS as readonly string[]).includes(k)) facts.set(k, v);
    }
  }
  if (!found) return null;

  return {
    cuda_version: cudaVersion(facts.get('cuda_version')),
    cudnn_version: cudnnVersion(facts.get('cudnn_version')),
    cuda_compute_capabilities: asStringList(facts.get('cuda_compute_capabilities')),
    is_cuda_build: asBool(facts.get('is_cuda_build')),
    is_rocm_build: asBool(facts.get('is_rocm_build')),
    is_tensorrt_build: asBool(facts.get('is_tensorrt_build')),
  };
}
