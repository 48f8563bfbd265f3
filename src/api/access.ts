// Who may do what over HTTP: the bearer tokens for reads and for sync triggers, decided once at start, and the
// Hono middleware that enforces them on every /api request whatever its method (HEAD and OPTIONS included).
import type { Context, MiddlewareHandler, Next } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { ConfigError } from '../config/errors.ts';
import type { ApiConfig } from '../config/types.ts';

export interface ApiAccess {
  /** May trigger syncs; without one, triggering is disabled. */
  triggerToken?: string;
  /** Accepted for reads: the read token when one is configured, else the trigger token; empty = reads refused. */
  readTokens: string[];
  /** Reads need no token at all. */
  anonymousReads: boolean;
  /** The apiserver's audit webhook presents it (POST /api/v1/audit); without one, audit events are refused. */
  auditToken?: string;
  /** What an operator should read at start: how reads are protected, or why they are refused. */
  notice: { level: 'info' | 'warn'; msg: string };
}

// RFC 6750 b64token: what hono/bearer-auth accepts in a header; any other token could never be presented.
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

function token(env: Record<string, string | undefined>, name: string, field: string): string | undefined {
  const value = env[name] || undefined;
  if (value !== undefined && !B64TOKEN.test(value)) {
    throw new ConfigError(field, `$${name} must be a bearer token of letters, digits and -._~+/ (RFC 6750), optionally ending in =`);
  }
  return value;
}

/** Pure: the tokens the API accepts, from the config and the environment. */
export function apiAccess(api: ApiConfig, env: Record<string, string | undefined>): ApiAccess {
  const triggerToken = token(env, api.tokenEnv, 'api.tokenEnv');
  const readToken = api.readTokenEnv ? token(env, api.readTokenEnv, 'api.readTokenEnv') : undefined;
  if (api.readTokenEnv && !readToken) throw new ConfigError('api.readTokenEnv', `environment variable ${api.readTokenEnv} is not set`);
  const readTokens = readToken ? [readToken] : triggerToken ? [triggerToken] : [];
  const notice: ApiAccess['notice'] = api.anonymousReads
    ? { level: 'warn', msg: 'reads are open to anyone who can reach the port (api.anonymousReads: true)' }
    : readToken
      ? { level: 'info', msg: `reads need the bearer token in $${api.readTokenEnv}; sync triggers need $${api.tokenEnv}` }
      : triggerToken
        ? { level: 'info', msg: `reads and sync triggers need the bearer token in $${api.tokenEnv}` }
        : { level: 'warn', msg: `reads are refused (503) and sync triggers disabled: set $${api.tokenEnv} (or api.readTokenEnv for a read-only token), or api.anonymousReads: true to open reads` };
  const auditToken = token(env, api.auditTokenEnv, 'api.auditTokenEnv');
  return { triggerToken, readTokens, anonymousReads: api.anonymousReads, auditToken, notice };
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

function bearer(tokens: string[], what: string): MiddlewareHandler {
  return bearerAuth({
    token: tokens,
    noAuthenticationHeader: { message: errorBody('unauthorized', `Authorization: Bearer <token> is required to ${what}`) },
    invalidAuthenticationHeader: { message: errorBody('bad_authorization', 'the Authorization header must be "Bearer <token>"') },
    invalidToken: { message: errorBody('unauthorized', `this token may not ${what}`) },
  });
}

// The only routes a read token cannot use. Everything else under /api is a read (or an unknown route: still a read,
// so an unauthenticated client learns nothing about which routes exist).
const TRIGGER = /^\/api\/v1\/(clusters\/[^/]+\/)?sync$/;
const AUDIT = /^\/api\/v1\/audit(\/[^/]+)?$/;

/** Middleware for /api/*: POST to a sync route needs the trigger token, any other request the read access. */
export function apiAuth(access: ApiAccess): MiddlewareHandler {
  const trigger = access.triggerToken ? bearer([access.triggerToken], 'trigger syncs') : undefined;
  const read = access.readTokens.length ? bearer(access.readTokens, 'read') : undefined;
  const audit = access.auditToken ? bearer([access.auditToken], 'send audit events') : undefined;
  return async (c: Context, next: Next) => {
    if (c.req.method === 'POST' && AUDIT.test(c.req.path)) {
      if (!audit) return c.json(errorBody('audit_disabled', 'audit events are not accepted: set KUBETRAIL_AUDIT_TOKEN (api.auditTokenEnv) and put it in the webhook kubeconfig'), 403);
      return audit(c, next);
    }
    if (c.req.method === 'POST' && TRIGGER.test(c.req.path)) {
      if (!trigger) return c.json(errorBody('sync_disabled', 'triggering syncs is disabled: set KUBETRAIL_API_TOKEN (api.tokenEnv)'), 403);
      return trigger(c, next);
    }
    if (access.anonymousReads) return next();
    if (!read) {
      return c.json(errorBody('reads_disabled', 'reads need a bearer token and none is configured: set KUBETRAIL_API_TOKEN (api.tokenEnv) or api.readTokenEnv, or api.anonymousReads: true'), 503);
    }
    return read(c, next);
  };
}
