// The pinned requirements file `snapshot dockerfile` writes next to the Dockerfile: every captured
// package that an index (or a commit, or a hashed archive) can give back, pinned exactly, and a
// list of the ones it cannot, each with why and what to do. Every value written is validated
// first (see validate.ts): a snapshot file may come from anyone.
import type { PackageRecord, Snapshot } from '../model.js';
import { UserInputError } from '../../errors.js';
import { satisfiesSpecifier } from '../versions.js';
import {
  assertCommitId,
  assertRelativePosixPath,
  assertVersionSpecifier,
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
  /** PEP 503 normalized names the base image provides (pip): left out. */
  exclude: ReadonlySet<string>;
}

/**
 * The packaging tools an environment may need at run time (tensorflow-cpu 2.21 declares
 * `Requires-Dist: setuptools`; code that imports pkg_resources). They are never pinned exactly (a
 * venv's bundled setuptools 65.5.0 is on few mirrors): the line asks for what the environment
 * requires, so pip keeps the base image's copy when it satisfies that and installs one otherwise.
 */
export const PACKAGING_TOOLS: ReadonlySet<string> = new Set(['setuptools', 'wheel']);

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
  /** The version control systems the pinned lines clone with (the image needs their clients). */
  vcs: string[];
  /** Packages pinned to an ssh:// repository: the build needs the user's ssh credentials. */
  overSsh: string[];
  /** The packaging tools written as requirements, with what asked for them. */
  tooling: Array<{ name: string; requirement: string; captured: string; requested: boolean; requiredBy: string[] }>;
}

export const SKIP_REASONS = {
  vcsWithoutCommit: 'VCS install without a recorded commit',
  editable: 'editable install: comes from the code layer',
  local: 'installed from a local path no index can give back',
  baseImage: 'provided by the base image',
  distro: "installed by the operating system's package manager, not by pip",
  legacy: 'a legacy egg-info install that records no source',
  signedUrl: 'downloaded from a signed URL whose credentials were removed at capture',
  toolingUnneeded: 'a packaging tool nothing in the environment requires',
} as const;

/** Installers whose records say where a distribution came from the way pip does. */
const PIP_LIKE_INSTALLERS = new Set(['pip', 'uv', 'poetry', 'pdm', 'pipenv', 'pipx', 'hatch']);

/**
 * A distribution's own site folders (Debian's /usr/lib/python3/dist-packages, Fedora's
 * /usr/lib64/python3.12/site-packages): what the OS package manager installs. pip installs under
 * /usr/local (or a venv), which this does not match.
 */
const DISTRO_LOCATION = /^\/usr\/(lib|lib64|share)\/python[0-9.]*\/(dist|site)-packages\/?$/;

/** Installed by apt, dnf and the like: the name and version are the distribution's, not PyPI's. */
export function isDistroInstall(pkg: Pick<PackageRecord, 'installer' | 'location'>): boolean {
  if (typeof pkg.location !== 'string' || !DISTRO_LOCATION.test(pkg.location)) return false;
  const installer = typeof pkg.installer === 'string' ? pkg.installer.trim().toLowerCase() : '';
  return !PIP_LIKE_INSTALLERS.has(installer);
}

/** An egg-info (or egg) with no direct_url.json: setup.py install, or pip's legacy path, from anywhere. */
function isLegacyInstall(pkg: PackageRecord): boolean {
  return (pkg.metadata === 'egg-info' || pkg.metadata === 'egg') && pkg.source.kind === 'index';
}

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

/** "#subdirectory=<path>" (or "&..." after a hash fragment) when the source recorded one. */
function subdirectoryFragment(s: Record<string, unknown>, at: string, separator: '#' | '&'): string {
  if (s.subdirectory === undefined || s.subdirectory === null || s.subdirectory === '') return '';
  const sub = assertRelativePosixPath(s.subdirectory, `${at}.source.subdirectory`);
  return `${separator}subdirectory=${sub}`;
}

