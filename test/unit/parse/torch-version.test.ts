import { describe, expect, it } from '@jest/globals';
import { parseTorchVersionFile } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseTorchVersionFile', () => {
  it('reads the torch 2.14.1+cu130 wheel in this machine’s package index', () => {
    const want = { version: '2.14.1+cu130', cuda: '13.0', git_version: '5c4886908584029761b579af026dcfb627c84070', debug: false, hip: null };
    expect(parseTorchVersionFile(fixture('torch-version/2.14.1-cu130.py'))).toEqual(want);
    expect(parseTorchVersionFile(crlf(fixture('torch-version/2.14.1-cu130.py')))).toEqual(want);
  });

  it('reads the annotated form (2.4.0+cu121)', () => {
    expect(parseTorchVersionFile(fixture('torch-version/2.4.0-cu121.py'))).toEqual({
      version: '2.4.0+cu121',
      cuda: '12.1',
      git_version: 'e4ee3be4063b7c430974252fdf7db42273388d86',
      debug: false,
      hip: null,
    });
  });

  it('reads a CPU build (cuda None)', () => {
    expect(parseTorchVersionFile(fixture('torch-version/2.13.0-cpu.py'))).toMatchObject({ version: '2.13.0+cpu', cuda: null, hip: null, debug: false });
  });

  it('reads the older un-annotated form', () => {
    expect(parseTorchVersionFile(fixture('torch-version/1.5.0-cu102-legacy.py'))).toEqual({
      version: '1.5.0',
      cuda: '10.2',
      git_version: '3c31d73c875d9a4a6ea8a843b9a0d1b19fbe36f3',
      debug: false,
      hip: null,
    });
  });

  it('reads ROCm builds and odd spacing', () => {
    const src = "__version__='2.3.0+rocm6.0'\ndebug   =   True\ncuda : Optional[str]=None\nhip: Optional[str] = \"6.0.32830-d62f6a171\"\n";
    expect(parseTorchVersionFile(src)).toEqual({ version: '2.3.0+rocm6.0', cuda: null, git_version: null, debug: true, hip: '6.0.32830-d62f6a171' });
  });

  it('returns null without a __version__ string', () => {
    expect(parseTorchVersionFile('')).toBeNull();
    expect(parseTorchVersionFile('garbage ((( \u0000')).toBeNull();
    expect(parseTorchVersionFile("cuda = '12.1'\n")).toBeNull();
    expect(parseTorchVersionFile('__version__ = compute()\n')).toBeNull();
  });
});
