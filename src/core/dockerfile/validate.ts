// The validation and quoting layer between a snapshot file and a generated Dockerfile or
// requirements file. A snapshot file may come from anyone, so every value that reaches either
// file is checked against its own grammar here first, and the few values that are free text are
// quoted so Docker's parser reads back exactly the value given. Nothing here does I/O.
//
// Every refusal is a UserInputError with code UNSAFE_SNAPSHOT_VALUE whose message names the field
// path and the offending value (JSON-quoted, so newlines and escapes show, and truncated).
import { UserInputError } from '../../errors.js';
import { envValueProblem } from '../determinism.js';
import { isValidPep440, isValidSpecifier } from '../versions.js';

export const UNSAFE_SNAPSHOT_VALUE = 'UNSAFE_SNAPSHOT_VALUE';
const HINT = 'The snapshot file has been edited or is corrupt; recapture it.';
const SHOWN_CHARS = 80;

/**
 * The value as it appears in an error message: JSON-quoted (control characters escaped), with the
 * characters JSON leaves raw but a terminal or editor may act on (DEL, C1 controls, line and
 * paragraph separators) escaped too, and cut to about 80 characters.
 */
export function showValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'string') shown = JSON.stringify(value);
  else if (value === undefined) shown = 'undefined';
  else {
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = Object.prototype.toString.call(value);
    }
  }
  shown = shown.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length > SHOWN_CHARS ? `${shown.slice(0, SHOWN_CHARS - 1)}…` : shown;
}

/** The error every check here throws: `<field>: <value> <problem>`. */
export function unsafeValue(field: string, value: unknown, problem: string): UserInputError {
  return new UserInputError(UNSAFE_SNAPSHOT_VALUE, `${field}: ${showValue(value)} ${problem}`, {
    hint: HINT,
    data: { field, value: showValue(value) },
  });
}

function requireString(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string') throw unsafeValue(field, value, `is not ${what} (not a string)`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Python packages

// PEP 508 distribution names: letters, digits and . _ - inside, a letter or digit at each end.
const PACKAGE_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;
const MAX_NAME = 200;

/** A PEP 508 distribution name (case-insensitive). Returns the value unchanged. */
export function assertPackageName(value: unknown, field: string): string {
  const name = requireString(value, field, 'a valid package name');
  if (name.length > MAX_NAME || !PACKAGE_NAME.test(name)) throw unsafeValue(field, value, 'is not a valid package name (PEP 508)');
  return name;
}

export { normalizePackageName } from '../package-name.js';

// What a PEP 440 version may contain once written; the library also accepts surrounding
// whitespace, which must never reach a file.
const VERSION_CHARS = /^[A-Za-z0-9.+!_-]+$/;
const MAX_VERSION = 128;

/**
 * A valid PEP 440 version (epochs, pre/post/dev releases and local labels such as +cu121 or
 * +cpu included) made only of [A-Za-z0-9.+!_-]. Returns the value unchanged.
 */
export function assertVersion(value: unknown, field: string): string {
  const version = requireString(value, field, 'a valid PEP 440 version');
  if (version.length > MAX_VERSION || !VERSION_CHARS.test(version) || !isValidPep440(version)) {
    throw unsafeValue(field, value, 'is not a valid PEP 440 version');
  }
  return version;
}

// ---------------------------------------------------------------------------------------------
// Docker image references (the grammar of distribution/reference)

export interface ImageReference {
  /** Registry host (when given) and repository path: "localhost:5000/team/img", "python". */
  name: string;
  tag: string | null;
  /** "sha256:<64 hex>" */
  digest: string | null;
}

const MAX_IMAGE_REFERENCE = 255;
// distribution/reference's separator is [_.]|__|[-]*; "-+" accepts the same names (an empty
// separator only joins two alphanumeric runs) without the exponential backtracking of "[-]*".
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

/**
 * A Docker image reference: [registry-host[:port]/]path[:tag][@sha256:<64 hex>], path made of
 * lower-case components joined by "/", at most 255 characters, no whitespace. As in Docker, the
 * first component is a registry host only when it contains "." or ":" or is "localhost"; unlike
 * Docker, an upper-case first component is refused rather than taken for a host.
 */
export function assertImageReference(value: unknown, field: string): ImageReference {
  const ref = requireString(value, field, 'a valid image reference');
  const refuse = (why: string): UserInputError => unsafeValue(field, value, `is not a valid image reference: ${why}`);
  if (ref.length === 0) throw refuse('it is empty');
  if (ref.length > MAX_IMAGE_REFERENCE) throw refuse(`it is longer than ${MAX_IMAGE_REFERENCE} characters`);
  if (WHITESPACE_OR_CONTROL.test(ref)) throw refuse('it contains whitespace or control characters');

  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw refuse('the digest must be sha256: followed by 64 lower-case hex digits');
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw refuse('the tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}');
  }
  const components = rest.split('/');
  const first = components[0] ?? '';
  if (components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN.test(first)) throw refuse(`${showValue(first)} is not a valid registry host`);
    components.shift();
  }
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) {
      throw refuse(`the repository path component ${showValue(component)} must be lower-case letters and digits separated by ".", "_", "__" or "-"`);
    }
  }
  return { name: rest, tag, digest };
}

