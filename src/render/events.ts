// A replay's or a build's progress events as the lines a terminal or a CI log shows. Kept apart
// from the report renderers: every command loads it at start-up.
import type { ReplayEvent } from '../core/replay/backend.js';
import { printable } from './text.js';

/** One progress line for an event, as a terminal or a CI log shows it; null for what is not shown. */
export function renderEvent(event: ReplayEvent): string | null {
  switch (event.type) {
    case 'stage':
      return `==> ${printable(event.message)}`;
    case 'build':
      return event.kind === 'step' ? `  ${printable(event.text)}` : `    ${printable(event.text)}`;
    case 'log':
      return `  | ${printable(event.text)}`;
    case 'warning':
      return null;
    case 'engine':
      return `==> engine: ${printable(event.kind)} (${printable(event.reason)})`;
  }
}
