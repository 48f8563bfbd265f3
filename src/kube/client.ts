// Raw HTTP to the Kubernetes API: client-node applies auth (tokens, client certs, CA), we send the request
// with node:https and parse the JSON exactly as the server sent it (typed APIs drop unknown fields and rewrite dates).
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Access } from './access.ts';

export class KubeError extends Error {
  readonly status?: number;
  readonly retryable: boolean;
  /** The response was larger than the client's limit (a smaller page may fit). */
  readonly tooLarge: boolean;
  constructor(message: string, opts: { status?: number; retryable?: boolean; tooLarge?: boolean } = {}) {
    super(message);
    this.name = 'KubeError';
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
    this.tooLarge = opts.tooLarge ?? false;
  }
}

/**
 * Bytes of one response a client reads at most (a list page is read whole before it is parsed): 16 MiB, a page
 * of 500 objects of 32 KiB each, or `$KUBETRAIL_MAX_RESPONSE_MIB`. A list page over it is asked for again with
 * fewer objects (list.ts), so only one object over the limit, or a server that ignores `limit`, fails a type.
 */
export function maxResponseBytes(env: Record<string, string | undefined> = process.env): number {
  const mib = Number(env.KUBETRAIL_MAX_RESPONSE_MIB);
  return (Number.isFinite(mib) && mib > 0 ? mib : 16) * 1024 * 1024;
}

const mibText = (bytes: number) => `${+(bytes / 1024 / 1024).toFixed(2)} MiB`;

/** The body as JSON; a body that is not JSON becomes an error naming the request, not a bare SyntaxError. */
export function parseJSON<T>(body: Buffer, method: string, path: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (e) {
    throw new KubeError(`invalid JSON in the answer to ${method} ${path}: ${(e as Error).message.slice(0, 200)}`);
  }
}

export interface KubeResponse { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export interface RequestOptions {
  accept?: string; method?: string; body?: unknown;
  /** Idle time after which the request fails (the socket's inactivity, not the whole request). */
  timeoutMs?: number;
  /** A 2xx body is handed over chunk by chunk as it arrives, not kept (a watch streams for minutes): `body` is empty. */
  onChunk?: (chunk: Buffer) => void;
  /** Ends the request (a watch being stopped): it then fails with a KubeError. */
  signal?: AbortSignal;
}

export interface KubeClient {
  clusterId: string;
  server: string;
  /** One request; a network/TLS failure becomes a KubeError with a one-line cause. */
  request(path: string, opts?: RequestOptions): Promise<KubeResponse>;
  /** GET + JSON; non-2xx becomes a KubeError; retries 429/5xx/timeouts with backoff. */
  getJSON<T>(path: string, opts?: { accept?: string; retries?: number }): Promise<T>;
  /** Any method with a JSON body (used by tests and setup tools). */
  sendJSON<T>(method: string, path: string, body?: unknown): Promise<T>;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE',
]);

function networkError(server: string, e: NodeJS.ErrnoException): KubeError {
  const code = e.code ?? '';
  if (TLS_CODES.has(code)) return new KubeError(`TLS verification of ${server} failed (${code}): check the CA`);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'EAI_AGAIN') {
    return new KubeError(`cannot reach ${server} (${code})`, { retryable: code !== 'ENOTFOUND' });
  }
  return new KubeError(`request to ${server} failed: ${e.message}`, { retryable: true });
}

