import { describe, expect, it } from '@jest/globals';
import { parseOsRelease, parseOsReleaseFields, unquoteShellValue } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseOsRelease', () => {
  it('reads Debian 12 (this machine)', () => {
    expect(parseOsRelease(fixture('os-release/debian12.txt'))).toEqual({
      id: 'debian',
      version_id: '12',
      pretty_name: 'Debian GNU/Linux 12 (bookworm)',
      codename: 'bookworm',
    });
  });

  it('reads Ubuntu 22.04, also with CRLF', () => {
    const want = { id: 'ubuntu', version_id: '22.04', pretty_name: 'Ubuntu 22.04.4 LTS', codename: 'jammy' };
    expect(parseOsRelease(fixture('os-release/ubuntu2204.txt'))).toEqual(want);
    expect(parseOsRelease(crlf(fixture('os-release/ubuntu2204.txt')))).toEqual(want);
  });

  it('falls back to UBUNTU_CODENAME, and leaves missing keys null', () => {
    expect(parseOsRelease('ID=ubuntu\nUBUNTU_CODENAME=focal\n')).toEqual({ id: 'ubuntu', version_id: null, pretty_name: null, codename: 'focal' });
    expect(parseOsRelease('ID=alpine\nVERSION_CODENAME=\nUBUNTU_CODENAME=\n').codename).toBeNull();
  });

  it('handles single quotes, escapes, comments and whitespace', () => {
    const text = [
      '# a comment',
      "  ID='rhel'",
      'VERSION_ID="9.4"   ',
      'PRETTY_NAME="Red Hat \\"Enterprise\\" Linux \\$9 \\\\ x"',
      'VERSION_CODENAME=Plow\\ Blue # trailing comment',
      'not a valid line',
      '=nokey',
    ].join('\n');
    expect(parseOsRelease(text)).toEqual({
      id: 'rhel',
      version_id: '9.4',
      pretty_name: 'Red Hat "Enterprise" Linux $9 \\ x',
      codename: 'Plow Blue',
    });
  });

  it('returns all nulls for empty and garbage input', () => {
    const none = { id: null, version_id: null, pretty_name: null, codename: null };
    expect(parseOsRelease('')).toEqual(none);
    expect(parseOsRelease('\u0000\u0001garbage\n===\n')).toEqual(none);
    expect(parseOsRelease('ID="unterminated\n')).toEqual(none);
  });
});

describe('parseOsReleaseFields / unquoteShellValue', () => {
  it('keeps every key of the real file', () => {
    const fields = parseOsReleaseFields(fixture('os-release/debian12.txt'));
    expect(fields['NAME']).toBe('Debian GNU/Linux');
    expect(fields['HOME_URL']).toBe('https://www.debian.org/');
    expect(Object.keys(fields)).toHaveLength(9);
  });

  it('unquotes shell values', () => {
    expect(unquoteShellValue(`"a"'b'c`)).toBe('abc');
    expect(unquoteShellValue(`'no \\escape'`)).toBe('no \\escape');
    expect(unquoteShellValue(`"keep \\n"`)).toBe('keep \\n');
    expect(unquoteShellValue(`'open`)).toBeNull();
  });
});
