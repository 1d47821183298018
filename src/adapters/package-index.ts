// Does a package index answer? An HTTP GET of its simple root (or the folder of a file:// index or
// a find-links path), bounded: pip alone retries an unreachable index for minutes.
import { fileURLToPath } from 'node:url';
import { statKind } from './fs.js';

export type IndexCheck = { ok: true } | { ok: false; reason: string; proxied: boolean };

function proxiedFor(url: URL, env: NodeJS.ProcessEnv): boolean {
  const proxy = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy) return false;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return !noProxy.some((entry) => entry === '*' || url.hostname === entry || url.hostname.endsWith(entry.startsWith('.') ? entry : `.${entry}`));
}

export async function checkIndex(location: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<IndexCheck> {
  let url: URL | null = null;
  try {
    url = new URL(location);
  } catch {
    url = null;
  }
  if (url === null || url.protocol === 'file:') {
    const path = url === null ? location : fileURLToPath(url);
    const kind = await statKind(path);
    return kind === 'directory' || kind === 'file' ? { ok: true } : { ok: false, reason: `${path} does not exist`, proxied: false };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `${url.protocol} is not a scheme pip fetches from`, proxied: false };
  const proxied = proxiedFor(url, env);
  try {
    const headers: Record<string, string> = { accept: 'text/html, application/vnd.pypi.simple.v1+html' };
    if (url.username !== '' || url.password !== '') headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    const bare = new URL(url.href);
    bare.username = '';
    bare.password = '';
    const response = await fetch(bare, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 400) return { ok: true };
    return { ok: false, reason: `it answered HTTP ${response.status}`, proxied };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, reason: timedOut ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))), proxied };
  }
}
