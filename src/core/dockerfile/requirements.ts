// The pinned requirements file `snapshot dockerfile` writes next to the Dockerfile: every captured
// package that an index (or a commit, or a hashed archive) can give back, pinned exactly, and a
// list of the ones it cannot, each with why and what to do. Every value written is validated
// first (see validate.ts): a snapshot file may come from anyone.
import type { PackageRecord, Snapshot } from '../model.js';
import { UserInputError } from '../../errors.js';
import {
  assertCommitId,
  assertHttpUrl,
  assertPackageName,
  assertSha256,
  assertSnapshotId,
  assertVcsRequirementUrl,
  assertVersion,
  normalizePackageName,
  showValue,
  unsafeValue,
  VCS_KINDS,
} from './validate.js';

export interface RequirementsOptions {
  /** --extra-index-url lines, written first in the order given (duplicates dropped). */
  extraIndexUrls: string[];
  /** PEP 503 normalized names the base image provides (pip, setuptools, wheel...): left out. */
  exclude: ReadonlySet<string>;
}

export interface SkippedPackage {
  name: string;
  version: string;
  reason: string;
  advice: string;
}

export interface RenderedRequirements {
  text: string;
  /** How many requirement lines the text pins. */
  pinned: number;
  skipped: SkippedPackage[];
}

export const SKIP_REASONS = {
  vcsWithoutCommit: 'VCS install without a recorded commit',
  editable: 'editable install: comes from the code layer',
  local: 'installed from a local path no index can give back',
  baseImage: 'provided by the base image',
} as const;

interface Line {
  key: string;
  name: string;
  text: string;
  /** The text after the name ("==1.0", " @ url"): what two records of one distribution must share. */
  pin: string;
  at: string;
}

type Outcome = { line: string } | { skip: { reason: string; advice: string } };

// Archive hashes as the probe records them: "<algo>=<hex>" (PEP 610's legacy `hash`, or the
// chosen entry of `hashes`). Only algorithms pip accepts in a URL fragment are written.
const ARCHIVE_HASH = /^([a-z0-9]+)=(.*)$/;
const HASH_HEX_LENGTH: Readonly<Record<string, number>> = { sha384: 96, sha512: 128 };

function isFileUrl(url: unknown): boolean {
  return typeof url === 'string' && /^\s*file:/i.test(url);
}

function archiveFragment(hash: string | null | undefined, field: string): string {
  if (hash === null || hash === undefined) return '';
  if (typeof hash !== 'string') throw unsafeValue(field, hash, 'is not a hash (not a string)');
  const match = ARCHIVE_HASH.exec(hash);
  if (!match) return `#sha256=${assertSha256(hash, field)}`;
  const [, algo = '', hex = ''] = match;
  if (algo === 'sha256') {
    assertSha256(hex, field);
    return `#sha256=${hex}`;
  }
  const length = HASH_HEX_LENGTH[algo];
  if (length !== undefined) {
    if (!new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) throw unsafeValue(field, hash, `is not a ${algo} digest (${length} lower-case hex digits)`);
    return `#${algo}=${hex}`;
  }
  // md5 and sha1 are too weak to be worth pinning to; the URL still names one file.
  if (!/^[0-9a-f]+$/.test(hex)) throw unsafeValue(field, hash, 'is not a hex digest');
  return '';
}

