// Library entry: the pure core and the services, for programs that drive snapshot without the CLI.
export * from './core/model.js';
export { capture, type CaptureInput, type CaptureResult } from './services/capture.js';
export { readSnapshot, validateSnapshot, serializeSnapshot } from './adapters/snapshot-file.js';
export * from './errors.js';
