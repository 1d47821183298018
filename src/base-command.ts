// Every command's frame: --json on all of them, one success/error envelope, errors turned into a
// message, a hint and a documented exit code (a stack only with DEBUG=snapshot*).
import { Command, Errors, type Interfaces } from '@oclif/core';
import { InternalError, SnapshotError } from './errors.js';
import { printable } from './render/text.js';

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

export abstract class SnapshotCommand extends Command {
  static override enableJsonFlag = true;

  protected collectedWarnings: string[] = [];

  /** The exit status of a command that succeeded in running but reports a failure (a verdict). */
  protected resultStatus = 0;

  /**
   * Progress and notes go to stderr, so stdout carries only the result; in JSON mode too (oclif's
   * logToStderr is silent there), since a long step must still show that it is moving.
   */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`);
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