// ---------------------------------------------------------------------------------------------
// Dockerfile ENV and LABEL

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An environment variable name: [A-Za-z_][A-Za-z0-9_]*. Returns the value unchanged. */
export function assertEnvName(value: unknown, field: string): string {
  const name = requireString(value, field, 'a valid environment variable name');
  if (name.length > 256 || !ENV_NAME.test(name)) throw unsafeValue(field, value, 'is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)');
  return name;
}

// Every C0 control except tab, DEL, the C1 controls, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const REFUSED_IN_QUOTED = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Quoting rule for values written as ENV or LABEL values (`ENV KEY=<quoted>`):
 *
 * - The value is wrapped in double quotes. Inside double quotes Docker's word parser (buildkit's
 *   shell lexer, with the default escape character "\") treats exactly three characters
 *   specially, and each is escaped with a backslash: `\` -> `\\`, `"` -> `\"` and `$` -> `\$`
 *   (`$` starts variable substitution: `$X`, `${X}`, `${X:-...}`). Every other character,
 *   single quotes and backticks included, is read literally; Docker runs no shell here.
 * - A line break would end the instruction and start a new one, so LF, CR and every other control
 *   character (NUL, ESC, DEL, C1 controls) and U+2028/U+2029 are refused, not escaped: the
 *   Dockerfile format has no escape for them. A tab is kept, literally, inside the quotes: the
 *   parser keeps whitespace inside a quoted word.
 * - Since the result always ends with the closing quote, a line never ends with "\" (which would
 *   continue the instruction on the next line).
 * - This holds only while the Dockerfile keeps the default escape character: the renderer must
 *   not emit a `# escape=` parser directive.
 */
function dockerfileQuoted(value: unknown, field: string, what: string): string {
  const text = requireString(value, field, `a valid ${what} value`);
  if (REFUSED_IN_QUOTED.test(text)) {
    throw unsafeValue(field, value, `cannot be written as a Dockerfile ${what} value: it contains a line break or control character`);
  }
  return `"${text.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** The value quoted for `ENV NAME=<here>`: see the quoting rule above. */
export function dockerfileEnvValue(value: unknown, field: string): string {
  return dockerfileQuoted(value, field, 'ENV');
}

/**
 * A captured environment value that will be baked into an image: the grammar of its variable
 * (core/determinism.ts: numbers for counts and seeds, printable text for flag strings such as
 * XLA_FLAGS, a conservative set for the rest). It is then written quoted, as every ENV value is.
 */
export function assertDeterminismEnvValue(value: unknown, field: string, name = field.split('.').pop() ?? field): string {
  const text = requireString(value, field, 'an environment value');
  const problem = envValueProblem(name, text);
  if (problem !== null) throw unsafeValue(field, value, `is not an acceptable value for a numerics setting: ${problem}`);
  return text;
}

/** The value quoted for `LABEL key=<here>`: same rule as ENV (LABEL substitutes variables too). */
export function dockerfileLabelValue(value: unknown, field: string): string {
  return dockerfileQuoted(value, field, 'LABEL');
}

// PEP 440 version specifiers ("<1.0,>=0.23.0", "~=2.1"): the characters they use, and no others.
const SPECIFIER_CHARS = /^[A-Za-z0-9.,<>=!~*+ ]{0,200}$/;

/** A PEP 440 specifier set, possibly empty (any version). Returns it without spaces. */
export function assertVersionSpecifier(value: unknown, field: string): string {
  const text = requireString(value, field, 'a version specifier');
  if (!SPECIFIER_CHARS.test(text)) throw unsafeValue(field, value, 'is not a version specifier (PEP 440)');
  const compact = text.replace(/ /g, '');
  if (compact !== '' && !isValidSpecifier(compact)) throw unsafeValue(field, value, 'is not a version specifier (PEP 440)');
  return compact;
}

// ---------------------------------------------------------------------------------------------
// URLs

const MAX_URL = 2048;
// Whitespace, controls, quotes, backslash, backtick and "$" (pip expands ${VAR} in requirements
// files; a backslash at a line end continues it; whitespace would start an option or a marker).
// eslint-disable-next-line no-control-regex
const URL_FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f"'`\\$\u2028\u2029]/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export interface HttpUrlOptions {
  /** Allowed schemes without the colon; default ["https", "http"]. */
  schemes?: readonly string[];
}