function requirementFor(pkg: PackageRecord, name: string, version: string, at: string): Outcome {
  const source = pkg.source as unknown;
  if (typeof source !== 'object' || source === null) throw unsafeValue(`${at}.source`, source, 'is not a package source');
  const s = source as Record<string, unknown>;
  if (s.redacted === true && (s.kind === 'archive' || s.kind === 'vcs')) {
    return {
      skip: {
        reason: SKIP_REASONS.signedUrl,
        advice: `Host the ${name} archive where the build can fetch it without credentials (or publish it to an index) and recapture; the snapshot keeps the URL without its signature.`,
      },
    };
  }
  switch (s.kind) {
    case 'index':
      if (isDistroInstall(pkg)) {
        return {
          skip: {
            reason: SKIP_REASONS.distro,
            advice: `${name} ${version} is the OS's own package in ${String(pkg.location)} (on PyPI that name may be another project, or lack that version): install it in the image with the OS package manager, or train in a virtual environment with pip-installed packages and recapture.`,
          },
        };
      }
      if (isLegacyInstall(pkg)) {
        return {
          skip: {
            reason: SKIP_REASONS.legacy,
            advice: `Nothing records whether ${name} ${version} came from an index or a local folder: reinstall it with a current pip (pip install ${name}==${version}, or from its source folder) so its source is recorded, then recapture.`,
          },
        };
      }
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
      return { line: `${name} @ ${url}${subdirectoryFragment(s, at, '#')}` };
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
      // Any fragment the URL had is dropped: pip reads options (egg=, subdirectory=) from it, and
      // the recorded subdirectory is the one written.
      const url = `${href.replace(/#.*$/, '')}${fragment}${subdirectoryFragment(s, at, fragment === '' ? '#' : '&')}`;
      return { line: `${name} @ ${url}` };
    }
    default:
      throw unsafeValue(`${at}.source.kind`, s.kind, 'is not a known package source kind');
  }
}

/**
 * The requirements file for `snapshot`: a generated-file header, the --extra-index-url lines, then one exact pin per package sorted by normalized name. The same
 * snapshot and options always give byte-identical text. Throws UNSAFE_SNAPSHOT_VALUE, naming the
 * field, for any name, version, URL, commit or hash that does not pass validation.
 */