/** Turns a non-2xx answer into a one-line error, using the Status message when the server sent one. */
export function statusError(server: string, method: string, path: string, res: KubeResponse): KubeError {
  let detail = '';
  try {
    detail = JSON.parse(res.body.toString('utf8')).message ?? '';
  } catch { /* not a Status */ }
  const retryable = res.status === 429 || res.status >= 500;
  if (res.status === 401) return new KubeError(`unauthorized (401): ${server} rejected the credentials`, { status: 401 });
  return new KubeError(`${res.status} from ${method} ${path}${detail ? `: ${detail}` : ''}`, { status: res.status, retryable });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests an agent is serving or has queued (its idle keep-alive sockets are elsewhere). */
const inFlight = (agent: https.Agent) => Object.keys(agent.sockets ?? {}).length + Object.keys(agent.requests ?? {}).length;

export function createKubeClient(clusterId: string, access: Access, opts: { timeoutMs?: number; maxResponseBytes?: number } = {}): KubeClient {
  const server = access.server.replace(/\/+$/, '');
  const defaultTimeout = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxResponseBytes ?? maxResponseBytes();

  // One keep-alive agent per TLS identity: a TLS handshake per connection, not per page of a list. client-node
  // keeps one agent per cluster and user with the certificate it first saw; the request options carry this
  // call's (exec plugins rotate client certificates), so they make the identity and the agent.
  const agents = new Map<string, https.Agent>();
  function reusable(options: https.RequestOptions): https.RequestOptions['agent'] {
    const agent = options.agent;
    if (!(agent instanceof https.Agent) || agent.constructor !== https.Agent) return agent; // proxies: as made
    const o: https.AgentOptions = { ...(agent as https.Agent & { options: https.AgentOptions }).options };
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
      if (options[k] !== undefined) (o as Record<string, unknown>)[k] = options[k];
    }
    const key = createHash('sha256')
      .update(JSON.stringify([o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername, o.timeout]))
      .digest('hex');
    let shared = agents.get(key);
    if (!shared) agents.set(key, shared = new https.Agent({ ...o, keepAlive: true }));
    // An identity no longer used (its certificate rotated) closes its connections once nothing is in flight on
    // them, instead of keeping them open for the life of a daemon.
    for (const [other, retired] of agents) {
      if (other !== key && inFlight(retired) === 0) {
        retired.destroy();
        agents.delete(other);
      }
    }
    return shared;
  }

  async function request(path: string, o: RequestOptions = {}) {
    const url = new URL(server + path);
    const options: https.RequestOptions = {
      method: o.method ?? 'GET',
      headers: { Accept: o.accept ?? 'application/json', 'User-Agent': 'kubetrail' },
    };
    await access.kubeConfig.applyToHTTPSOptions(options);
    options.agent = reusable(options);
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    if (payload) Object.assign(options.headers!, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
    const transport = url.protocol === 'http:' ? http : https;
    return await new Promise<KubeResponse>((resolve, reject) => {
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        const tooLarge = () => {
          const e = new KubeError(
            `response over ${mibText(maxBytes)}: ${options.method} ${path} (set KUBETRAIL_MAX_RESPONSE_MIB to allow more)`, { tooLarge: true });
          chunks.length = 0;
          reject(e);
          req.destroy(e); // the rest is never read
        };
        const streamed = o.onChunk && res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        if (!streamed && Number(res.headers['content-length']) > maxBytes) return tooLarge();
        res.on('data', (c: Buffer) => {
          if (streamed) return o.onChunk!(c);
          bytes += c.length;
          if (bytes > maxBytes) tooLarge();
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => reject(networkError(server, e)));
      });
      req.setTimeout(o.timeoutMs ?? defaultTimeout, () => {
        req.destroy(new KubeError(`timeout after ${o.timeoutMs ?? defaultTimeout} ms: ${options.method} ${path}`, { retryable: true }));
      });
      req.on('error', (e) => reject(e instanceof KubeError ? e : networkError(server, e)));
      if (o.signal) {
        const abort = () => {
          // Rejects itself and destroys without an error: an error handed to destroy() when the response has just
          // ended is thrown as uncaught under Deno (a watch ended by a 410 ERROR event crashed the process).
          reject(new KubeError(`stopped: ${options.method} ${path}`));
          req.destroy();
        };
        if (o.signal.aborted) abort();
        else o.signal.addEventListener('abort', abort, { once: true });
        req.on('close', () => o.signal!.removeEventListener('abort', abort));
      }
      req.end(payload);
    });
  }

  async function getJSON<T>(path: string, o: { accept?: string; retries?: number } = {}): Promise<T> {
    const retries = o.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await request(path, { accept: o.accept });
        if (res.status >= 200 && res.status < 300) return parseJSON<T>(res.body, 'GET', path);
        throw statusError(server, 'GET', path, res);
      } catch (e) {
        if (!(e instanceof KubeError) || !e.retryable || attempt >= retries) throw e;
        await sleep(Math.min(200 * 2 ** attempt, 5_000));
      }
    }
  }

  async function sendJSON<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await request(path, { method, body });
    if (res.status < 200 || res.status >= 300) throw statusError(server, method, path, res);
    return parseJSON<T>(res.body, method, path);
  }

  return { clusterId, server, request, getJSON, sendJSON };
}
