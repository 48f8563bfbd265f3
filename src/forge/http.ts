// The forge's REST transport: JSON over `fetch`, bounded retries that honor Retry-After and rate-limit headers, and
// errors that name the request and what to do but never carry the token.

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  apiUrl: string; // e.g. https://api.github.com, https://git.example.com/api/v1
  token?: string;
  /** How the token is called in messages (the env var that holds it), so an error says what to fix. */
  tokenName?: string;
  /** GitHub takes `Bearer`, Gitea `token`; both also accept the other for personal tokens, but each its own is documented. */
  authScheme: 'Bearer' | 'token';
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  maxRetries?: number; // retries after the first attempt (default 3)
  maxWaitMs?: number; // a longer wait asked for by the server fails at once (default 60 s)
  timeoutMs?: number; // per attempt (default 30 s)
}

export class ForgeError extends Error {
  readonly status?: number;
  readonly body?: unknown;
  constructor(message: string, status?: number, body?: unknown) {
    super(message);
    this.name = 'ForgeError';
    this.status = status;
    this.body = body;
  }
}

export interface JsonResponse { status: number; body: unknown; headers: Headers }

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pure: how long the server asks us to wait, in ms, or undefined when it does not say. */
export function serverWaitMs(status: number, headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  // GitHub's primary rate limit: 403 or 429 with x-ratelimit-remaining: 0 and the reset time in epoch seconds.
  if ((status === 403 || status === 429) && headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

/** Removes the token from any text that may reach a log, an error or a PR. */
export function redact(text: string, token: string | undefined): string {
  return token ? text.replaceAll(token, '***') : text;
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; errors?: unknown };
    const details = Array.isArray(b.errors)
      ? b.errors.map((e) => (typeof e === 'string' ? e : (e as { message?: string })?.message)).filter(Boolean)
      : [];
    return [typeof b.message === 'string' ? b.message : '', ...details].filter(Boolean).join(': ');
  }
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

export type Request = (method: string, path: string, body?: unknown) => Promise<JsonResponse>;

/**
 * A JSON request function. Retries 429, rate-limited 403s, 502/503/504 and (for GET) network errors, at most
 * `maxRetries` times; a 4xx other than those is returned to the caller, who knows which ones it expects.
 */
export function createRequest(o: HttpOptions): Request {
  const doFetch: Fetch = o.fetch ?? ((input, init) => fetch(input, init));
  const sleep = o.sleep ?? defaultSleep;
  const now = o.now ?? Date.now;
  const maxRetries = o.maxRetries ?? 3;
  const maxWaitMs = o.maxWaitMs ?? 60_000;
  const base = o.apiUrl.replace(/\/+$/, '');
  const tokenName = o.tokenName ?? 'the forge token';
  const fail = (message: string, status?: number, body?: unknown) => new ForgeError(redact(message, o.token), status, body);

  return async (method, path, body) => {
    const url = `${base}${path}`;
    const where = `${method} ${url}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(o.token ? { authorization: `${o.authScheme} ${o.token}` } : {}),
            'user-agent': 'kubetrail',
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (e as Error).message;
        // A write that may have reached the server is not repeated blindly; the caller's next run converges.
        if (method === 'GET' && attempt < maxRetries) { await sleep(backoff(attempt)); continue; }
        throw fail(`forge API unreachable: ${where}: ${reason}`);
      }
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON: keep the text for the message */ }
      const wait = serverWaitMs(res.status, res.headers, now());
      const retryable = res.status === 429 || (res.status === 403 && wait !== undefined) || [502, 503, 504].includes(res.status);
      if (retryable && attempt < maxRetries) {
        const ms = wait ?? backoff(attempt);
        if (ms > maxWaitMs) throw fail(`forge API rate limit: ${where} asks to wait ${Math.ceil(ms / 1000)} s (more than ${maxWaitMs / 1000} s); the next run retries`, res.status, parsed);
        await sleep(ms);
        continue;
      }
      if (res.status === 401) throw fail(`forge API refused the token (401): ${where}: check ${tokenName}`, 401, parsed);
      if (retryable) throw fail(`forge API ${res.status} after ${maxRetries + 1} attempts: ${where}: ${messageOf(parsed)}`, res.status, parsed);
      return { status: res.status, body: parsed, headers: res.headers };
    }
  };
}

const backoff = (attempt: number) => 500 * 2 ** attempt;

/** An error for an answer the caller did not expect, with the forge's own message. */
export function unexpected(method: string, url: string, r: JsonResponse, token?: string): ForgeError {
  return new ForgeError(redact(`forge API ${r.status}: ${method} ${url}: ${messageOf(r.body) || 'no message'}`, token), r.status, r.body);
}
