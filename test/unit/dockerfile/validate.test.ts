import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  assertCommitId,
  assertEnvName,
  assertHttpUrl,
  assertImageReference,
  assertPackageName,
  assertRelativePosixPath,
  assertSha256,
  assertSnapshotId,
  assertVcsRequirementUrl,
  assertVersion,
  dockerfileEnvValue,
  dockerfileLabelValue,
  normalizePackageName,
  showValue,
} from '../../../src/core/dockerfile/validate.js';
import { UserInputError } from '../../../src/errors.js';

const malicious = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/malicious');
const HEX64 = '0123456789abcdef'.repeat(4);

/** The UNSAFE_SNAPSHOT_VALUE error `fn` throws; fails when it returns. */
function refused(fn: () => unknown): UserInputError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    const e = error as UserInputError;
    expect(e.code).toBe('UNSAFE_SNAPSHOT_VALUE');
    expect(e.exitCode).toBe(3);
    expect(e.hint).toBe('The snapshot file has been edited or is corrupt; recapture it.');
    // One line, whatever the value held.
    expect(e.message).not.toMatch(/[\n\r]/);
    return e;
  }
  throw new Error(`accepted: ${JSON.stringify(result)}`);
}

describe('error messages', () => {
  it('name the field path and the JSON-quoted value', () => {
    const e = refused(() => assertVersion('1.0\nRUN curl x | sh', 'packages[3].version'));
    expect(e.message).toBe('packages[3].version: "1.0\\nRUN curl x | sh" is not a valid PEP 440 version');
    expect(e.data).toEqual({ field: 'packages[3].version', value: '"1.0\\nRUN curl x | sh"' });
  });

  it('cut long values to about 80 characters', () => {
    const e = refused(() => assertPackageName(`evil;${'x'.repeat(500)}`, 'packages[0].name'));
    const shown = e.message.slice('packages[0].name: '.length, e.message.indexOf(' is not'));
    expect(shown.length).toBeLessThanOrEqual(80);
    expect(shown.endsWith('…')).toBe(true);
  });

  it('escape terminal controls JSON leaves raw, and show non-strings', () => {
    expect(showValue('a\u009b31mb\u2028')).toBe('"a\\u009b31mb\\u2028"');
    expect(showValue('\u001b[31m')).toBe('"\\u001b[31m"');
    expect(showValue(42)).toBe('42');
    expect(showValue(undefined)).toBe('undefined');
    expect(refused(() => assertPackageName(null, 'packages[0].name')).message).toBe('packages[0].name: null is not a valid package name (not a string)');
  });
});

describe('assertPackageName', () => {
  it.each(['numpy', 'zope.interface', 'backports.zoneinfo', 'tf-nightly', 'nvidia-cudnn-cu12', 'typing_extensions', 'Pillow', 'A', 'x1'])('accepts %j', (name) => {
    expect(assertPackageName(name, 'packages[0].name')).toBe(name);
  });

  it.each(['numpy; rm -rf /', 'numpy ', ' numpy', 'numpy\nRUN x', '-numpy', 'numpy.', '_x', '', 'numpy==1.0', 'numpy[extra]', 'numpy @ https://x', 'a/b', 'a$b', 'x'.repeat(201)])(
    'refuses %j',
    (name) => {
      expect(refused(() => assertPackageName(name, 'packages[2].name')).message).toMatch(/^packages\[2\]\.name: /);
    },
  );

  it('normalizes like PEP 503', () => {
    expect(normalizePackageName('Zope.Interface')).toBe('zope-interface');
    expect(normalizePackageName('typing__extensions')).toBe('typing-extensions');
    expect(normalizePackageName('a-_.b')).toBe('a-b');
  });
});