/**
 * An absolute URL (WHATWG parse) whose scheme is one of `schemes`, with a host, no user name or
 * password, at most 2048 characters, and none of whitespace, control characters, quotes,
 * backslash, backtick or "$". Returns the normalized href.
 */
export function assertHttpUrl(value: unknown, field: string, options: HttpUrlOptions = {}): string {
  const schemes = (options.schemes ?? ['https', 'http']).map((s) => s.toLowerCase().replace(/:$/, ''));
  const raw = requireString(value, field, 'a valid URL');
  const refuse = (why: string): UserInputError => unsafeValue(field, value, `is not an acceptable URL: ${why}`);
  if (raw.length === 0) throw refuse('it is empty');
  if (raw.length > MAX_URL) throw refuse(`it is longer than ${MAX_URL} characters`);
  if (URL_FORBIDDEN.test(raw)) throw refuse('it contains whitespace, a control character, a quote, a backslash, a backtick or "$"');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('it does not parse as an absolute URL');
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) throw refuse(`the scheme must be ${schemes.join(' or ')}`);
  if (url.username !== '' || url.password !== '') throw refuse('it carries credentials');
  if (url.hostname === '') throw refuse('it has no host');
  const href = url.href;
  // Normalization percent-encodes and punycodes; check what will actually be written.
  if (href.length > MAX_URL || !PRINTABLE_ASCII.test(href) || URL_FORBIDDEN.test(href)) throw refuse('its normalized form is not plain ASCII');
  return href;
}

const VCS_SCHEMES: Readonly<Record<string, readonly string[]>> = {
  git: ['https', 'http', 'ssh', 'git'],
  hg: ['https', 'http', 'ssh'],
  svn: ['https', 'http', 'svn'],
  bzr: ['https', 'http', 'ssh'],
};
/** Version control systems pip can install from. */
export const VCS_KINDS: readonly string[] = Object.keys(VCS_SCHEMES);
// RFC 3986 unreserved characters, "%" escapes and the few delimiters a repository URL needs.
// No ";" (a requirement marker), "#" (a fragment pip reads options from), "?", "&" or quotes.
const VCS_URL_CHARS = /^[A-Za-z0-9._~%:/@+=,-]+$/;
const COMMIT_ID = /^[0-9a-f]{7,64}$/;
const SVN_REVISION = /^[1-9][0-9]{0,9}$/;
const SSH_USER = /^[A-Za-z0-9._-]+$/;

/** A commit id: 7 to 64 lower-case hex digits (a decimal revision number for svn). */
export function assertCommitId(value: unknown, field: string, vcs = 'git'): string {
  const commit = requireString(value, field, 'a commit id');
  if (!COMMIT_ID.test(commit) && !(vcs === 'svn' && SVN_REVISION.test(commit))) {
    throw unsafeValue(field, value, vcs === 'svn' ? 'is not a commit id or svn revision number' : 'is not a commit id (7 to 64 lower-case hex digits)');
  }
  return commit;
}

/**
 * A pip VCS requirement URL pinned to a commit: `<vcs>+<scheme>://<host>[:port]/<path>@<commit>`,
 * vcs one of git, hg, svn, bzr; scheme https, http, ssh (git and hg, bzr), git:// (git) or svn://
 * (svn); a login name only with ssh and never a password; only [A-Za-z0-9._~%:/@+=,-] (no
 * whitespace, ";", "#", "?", quotes or "$"); "@" only before the host and before the commit; the
 * commit 7 to 64 lower-case hex digits (a revision number for svn). Returns the value unchanged.
 */
