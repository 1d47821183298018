// /etc/os-release (or /usr/lib/os-release): shell-style KEY=VALUE assignments.

import type { SystemInfo } from '../model.js';
import { splitLines } from './text.js';

export type OsReleaseInfo = SystemInfo['os'];

/**
 * Unquotes one shell-style value: "double quotes" (backslash escapes $ ` " \ and newline),
 * 'single quotes' (literal), and bare words (backslash escapes anything); segments may be
 * concatenated. Returns null when a quote is left open.
 */
export function unquoteShellValue(value: string): string | null {
  let out = '';
  let i = 0;
  const s = value.trim();
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return null;
      out += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        const d = s[i];
        if (d === undefined) return null;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && /[$`"\\\n]/.test(s[i + 1] as string)) {
          out += s[i + 1];
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
    } else if (c === '\\') {
      out += s[i + 1] ?? '';
      i += 2;
    } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1] as string))) {
      break; // a trailing comment
    } else {
      out += c;
      i++;
    }
  }
  return out.trimEnd();
}

/** Every KEY=VALUE pair, unquoted; comments, blank and malformed lines skipped. */
export function parseOsReleaseFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of splitLines(text)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const value = unquoteShellValue(m[2] as string);
    if (value !== null) fields[m[1] as string] = value;
  }
  return fields;
}

export function parseOsRelease(text: string): OsReleaseInfo {
  const f = parseOsReleaseFields(text);
  const pick = (...keys: string[]): string | null => {
    for (const key of keys) {
      const v = f[key];
      if (v !== undefined && v !== '') return v;
    }
    return null;
  };
  return {
    id: pick('ID'),
    version_id: pick('VERSION_ID'),
    pretty_name: pick('PRETTY_NAME'),
    codename: pick('VERSION_CODENAME', 'UBUNTU_CODENAME'),
  };
}