export function renderRequirements(snapshot: Snapshot, options: RequirementsOptions): RenderedRequirements {
  assertSnapshotId(snapshot.id, 'id');

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
  const tools: Array<{ pkg: PackageRecord; name: string; version: string; key: string; at: string }> = [];
  const vcs = new Set<string>();
  const overSsh: string[] = [];
  (packages as PackageRecord[]).forEach((pkg, i) => {
    const at = `packages[${i}]`;
    if (typeof pkg !== 'object' || pkg === null) throw unsafeValue(at, pkg, 'is not a package record');
    const name = assertPackageName(pkg.name, `${at}.name`);
    const version = assertVersion(pkg.version, `${at}.version`);
    const key = normalizePackageName(name);
    if (options.exclude.has(key)) {
      skipped.push({ key, name, version, reason: SKIP_REASONS.baseImage, advice: `The base image installs its own ${name}; the captured version was ${version}.` });
      return;
    }
    // Decided once every package is read: whether anything pinned requires them.
    if (PACKAGING_TOOLS.has(key) && pkg.source?.kind === 'index') {
      tools.push({ pkg, name, version, key, at });
      return;
    }
    const outcome = requirementFor(pkg, name, version, at);
    if ('line' in outcome) {
      lines.push({ key, name, text: outcome.line, pin: outcome.line.slice(name.length), at });
      if (pkg.source.kind === 'vcs') {
        vcs.add(pkg.source.vcs);
        if (/^[a-z]+\+ssh:\/\//.test(outcome.line.slice(name.length + 3))) overSsh.push(name);
      }
    } else skipped.push({ key, name, version, ...outcome.skip });
  });

  const tooling: RenderedRequirements['tooling'] = [];
  const pinnedKeys = new Set(lines.map((l) => l.key));
  for (const tool of tools) {
    const needed = neededTooling(tool.key, packages as PackageRecord[], pinnedKeys);
    if (!tool.pkg.requested && needed.by.length === 0) {
      skipped.push({ key: tool.key, name: tool.name, version: tool.version, reason: SKIP_REASONS.toolingUnneeded, advice: `Nothing pinned declares a requirement on ${tool.name} and it was not installed by request; the captured version was ${tool.version}.` });
      continue;
    }
    const specifier = needed.specifiers.join(',');
    const why = [...(tool.pkg.requested ? ['installed on request'] : []), ...(needed.by.length > 0 ? [`required by ${needed.by.join(', ')}`] : [])];
    // The captured version rides along as a comment: what ran, without forcing a mirror to have it.
    const mismatch = specifier !== '' && !satisfiesSpecifier(tool.version, specifier) ? ' (which does not satisfy this)' : '';
    const text = `${tool.name}${specifier}`;
    lines.push({ key: tool.key, name: tool.name, text: `${text}  # captured ${tool.version}${mismatch}; ${why.join(', ')}`, pin: text.slice(tool.name.length), at: tool.at });
    tooling.push({ name: tool.name, requirement: text, captured: tool.version, requested: tool.pkg.requested === true, requiredBy: needed.by });
  }

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

  // No snapshot id here: the file is the cache key of the package install, and must be the same
  // for every snapshot of the same environment (the Dockerfile names the snapshot).
  const header = [
    '# Generated by `snapshot dockerfile` from the packages of a snapshot. Do not edit: regenerate it.',
    '# Every package is pinned to the exact version, commit or archive that was captured.',
  ];
  const text = [...header, ...indexLines, ...pins].join('\n') + '\n';
  return {
    text,
    pinned: pins.length,
    skipped: skipped.map(({ name, version, reason, advice }) => ({ name, version, reason, advice })),
    vcs: [...vcs].sort(),
    overSsh: overSsh.sort(),
    tooling,
  };
}

// PEP 508 as Requires-Dist writes it: a name, maybe [extras], then a specifier (maybe in
// parentheses) or "@ URL", then maybe "; <marker>". Only the name and the specifier are used.
const TOOLING_REQUIREMENT = /^\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*(?:@\s*[^;]*|\(([^()]*)\)|([^;()@]*))\s*(;.*)?$/s;

/**
 * What the pinned packages require of one packaging tool: their names and the specifiers, from
 * their Requires-Dist lines. A requirement with a marker (`setuptools<60; python_version < "3.8"`)
 * still says the tool is needed, but its specifier is not applied: markers are not evaluated here,
 * and a bound meant for another Python would install an older tool than the one that ran. A URL
 * requirement names no version. A line that is not a requirement at all is not ours to refuse:
 * it is left out (nothing from it reaches the file).
 */
function neededTooling(tool: string, packages: PackageRecord[], pinned: ReadonlySet<string>): { by: string[]; specifiers: string[] } {
  const by = new Set<string>();
  const specifiers = new Set<string>();
  packages.forEach((pkg, i) => {
    if (typeof pkg?.name !== 'string' || !pinned.has(normalizePackageName(pkg.name))) return;
    const wants: unknown = pkg.requires_tooling;
    if (!Array.isArray(wants)) return;
    wants.forEach((want: unknown, j) => {
      const field = `packages[${i}].requires_tooling[${j}]`;
      if (typeof want !== 'string') return;
      const match = TOOLING_REQUIREMENT.exec(want);
      if (!match || normalizePackageName(match[1] as string) !== tool) return;
      by.add(pkg.name);
      if (match[4] !== undefined) return;
      const specifier = assertVersionSpecifier((match[2] ?? match[3] ?? '').trim(), field);
      if (specifier !== '') specifiers.add(specifier);
    });
  });
  return { by: [...by].sort(), specifiers: [...specifiers].sort() };
}
