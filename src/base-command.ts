// Every command's frame: --json on all of them, one success/error envelope, errors turned into a
// message, a hint and a documented exit code (a stack only with DEBUG=snapshot*).
import { Command, Errors, type Interfaces } from '@oclif/core';
import { InternalError, SnapshotError } from './errors.js';
import { interruptible, type Interruptible } from './adapters/signals.js';
import { printable } from './render/text.js';
import type { ReplayEvent } from './core/replay/backend.js';
import { renderEvent } from './render/events.js';

export interface ErrorEnvelope {
  status: number;
  error: { code: string; name: string; message: string; hint?: string; data?: Record<string, unknown> };
  warnings: string[];
}

export interface SuccessEnvelope<T> {
  status: number;
  result: T;
  warnings: string[];
}

/**
 * Our own output going to a closed pipe (`snapshot ... 2> >(head -c 300)`, `| head`) is not a
 * failure of the command: the write error is swallowed (Node would otherwise crash with exit 1,
 * which means "different" here) and later writes to that stream are skipped. Installed once.
 */
const closedStreams = new WeakSet<NodeJS.WriteStream>();
let guarded = false;
function guardStandardStreams(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' || error.code === 'ECONNRESET') {
        closedStreams.add(stream);
        return;
      }
      throw error;
    });
  }
}

/** Whether writing to the stream can still reach a reader. */
export function streamOpen(stream: NodeJS.WriteStream): boolean {
  return !closedStreams.has(stream) && !stream.destroyed && stream.writable;
}

export abstract class SnapshotCommand extends Command {
  static override enableJsonFlag = true;

  override async init(): Promise<void> {
    guardStandardStreams();
    await super.init();
  }

  protected collectedWarnings: string[] = [];

  /** Ctrl-C, SIGTERM and SIGHUP abort the returned signal; a second one forces the exit (adapters/signals.ts). */
  protected interruptible(lastCleanup?: () => Promise<void>): Interruptible {
    return interruptible(lastCleanup);
  }

  /** The exit status of a command that succeeded in running but reports a failure (a verdict). */
  protected resultStatus = 0;

  /**
   * Progress and notes go to stderr, so stdout carries only the result; in JSON mode too (oclif's
   * logToStderr is silent there), since a long step must still show that it is moving.
   */
  protected note(message: string): void {
    if (streamOpen(process.stderr)) process.stderr.write(`${message}\n`);
  }

  /** Raw text to our stderr (progress lines, JSON events) while it still has a reader. */
  protected writeStderr(text: string): void {
    if (streamOpen(process.stderr)) process.stderr.write(text);
  }

  /**
   * A replay's or a build's progress: a line a terminal or a CI log shows; under --json one JSON
   * line each, so stdout keeps only the final envelope.
   */
  protected printEvent(event: ReplayEvent): void {
    if (this.jsonEnabled()) return this.writeStderr(`${JSON.stringify(event)}\n`);
    if (event.type === 'warning') return this.logToStderr(`Warning: ${printable(event.message)}`);
    const line = renderEvent(event);
    if (line !== null) this.writeStderr(`${line}\n`);
  }

  /** The training's own output, echoed to our stderr while that still has a reader. */
  protected echoToStderr(chunk: Buffer): void {
    if (streamOpen(process.stderr)) process.stderr.write(chunk);
  }

  /** Warnings are printed as they come in human mode and gathered into the envelope in JSON mode. */
  protected addWarning(message: string): void {
    this.collectedWarnings.push(message);
    if (!this.jsonEnabled()) this.logToStderr(`Warning: ${printable(message)}`);
  }

  /**
   * The envelope as plain, indented JSON when stdout is not a terminal: oclif colours it token by
   * token whatever stdout is, which costs more than the comparison itself for a report of 10,000 outputs.
   */
  override logJson(json: unknown): void {
    if (process.stdout.isTTY) {
      super.logJson(json);
      return;
    }
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  protected override toSuccessJson(result: unknown): SuccessEnvelope<unknown> {
    return { status: this.resultStatus, result, warnings: this.collectedWarnings };
  }

  protected override toErrorJson(error: unknown): ErrorEnvelope {
    const e = InternalError.from(error);
    return {
      status: e.exitCode,
      error: { code: e.code, name: e.name, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.data ? { data: e.data } : {}) },
      warnings: this.collectedWarnings,
    };
  }

  protected override async catch(error: Interfaces.CommandError): Promise<unknown> {
    // oclif's own exits and usage errors (exit 2) keep oclif's behaviour and codes.
    if (error instanceof Errors.ExitError) throw error;
    if (!(error instanceof SnapshotError) && error instanceof Errors.CLIError && error.oclif?.exit === 2) {
      if (this.jsonEnabled()) {
        this.logJson({ status: 2, error: { code: 'USAGE', name: 'UsageError', message: error.message }, warnings: [] });
        this.exit(2);
      }
      return super.catch(error);
    }
    const e = InternalError.from(error);
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e));
    } else {
      this.logToStderr(`Error: ${printable(e.message)}`);
      if (e.hint) this.logToStderr(`Hint: ${e.hint}`);
      if (process.env.DEBUG?.includes('snapshot') && e.stack) this.logToStderr(e.stack);
    }
    this.exit(e.exitCode);
  }
}
