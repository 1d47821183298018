// The classic builder's JSON event stream, fed by hand: steps, output, the image id, and the
// first error failing the build at once (the stream is left open, as an engine still building
// would leave it, so only the error event can end the wait).
import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { BuildEvent } from '../../src/core/container-engine.js';
import { followBuild } from '../../src/adapters/docker.js';
import { ExternalError, InterruptedError } from '../../src/errors.js';

const line = (event: object) => `${JSON.stringify(event)}\r\n`;

function follow(signal?: AbortSignal) {
  const stream = new PassThrough();
  const events: BuildEvent[] = [];
  const controller = new AbortController();
  const result = followBuild(stream, (event) => events.push(event), controller, signal, () => null);
  return { stream, events, controller, result };
}

describe('followBuild', () => {
  it('turns stream lines into steps and output, and takes the id from aux', async () => {
    const { stream, events, result } = follow();
    stream.write(line({ stream: 'Step 1/2 : FROM base\n' }));
    // A line split across two events, and two lines in one.
    stream.write(line({ stream: ' ---> 988f32e64d3f\nStep 2/2 : RUN echo hi\n ---> Running in ab' }));
    stream.write(line({ stream: 'c123\nhi\n' }));
    // The classic builder colours a step's stderr.
    stream.write(line({ stream: '\u001b[91mwarning: on stderr\n\u001b[0m' }));
    stream.write(line({ aux: { ID: 'sha256:' + 'a'.repeat(64) } }));
    stream.end(line({ stream: 'Successfully built aaaaaaaaaaaa\n' }));
    await expect(result).resolves.toBe('sha256:' + 'a'.repeat(64));
    expect(events).toEqual([
      { kind: 'step', text: 'Step 1/2 : FROM base' },
      { kind: 'output', text: ' ---> 988f32e64d3f' },
      { kind: 'step', text: 'Step 2/2 : RUN echo hi' },
      { kind: 'output', text: ' ---> Running in abc123' },
      { kind: 'output', text: 'hi' },
      { kind: 'output', text: 'warning: on stderr' },
      { kind: 'output', text: 'Successfully built aaaaaaaaaaaa' },
    ]);
  });

  it('falls back to "Successfully built" without aux', async () => {
    const { stream, result } = follow();
    stream.end(line({ stream: 'Successfully built 0123456789ab\n' }));
    await expect(result).resolves.toBe('0123456789ab');
  });

  it('fails at the first error event, naming the step, with the output tail, while the stream is still open', async () => {
    const { stream, events, controller, result } = follow();
    stream.write(line({ stream: 'Step 1/3 : FROM base\n' }));
    stream.write(line({ stream: 'Step 2/3 : RUN make\n' }));
    for (let i = 1; i <= 30; i++) stream.write(line({ stream: `line ${i}\n` }));
    stream.write(line({ stream: 'partial without newline' }));
    stream.write(line({ errorDetail: { code: 2, message: "The command '/bin/sh -c make' returned a non-zero code: 2" }, error: "The command '/bin/sh -c make' returned a non-zero code: 2" }));
    const error = (await result.catch((e: unknown) => e)) as ExternalError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toBe("the image build failed at step 2/3 (RUN make): The command '/bin/sh -c make' returned a non-zero code: 2");
    const data = error.data as { step: string; logTail: string[] };
    expect(data.step).toBe('Step 2/3 : RUN make');
    expect(data.logTail).toHaveLength(20);
    expect(data.logTail.at(-1)).toBe('partial without newline');
    expect(data.logTail[0]).toBe('line 12');
    expect(events.at(-1)).toEqual({ kind: 'error', text: "The command '/bin/sh -c make' returned a non-zero code: 2" });
    // The request is aborted and the stream destroyed: the engine stops, nothing more is read.
    expect(controller.signal.aborted).toBe(true);
    expect(stream.destroyed).toBe(true);
  });

  it('fails before the first step when the engine refuses the Dockerfile', async () => {
    const { stream, result } = follow();
    stream.write(line({ error: 'dockerfile parse error line 2: unknown instruction: RUNN' }));
    await expect(result).rejects.toThrow('the image build failed before its first step: dockerfile parse error line 2: unknown instruction: RUNN');
  });

  it('fails when the stream ends without an image id', async () => {
    const { stream, result } = follow();
    stream.end(line({ stream: 'Step 1/1 : FROM base\n' }));
    await expect(result).rejects.toMatchObject({ code: 'BUILD_FAILED', message: expect.stringContaining('without naming an image') });
  });

  it('stops when the signal aborts, as Ctrl-C', async () => {
    const abort = new AbortController();
    const { stream, controller, result } = follow(abort.signal);
    stream.write(line({ stream: 'Step 1/2 : RUN sleep 600\n' }));
    abort.abort('SIGTERM');
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).message).toContain('SIGTERM');
    expect(controller.signal.aborted).toBe(true);
  });

  it('passes on non-JSON lines and pull progress as output', async () => {
    const { stream, events, result } = follow();
    stream.write('not json\n');
    stream.write(line({ status: 'Downloading', progress: '[==>   ] 1MB/3MB', id: 'abc' }));
    stream.end(line({ aux: { ID: 'sha256:' + 'b'.repeat(64) } }));
    await result;
    expect(events).toEqual([
      { kind: 'output', text: 'not json' },
      { kind: 'output', text: 'Downloading [==>   ] 1MB/3MB' },
    ]);
  });
});
