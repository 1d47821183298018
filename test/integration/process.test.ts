// The process choke point against real programs: timeouts end whole process groups, and a
// failing program's output is made safe to record.
import { describe, expect, it } from '@jest/globals';
import { runProcess } from '../../src/adapters/process.js';

describe('runProcess', () => {
  it('ends a timed-out program together with the children that hold its output open', async () => {
    const r = await runProcess('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 500 });
    expect(r.outcome).toBe('timeout');
    expect(r.reason).toBe('sh did not finish within 500 ms and was killed');
    // Well under the 30 s the children would have run: the group was killed, not waited for.
    expect(r.durationMs).toBeLessThan(10_000);
  });

  it('kills a program that ignores SIGTERM', async () => {
    const r = await runProcess('sh', ['-c', 'trap "" TERM; sleep 30'], { timeoutMs: 300 });
    expect(r.outcome).toBe('timeout');
    expect(r.durationMs).toBeLessThan(10_000);
  });

  it('tells a missing program from a failing one, and keeps binary output out of the reason', async () => {
    expect((await runProcess('no-such-program-here', [], { timeoutMs: 1000 })).outcome).toBe('absent');
    const r = await runProcess('sh', ['-c', 'printf "\\001\\033[2Jbinary\\377"; exit 3'], { timeoutMs: 1000 });
    expect(r.outcome).toBe('failed');
    expect(r.exitCode).toBe(3);
    expect(r.reason).toMatch(/^sh exited with code 3: /);
    expect([...(r.reason ?? "")].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  });
});
