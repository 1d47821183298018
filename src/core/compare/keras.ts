// What a Keras 3 `.keras` archive is made of, and which parts of it are volatile by nature: two
// identical trainings never give byte-identical archives. The zip's timestamps, `date_saved` in
// metadata.json and the Python object ids in config.json's `shared_object_id` keys change every run.
// These are storage, not content: left out, and listed in the report as ignored.
import type { MetricPath } from './policy.js';

export type KerasEntryKind = 'weights' | 'json' | 'bytes';

export function kerasEntryKind(name: string): KerasEntryKind {
  if (name.endsWith('.h5')) return 'weights';
  if (name.endsWith('.json')) return 'json';
  return 'bytes';
}

/** Keys dropped from an entry: at any depth, or at the top level only. */
export const KERAS_VOLATILE_KEYS: Record<string, Array<{ key: string; anyDepth: boolean }>> = {
  'config.json': [{ key: 'shared_object_id', anyDepth: true }],
  'metadata.json': [{ key: 'date_saved', anyDepth: false }],
};

/** The volatile-key test of one entry, for the metrics walk. */
export function kerasDropKey(entry: string): ((parent: MetricPath, key: string) => boolean) | undefined {
  const keys = KERAS_VOLATILE_KEYS[entry];
  if (keys === undefined) return undefined;
  return (parent, key) => keys.some((k) => k.key === key && (k.anyDepth || parent.length === 0));
}

/**
 * The model's configuration and metadata are compared exactly unless a policy rule names a key:
 * a learning rate changed by 40% is another training, not float noise within a weight tolerance.
 */
export function kerasEntryIsExact(name: string): boolean {
  return kerasEntryKind(name) === 'json';
}
