// The CUDA toolkit version: `nvcc --version`, and the files old and new toolkits leave in
// /usr/local/cuda (version.txt up to 10.x, version.json from 11.x).

import { firstMatch } from './text.js';

export interface CudaToolkitVersion {
  /** Full version, e.g. "12.4.131". */
  version: string;
  /** MAJOR.MINOR, e.g. "12.4". */
  release: string;
}

/** `nvcc --version`: "Cuda compilation tools, release 12.4, V12.4.131". */
export function parseNvccVersion(text: string): CudaToolkitVersion | null {
  const m = /release (\d+\.\d+), V(\d+(?:\.\d+)*)/.exec(text);
  if (!m) return null;
  return { version: m[2] as string, release: m[1] as string };
}

/** /usr/local/cuda/version.txt (toolkits up to 10.x): "CUDA Version 10.0.130" → "10.0.130". */
export function parseCudaVersionTxt(text: string): string | null {
  return firstMatch(text, /CUDA Version\s+(\d+\.\d+(?:\.\d+)*)/);
}

/** /usr/local/cuda/version.json (11.x on): {"cuda": {"name": "CUDA SDK", "version": "12.2.2"}, ...} → "12.2.2". */
export function parseCudaVersionJson(text: string): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const cuda = (doc as Record<string, unknown>)['cuda'];
  if (typeof cuda !== 'object' || cuda === null) return null;
  const version = (cuda as Record<string, unknown>)['version'];
  if (typeof version !== 'string' || !/^\d+\.\d+(?:\.\d+)*$/.test(version.trim())) return null;
  return version.trim();
}