function requirementFor(pkg: PackageRecord, name: string, version: string, at: string): Outcome {
  const source = pkg.source as unknown;
  if (typeof source !== 'object' || source === null) throw unsafeValue(`${at}.source`, source, 'is not a package source');
  const s = source as Record<string, unknown>;
  switch (s.kind) {
    case 'index':
      return { line: `${name}==${version}` };
    case 'vcs': {
      if (isFileUrl(s.url)) {
        return { skip: { reason: SKIP_REASONS.local, advice: `Push the repository of ${name} somewhere the build can clone it (or publish a wheel) and recapture.` } };
      }
      if (s.commit_id === null || s.commit_id === undefined || s.commit_id === '') {
        return {
          skip: {
            reason: SKIP_REASONS.vcsWithoutCommit,
            advice: `Reinstall ${name} from a commit (pip install "${name} @ git+<url>@<commit>") or from a released version, then recapture.`,
          },
        };
      }
      const vcs = s.vcs;
      if (typeof vcs !== 'string' || !VCS_KINDS.includes(vcs)) throw unsafeValue(`${at}.source.vcs`, vcs, `is not a supported VCS (${VCS_KINDS.join(', ')})`);
      const commit = assertCommitId(s.commit_id, `${at}.source.commit_id`, vcs);
      if (typeof s.url !== 'string') throw unsafeValue(`${at}.source.url`, s.url, 'is not a URL (not a string)');
      // PEP 610 records the URL without the "git+" prefix; accept it with one too.
      const base = s.url.startsWith(`${vcs}+`) ? s.url.slice(vcs.length + 1) : s.url;
      const url = assertVcsRequirementUrl(`${vcs}+${base}@${commit}`, `${at}.source.url`);
      return { line: `${name} @ ${url}` };
    }
    case 'editable':
      return { skip: { reason: SKIP_REASONS.editable, advice: `Install ${name} from the code layer with pip install -e, or publish it and recapture.` } };
    case 'local':
      return { skip: { reason: SKIP_REASONS.local, advice: `Publish ${name} as a wheel to an index (or vendor it into the code) and recapture.` } };
    case 'archive': {
      if (isFileUrl(s.url)) {
        return { skip: { reason: SKIP_REASONS.local, advice: `Publish ${name} as a wheel to an index (or host the archive over https) and recapture.` } };
      }
      const href = assertHttpUrl(s.url, `${at}.source.url`);
      const fragment = archiveFragment(s.hash as string | null | undefined, `${at}.source.hash`);
      // Any fragment the URL had is dropped: pip reads options (egg=, subdirectory=) from it.
      const url = `${href.replace(/#.*$/, '')}${fragment}`;
      return { line: `${name} @ ${url}` };
    }
    default:
      throw unsafeValue(`${at}.source.kind`, s.kind, 'is not a known package source kind');
  }
}

/**
 * The requirements file for `snapshot`: a generated-file header naming the snapshot id, the
 * --extra-index-url lines, then one exact pin per package sorted by normalized name. The same
 * snapshot and options always give byte-identical text. Throws UNSAFE_SNAPSHOT_VALUE, naming the
 * field, for any name, version, URL, commit or hash that does not pass validation.
 */
export function renderRequirements(snapshot: Snapshot, options: RequirementsOptions): RenderedRequirements {
  const id = assertSnapshotId(snapshot.id, 'id');

  const indexLines: string[] = [];
  const seenIndexes = new Set<string>();
  options.extraIndexUrls.forEach((raw, i) => {
    const href = assertHttpUrl(raw, `extraIndexUrls[${i}]`);
    if (seenIndexes.has(href)) return;
    seenIndexes.add(href);
    indexLines.push(`--extra-index-url ${href}`);
  });

  const packages: unknown = snapshot.packages;
  if (!Array.isArray(packages)) throw unsafeValue('packages', packages, 'is not a list');
  const lines: Line[] = [];
  const skipped: Array<SkippedPackage & { key: string }> = [];
  (packages as PackageRecord[]).forEach((pkg, i) => {
    const at = `packages[${i}]`;
    if (typeof pkg !== 'object' || pkg === null) throw unsafeValue(at, pkg, 'is not a package record');
    const name = assertPackageName(pkg.name, `${at}.name`);
    const version = assertVersion(pkg.version, `${at}.version`);
    const key = normalizePackageName(name);
    const outcome: Outcome = options.exclude.has(key)
      ? { skip: { reason: SKIP_REASONS.baseImage, advice: `The base image installs its own ${name}; the captured version was ${version}.` } }
      : requirementFor(pkg, name, version, at);
    if ('line' in outcome) lines.push({ key, name, text: outcome.line, pin: outcome.line.slice(name.length), at });
    else skipped.push({ key, name, version, ...outcome.skip });
  });

  const byKey = (a: { key: string; name: string }, b: { key: string; name: string }): number =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  lines.sort((a, b) => byKey(a, b) || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));

  // The same distribution twice: identical pins collapse, different ones cannot both be installed.
  const pins: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const previous = lines[i - 1];
    if (previous !== undefined && previous.key === line.key) {
      if (previous.pin === line.pin) continue;
      const [first, second] = [previous.at, line.at].sort();
      throw new UserInputError('SNAPSHOT_DUPLICATE_PACKAGE', `${first} and ${second}: ${showValue(line.key)} is recorded twice with different pins: ${showValue(previous.text)} and ${showValue(line.text)}`, {
        hint: 'The captured environment holds two copies of one distribution; remove the stale one, then recapture.',
      });
    }
    pins.push(line.text);
  }

  skipped.sort((a, b) => byKey(a, b) || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));

  const header = [
    `# Generated by \`snapshot dockerfile\` from snapshot ${id}. Do not edit: regenerate it.`,
    '# Every package is pinned to the exact version, commit or archive that was captured.',
  ];
  const text = [...header, ...indexLines, ...pins].join('\n') + '\n';
  return {
    text,
    pinned: pins.length,
    skipped: skipped.map(({ name, version, reason, advice }) => ({ name, version, reason, advice })),
  };
}