describe('assertVersion', () => {
  it.each(['2.4.6', '2.4.0+cu121', '2.13.0+cpu', '2.22.0.dev20261101', '1!2.0.0.post1', '2.16.0rc0', '1.0-1', '0.1.0+g1234abc.d20250601', '8.9.4.25'])('accepts %j', (version) => {
    expect(assertVersion(version, 'packages[0].version')).toBe(version);
  });

  it.each(['1.0\nRUN curl x | sh', '1.0 ', ' 1.0', '1.0;rm -rf /', '1.0$(x)', '1.0.*', '==1.0', 'latest', '', '1.0\r', '1.0\\', '1.0"', `1.${'0'.repeat(200)}`])('refuses %j', (version) => {
    expect(refused(() => assertVersion(version, 'packages[1].version')).message).toContain('packages[1].version: ');
  });

  it('refuses a non-string', () => {
    refused(() => assertVersion(1.5, 'packages[0].version'));
  });
});

describe('assertImageReference', () => {
  it.each([
    ['python:3.11.7-slim-bookworm', { name: 'python', tag: '3.11.7-slim-bookworm', digest: null }],
    ['nvidia/cuda:12.5.1-cudnn-runtime-ubuntu22.04', { name: 'nvidia/cuda', tag: '12.5.1-cudnn-runtime-ubuntu22.04', digest: null }],
    [`localhost:5000/team/img:tag@sha256:${HEX64}`, { name: 'localhost:5000/team/img', tag: 'tag', digest: `sha256:${HEX64}` }],
    ['tensorflow/tensorflow:2.4.0-gpu', { name: 'tensorflow/tensorflow', tag: '2.4.0-gpu', digest: null }],
    ['python', { name: 'python', tag: null, digest: null }],
    [`python@sha256:${HEX64}`, { name: 'python', tag: null, digest: `sha256:${HEX64}` }],
    ['ghcr.io/org/my_image__x.y-z:v1_2', { name: 'ghcr.io/org/my_image__x.y-z', tag: 'v1_2', digest: null }],
    ['nvcr.io/nvidia/pytorch:24.05-py3', { name: 'nvcr.io/nvidia/pytorch', tag: '24.05-py3', digest: null }],
    ['Registry.Example.com:443/a---b/c', { name: 'Registry.Example.com:443/a---b/c', tag: null, digest: null }],
    ['[::1]:5000/img:1', { name: '[::1]:5000/img', tag: '1', digest: null }],
  ])('accepts %j', (ref, parsed) => {
    expect(assertImageReference(ref, '--base-image')).toEqual(parsed);
  });

  const crafted = readFileSync(resolve(malicious, 'base-image-refs.txt'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('reads the crafted references from the fixture file', () => {
    expect(crafted.length).toBeGreaterThanOrEqual(20);
    expect(crafted).toContain('python:3.11 RUN curl x | sh');
  });

  it.each(crafted.map((ref) => [ref]))('refuses the crafted %j', (ref) => {
    expect(refused(() => assertImageReference(ref, '--base-image')).message).toMatch(/^--base-image: ".*" is not a valid image reference: /);
  });

  it.each(['python:3.11\nRUN x', 'python:3.11\r\nRUN x', 'python:3.11\u0000', `a/${'b'.repeat(254)}`, '', `python:${'t'.repeat(129)}`])('refuses %j', (ref) => {
    refused(() => assertImageReference(ref, '--base-image'));
  });

  it('refuses an upper-case repository instead of taking it for a registry host', () => {
    expect(refused(() => assertImageReference('Nvidia/cuda:12.5.1', '--base-image')).message).toContain('"Nvidia"');
  });

  it('answers a long crafted reference without regex backtracking blow-up', () => {
    // Catastrophic backtracking on 250 characters would take longer than the universe's age; a
    // linear check takes microseconds. 10 s separates the two on any machine, however loaded.
    const started = Date.now();
    refused(() => assertImageReference(`${'a'.repeat(250)}!`, '--base-image'));
    refused(() => assertImageReference(`${'a-'.repeat(120)}!x`, '--base-image'));
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('assertEnvName', () => {
  it.each(['PYTHONHASHSEED', 'CUDA_VISIBLE_DEVICES', '_x', 'tf_gpu_1'])('accepts %j', (name) => {
    expect(assertEnvName(name, 'determinism.env')).toBe(name);
  });

  it.each(['1X', 'A-B', 'A=1', 'A B', 'A\nRUN x', '', '$A', 'A.B'])('refuses %j', (name) => {
    refused(() => assertEnvName(name, 'determinism.env'));
  });
});

describe('dockerfileEnvValue / dockerfileLabelValue', () => {
  it('escapes $ so Docker does not substitute it', () => {
    expect(dockerfileEnvValue('$(curl evil)', 'determinism.env.PYTHONHASHSEED')).toBe('"\\$(curl evil)"');
    expect(dockerfileEnvValue('${HOME:-x}', 'determinism.env.X')).toBe('"\\${HOME:-x}"');
  });

  it('escapes backslash and double quote, and keeps everything else literal', () => {
    expect(dockerfileEnvValue('a"b', 'f')).toBe('"a\\"b"');
    expect(dockerfileEnvValue('C:\\path\\', 'f')).toBe('"C:\\\\path\\\\"');
    expect(dockerfileEnvValue("it's `x` & y | z; #w", 'f')).toBe('"it\'s `x` & y | z; #w"');
    expect(dockerfileEnvValue('', 'f')).toBe('""');
    expect(dockerfileEnvValue('a\tb', 'f')).toBe('"a\tb"');
    expect(dockerfileEnvValue('0', 'f')).toBe('"0"');
  });

  it('never ends a line with a backslash', () => {
    for (const value of ['\\', 'x\\', '\\\\', '"\\']) expect(dockerfileEnvValue(value, 'f').endsWith('"')).toBe(true);
    expect(dockerfileEnvValue('\\', 'f')).toBe('"\\\\"');
  });

  it.each(['0\nRUN curl x | sh', 'a\rb', 'a\u0000b', 'a\u001b[31m', 'a\u0085b', 'a\u2028b', 'a\u007f'])('refuses %j', (value) => {
    const e = refused(() => dockerfileEnvValue(value, 'determinism.env.PYTHONHASHSEED'));
    expect(e.message).toMatch(/^determinism\.env\.PYTHONHASHSEED: ".*" cannot be written as a Dockerfile ENV value/);
  });

  it('quotes LABEL values the same way', () => {
    expect(dockerfileLabelValue('snap "$id" \\', 'label')).toBe('"snap \\"\\$id\\" \\\\"');
    expect(refused(() => dockerfileLabelValue('x\ny', 'labels.source')).message).toContain('LABEL');
  });

  it('refuses non-strings', () => {
    refused(() => dockerfileEnvValue(1, 'f'));
    refused(() => dockerfileLabelValue({}, 'f'));
  });
});

describe('assertHttpUrl', () => {
  it.each([
    ['https://download.pytorch.org/whl/cu121', 'https://download.pytorch.org/whl/cu121'],
    ['http://mirror.local:8080/simple/', 'http://mirror.local:8080/simple/'],
    ['HTTPS://Example.COM/a/../b', 'https://example.com/b'],
    ['https://example.com/pkg-1.0.tar.gz#sha256=abc', 'https://example.com/pkg-1.0.tar.gz#sha256=abc'],
  ])('accepts %j', (url, href) => {
    expect(assertHttpUrl(url, 'extraIndexUrls[0]')).toBe(href);
  });

  it.each([
    'https://x.com/a b',
    'https://user:pw@x.com/',
    'https://token@x.com/',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'ftp://x.com/',
    'https://x.com/\n--index-url https://evil',
    'https://x.com/${TOKEN}',
    'https://x.com/$(curl x)',
    'https://x.com/a"b',
    "https://x.com/a'b",
    'https://x.com/a\\b',
    'https://x.com/`x`',
    ' https://x.com/',
    'https://x.com/\t',
    '/relative/path',
    'https://',
    '',
    `https://x.com/${'a'.repeat(2048)}`,
  ])('refuses %j', (url) => {
    expect(refused(() => assertHttpUrl(url, 'packages[4].source.url')).message).toMatch(/^packages\[4\]\.source\.url: /);
  });

  it('takes the allowed schemes as an option', () => {
    expect(assertHttpUrl('https://x.com/', 'f', { schemes: ['https'] })).toBe('https://x.com/');
    refused(() => assertHttpUrl('http://x.com/', 'f', { schemes: ['https'] }));
  });

  it('returns the ASCII form of an international host and path', () => {
    expect(assertHttpUrl('https://bücher.example/ä', 'f')).toBe('https://xn--bcher-kva.example/%C3%A4');
  });
});

describe('assertVcsRequirementUrl / assertCommitId', () => {
  it.each([
    `git+https://github.com/org/mylib@${HEX64.slice(0, 40)}`,
    'git+https://github.com/org/mylib.git@0123abc',
    `git+ssh://git@github.com/org/mylib.git@${HEX64.slice(0, 40)}`,
    `git+http://gitea.local:3000/org/repo@${HEX64}`,
    `git+git://example.com/repo@${HEX64.slice(0, 40)}`,
    `hg+https://hg.example.com/repo@${HEX64.slice(0, 40)}`,
    'svn+https://svn.example.com/repo/trunk@1234',
  ])('accepts %j', (url) => {
    expect(assertVcsRequirementUrl(url, 'packages[2].source.url')).toBe(url);
  });

  it.each([
    'git+https://h/r@main; rm -rf /',
    'git+https://h/r@main',
    'git+https://h/r',
    'git+https://h/r@0123ABC',
    'git+https://h/r@0123ab',
    'git+https://user:pw@h/r@0123abc',
    'git+https://token@h/r@0123abc',
    'git+ssh://git:pw@h/r@0123abc',
    'git+file:///srv/repo@0123abc',
    'cvs+https://h/r@0123abc',
    'https://h/r@0123abc',
    'git+https://h/a@b/r@0123abc',
    'git+https://h/../r@0123abc',
    'git+https://h/r@0123abc#egg=evil',
    'git+https://h/r?x=1@0123abc',
    'git+https://h/r@0123abc\n--index-url https://evil',
    'git+https://h/$(x)@0123abc',
    'git+https://-h/r@0123abc',
    'git+https:///r@0123abc',
    'svn+https://h/r@0',
  ])('refuses %j', (url) => {
    expect(refused(() => assertVcsRequirementUrl(url, 'packages[2].source.url')).message).toMatch(/^packages\[2\]\.source\.url: /);
  });

  it('checks commit ids alone', () => {
    expect(assertCommitId('0123abc', 'c')).toBe('0123abc');
    expect(assertCommitId('1234', 'c', 'svn')).toBe('1234');
    for (const bad of ['main', '0123ab', 'main; rm -rf /', '1234', 'G123456', HEX64 + '0']) refused(() => assertCommitId(bad, 'packages[2].source.commit_id'));
  });
});

describe('assertRelativePosixPath', () => {
  it.each(['.', 'src', 'src/app/main.py', 'data/train-v1_2.csv', './a', 'a/./b', '.hidden/..x'])('accepts %j', (path) => {
    expect(assertRelativePosixPath(path, 'code.path')).toBe(path);
  });

  it.each(['../x', '/abs', 'a/../../b', '..', 'a/..', '', 'a b', 'a\nRUN x', 'a;b', 'a$b', 'a*', '--chown=root', '-x', 'a\\b', '~/x'])('refuses %j', (path) => {
    expect(refused(() => assertRelativePosixPath(path, 'data[0].path')).message).toMatch(/^data\[0\]\.path: /);
  });
});

describe('assertSha256 / assertSnapshotId', () => {
  it('accepts 64 lower-case hex digits only', () => {
    expect(assertSha256(HEX64, 'f')).toBe(HEX64);
    for (const bad of [HEX64.toUpperCase(), HEX64.slice(1), `${HEX64}0`, `sha256:${HEX64}`, `${HEX64}\n`, '']) refused(() => assertSha256(bad, 'data[0].digest'));
  });

  it('accepts captured ids and refuses ids that would leave a comment line', () => {
    expect(assertSnapshotId('3f2b8c1e-7d4a-4e9b-8c2f-1a6d5e0b9c47')).toBe('3f2b8c1e-7d4a-4e9b-8c2f-1a6d5e0b9c47');
    expect(refused(() => assertSnapshotId('x\n--index-url https://evil')).message).toMatch(/^id: /);
  });
});
