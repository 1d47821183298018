// The process choke point against real programs: timeouts end whole process groups, and a
// failing program's output is made safe to record.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, runShellCommand } from '../../src/adapters/process.js';
import { processEnds, processGone } from '../helpers/processes.js';

describe('DEBUG=snapshot*', () => {
  it('prints one line per program started, and nothing without it', async () => {
    const script = `import(${JSON.stringify(join(process.cwd(), 'dist', 'adapters', 'process.js'))}).then((m) => m.runProcess('true', ['--flag'], { cwd: '/' }))`;
    const on = await runProcess(process.execPath, ['-e', script], { env: { ...process.env, DEBUG: 'snapshot*' } });
    expect(on.stderr).toBe('snapshot:spawn ["true","--flag"] in /\n');
    const off = await runProcess(process.execPath, ['-e', script], { env: { ...process.env, DEBUG: 'other' } });
    expect(off.stderr).toBe('');
  });
});

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
    // Bounds far above what these take: they must finish on their own, not be killed.
    expect((await runProcess('no-such-program-here', [], { timeoutMs: 60_000 })).outcome).toBe('absent');
    const r = await runProcess('sh', ['-c', 'printf "\\001\\033[2Jbinary\\377"; exit 3'], { timeoutMs: 60_000 });
    expect(r.outcome).toBe('failed');
    expect(r.exitCode).toBe(3);
    expect(r.reason).toMatch(/^sh exited with code 3: /);
    expect([...(r.reason ?? "")].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  });

  it('stops a program and the children it started when the signal aborts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshot-process-'));
    try {
      const pidFile = join(dir, 'child.pid');
      const controller = new AbortController();
      const running = runProcess('sh', ['-c', `sleep 600 & echo $! > ${pidFile}; wait`], { signal: controller.signal });
      // Abort once the grandchild exists (polled without a deadline: the test's timeout bounds it).
      while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((resolve) => setTimeout(resolve, 20));
      const grandchild = Number(readFileSync(pidFile, 'utf8'));
      controller.abort();
      const r = await running;
      expect(r.outcome).toBe('aborted');
      expect(r.reason).toBe('sh was stopped (interrupted)');
      // The grandchild got the signal too: it ends long before its 600 s (the test times out at 60 s otherwise).
      await processEnds(grandchild);
      expect(processGone(grandchild)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('does not start a program whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await runProcess('sh', ['-c', 'sleep 30'], { signal: controller.signal });
    expect(r.outcome).toBe('aborted');
  });
});

describe('runShellCommand', () => {
  const quiet = { onStdout: () => undefined, onStderr: () => undefined };

  it('stops the whole group after timeoutMs, ignoring SIGTERM or not, and says it timed out', async () => {
    const r = await runShellCommand('trap "" TERM; sleep 30 & sleep 30', { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ...quiet, timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode === null || r.signal !== null).toBe(true);
    expect(r.durationMs).toBeLessThan(20_000);
  });

  it('without a timeout a finished command is not timed out', async () => {
    const r = await runShellCommand('exit 3', { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ...quiet });
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, failedToStart: null });
  });
});
