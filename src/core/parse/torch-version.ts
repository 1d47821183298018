// torch/version.py, generated at build time:
//   __version__ = '2.4.0+cu121'
//   debug = False
//   cuda: Optional[str] = '12.1'      (older releases: cuda = '10.2')
//   git_version = '...'
//   hip: Optional[str] = None

import { pythonModuleAssignments, type PyValue } from './python-literal.js';

export interface TorchVersionInfo {
  version: string;
  cuda: string | null;
  git_version: string | null;
  debug: boolean | null;
  hip: string | null;
}

function text(v: PyValue | undefined): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** Null when there is no `__version__` string (not a torch/version.py). */
export function parseTorchVersionFile(source: string): TorchVersionInfo | null {
  const a = pythonModuleAssignments(source);
  const version = text(a.get('__version__'));
  if (version === null) return null;
  const debug = a.get('debug');
  return {
    version,
    cuda: text(a.get('cuda')),
    git_version: text(a.get('git_version')),
    debug: typeof debug === 'boolean' ? debug : null,
    hip: text(a.get('hip')),
  };
}
