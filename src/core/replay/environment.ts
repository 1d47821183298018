// The replay environment, computed once for every engine: the captured allowlisted numerics
// variables minus the host-only ones, plus the determinism recipe the Dockerfile bakes in for the
// captured stack, plus only what the user passes with --env. Nothing of our host's environment.
import { planEnvironment } from '../dockerfile/plan.js';
import type { Snapshot } from '../model.js';
import { UserInputError } from '../../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** --env KEY=VALUE values, in order; a later one wins. */
export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const name = at > 0 ? value.slice(0, at) : '';
    if (!NAME.test(name)) throw new UserInputError('ENV_FLAG_INVALID', `--env ${JSON.stringify(value).slice(0, 120)}: expected KEY=VALUE with KEY a variable name`, { hint: 'For example --env TF_ENABLE_ONEDNN_OPTS=0.' });
    const rest = value.slice(at + 1);
    if (rest.includes('\u0000')) throw new UserInputError('ENV_FLAG_INVALID', `--env ${name}: the value holds a NUL byte`, { hint: 'Pass a value without NUL bytes.' });
    out[name] = rest;
  }
  return out;
}

export interface ReplayEnvironment {
  /** The whole environment the training gets, sorted by name. */
  env: Record<string, string>;
  /** Where each variable came from: captured, the recipe's reason, or --env. */
  sources: Record<string, string>;
  warnings: string[];
}

export function replayEnvironment(snapshot: Snapshot, target: 'gpu' | 'cpu', userEnv: Readonly<Record<string, string>>): ReplayEnvironment {
  const planned = planEnvironment(snapshot, { target, family: 'python' });
  const env: Record<string, string> = {};
  const sources: Record<string, string> = {};
  for (const item of planned.env) {
    // The NVIDIA runtime's own switch is the engine's business, not the training's.
    if (item.name === 'NVIDIA_DRIVER_CAPABILITIES') continue;
    env[item.name] = item.value;
    sources[item.name] = item.why;
  }
  for (const [name, value] of Object.entries(userEnv)) {
    env[name] = value;
    sources[name] = '--env';
  }
  const sorted = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { env: sorted, sources, warnings: planned.warnings };
}