export function assertVcsRequirementUrl(value: unknown, field: string): string {
  const raw = requireString(value, field, 'a valid VCS URL');
  const refuse = (why: string): UserInputError => unsafeValue(field, value, `is not an acceptable VCS URL: ${why}`);
  if (raw.length > MAX_URL) throw refuse(`it is longer than ${MAX_URL} characters`);
  if (!VCS_URL_CHARS.test(raw)) throw refuse('it contains characters outside [A-Za-z0-9._~%:/@+=,-]');
  const match = /^([a-z]+)\+([a-z]+):\/\/([^/]*)(\/.*)$/.exec(raw);
  if (!match) throw refuse('it must look like git+https://host/path@<commit>');
  const [, vcs = '', scheme = '', authority = '', pathAndRev = ''] = match;
  const schemes = VCS_SCHEMES[vcs];
  if (schemes === undefined) throw refuse(`the VCS must be one of ${VCS_KINDS.join(', ')}`);
  if (!schemes.includes(scheme)) throw refuse(`${vcs} installs must use ${schemes.map((s) => `${vcs}+${s}://`).join(', ')}`);

  const at = authority.lastIndexOf('@');
  const host = authority.slice(at + 1);
  if (at >= 0) {
    const user = authority.slice(0, at);
    if (scheme !== 'ssh') throw refuse('it carries credentials (only ssh:// URLs may name a login)');
    if (!SSH_USER.test(user)) throw refuse('the ssh login may not carry a password');
  }
  if (!DOMAIN.test(host)) throw refuse(`${showValue(host)} is not a valid host`);

  const revAt = pathAndRev.lastIndexOf('@');
  if (revAt < 0) throw refuse('it is not pinned to a commit (@<commit> missing)');
  const path = pathAndRev.slice(0, revAt);
  const rev = pathAndRev.slice(revAt + 1);
  if (path.length <= 1 || path.includes('@')) throw refuse('the repository path is empty or contains "@"');
  if (path.split('/').some((segment) => segment === '..')) throw refuse('the repository path contains ".."');
  if (!COMMIT_ID.test(rev) && !(vcs === 'svn' && SVN_REVISION.test(rev))) {
    throw refuse(`${showValue(rev)} is not a commit id (7 to 64 lower-case hex digits)`);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Paths and hashes

const RELATIVE_PATH_CHARS = /^[A-Za-z0-9._/-]+$/;
const MAX_PATH = 4096;

/**
 * A relative POSIX path for COPY or WORKDIR: only [A-Za-z0-9._/-], not absolute, no ".." segment,
 * and not starting with "-" (COPY would read it as a flag). Returns the value unchanged.
 */
export function assertRelativePosixPath(value: unknown, field: string): string {
  const path = requireString(value, field, 'a relative path');
  const refuse = (why: string): UserInputError => unsafeValue(field, value, `is not an acceptable relative path: ${why}`);
  if (path.length === 0) throw refuse('it is empty');
  if (path.length > MAX_PATH) throw refuse(`it is longer than ${MAX_PATH} characters`);
  if (!RELATIVE_PATH_CHARS.test(path)) throw refuse('it may contain only letters, digits, ".", "_", "-" and "/"');
  if (path.startsWith('/')) throw refuse('it is absolute');
  if (path.startsWith('-')) throw refuse('it starts with "-"');
  if (path.split('/').includes('..')) throw refuse('it contains a ".." segment');
  return path;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A sha256 digest: exactly 64 lower-case hex digits. Returns the value unchanged. */
export function assertSha256(value: unknown, field: string): string {
  const digest = requireString(value, field, 'a sha256 digest');
  if (!SHA256.test(digest)) throw unsafeValue(field, value, 'is not a sha256 digest (64 lower-case hex digits)');
  return digest;
}

const SNAPSHOT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A snapshot id as it may appear in a comment or label: [A-Za-z0-9._-], at most 128 characters. */
export function assertSnapshotId(value: unknown, field = 'id'): string {
  const id = requireString(value, field, 'a snapshot id');
  if (!SNAPSHOT_ID.test(id)) throw unsafeValue(field, value, 'is not a valid snapshot id');
  return id;
}
