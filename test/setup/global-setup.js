// Jest global setup: make sure the real Python environments exist before any test runs.
import { prepareAll } from './prepare-envs.js';

export default async function globalSetup() {
  prepareAll();
}
