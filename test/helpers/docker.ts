// Shared set-up for tests that need a real Docker engine, the loopback package index, or a static
// file host on the loopback interface.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { runProcess } from '../../src/adapters/process.js';

export const TEST_BASE_IMAGE = process.env.SNAPSHOT_TEST_BASE_IMAGE ?? 'snapshot-test/debian:bookworm';

/**
 * True when an engine answers and the test base image exists. Without them a developer's run
 * skips loudly; under CI it fails, because .ci/run must have set them up.
 */
export async function dockerReady(): Promise<boolean> {
  const info = await runProcess('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
  const image = info.outcome === 'ok' ? await runProcess('docker', ['image', 'inspect', TEST_BASE_IMAGE], { timeoutMs: 15_000 }) : null;
  if (info.outcome === 'ok' && image?.outcome === 'ok') return true;
  const why = info.outcome !== 'ok' ? `no Docker engine answers (${info.reason ?? info.outcome})` : `the base image ${TEST_BASE_IMAGE} is missing`;
  if (process.env.CI) throw new Error(`Docker tests cannot run under CI: ${why}. .ci/run runs scripts/setup-docker.sh for this.`);
  console.warn(`\n*** SKIPPING DOCKER TESTS: ${why}. Run scripts/setup-docker.sh to enable them. ***\n`);
  return false;
}

/** Serves a PEP 503 package index folder (the machine's local one by default) on 127.0.0.1. */
export async function servePackageIndex(root = process.env.SNAPSHOT_TEST_INDEX_ROOT ?? '/opt/pypi'): Promise<{ url: string; close: () => Promise<void> }> {
  if (!existsSync(join(root, 'simple'))) throw new Error(`no package index at ${root}/simple`);
  const served = await serveFolder(root);
  return { url: `${served.url}simple/`, close: served.close };
}

/**
 * Serves a folder's files over plain HTTP on 127.0.0.1, as a static file host does: a bare git
 * repository after `git update-server-info` (git's dumb HTTP protocol), wheels, an index. The
 * query string is ignored, as a signed-URL host's would be once the signature checks out.
 */
export async function serveFolder(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    let file = join(root, path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'application/octet-stream', 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
