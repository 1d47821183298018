// Python versions follow PEP 440, not semver ("2.13.0+cpu", "2.16.0rc0", "1!2.0"): compare them
// with a maintained PEP 440 implementation instead of splitting on dots.
import pep440 from '@renovatebot/pep440';

/** Orders two PEP 440 versions; versions that do not parse sort before those that do. */
export function compareVersions(a: string, b: string): number {
  const aValid = pep440.valid(a) !== null;
  const bValid = pep440.valid(b) !== null;
  if (aValid && bValid) return pep440.compare(a, b);
  if (aValid !== bValid) return aValid ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isValidPep440(version: string): boolean {
  return pep440.valid(version) !== null;
}

/** "3.11.7" -> "3.11"; null when the version has no minor part. */
export function majorMinor(version: string): string | null {
  const parsed = pep440.parse(version);
  if (!parsed || parsed.release.length < 2) return null;
  return `${parsed.release[0]}.${parsed.release[1]}`;
}

/** A PEP 440 specifier set such as "<1.0,>=0.23.0". */
export function isValidSpecifier(specifier: string): boolean {
  return pep440.validRange(specifier);
}

/**
 * Whether the version satisfies the specifier set; false when either does not parse. With
 * `prereleases`, a pre- or dev release is judged by its place in PEP 440 order (2.19.0.dev1 is
 * >=2.8, 2.9.0rc0 is not >=2.9) instead of being excluded.
 */
export function satisfiesSpecifier(version: string, specifier: string, options: { prereleases?: boolean } = {}): boolean {
  try {
    return pep440.satisfies(version, specifier, { prereleases: options.prereleases ?? false });
  } catch {
    return false;
  }
}
