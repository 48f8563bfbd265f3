// Pure: which field managers wrote what changed in an object, read from its `managedFields` before they are
// dropped. A wrong author is worse than none: a change is attributed only to managers that own the changed field
// now and wrote after the previous version was read; anything else is `unknown`.
//
// managedFields (FieldsV1) is a tree of the fields a manager owns: `f:<field>` for a map key, `k:{json}` for a
// list item by its keys, `v:<json>` for a set item, `.` for the field itself; an empty node owns the whole value.

import type { Writer } from '../audit/audit-log.ts';

export interface FieldManager { manager: string; operation: string; time?: string }

/**
 * Who wrote an object's change: its managers, whether some changed field has none that can be named, and the
 * user the audit log names for exactly this write (audit/), when it does.
 */
export interface Attribution { managers: FieldManager[]; unknown: boolean; changedBy?: Writer }

interface ManagedEntry { manager?: unknown; operation?: unknown; time?: unknown; fieldsType?: unknown; fieldsV1?: unknown; subresource?: unknown }

type Node = Record<string, unknown>;
/** One step down an object: a map key, or a list item (its value, to match `k:`/`v:` keys). */
type Step = { key: string } | { item: unknown };

// Code-point order: commit text must not depend on the locale it was written in.
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const UNKNOWN: Attribution = { managers: [], unknown: true };

/**
 * The managers of the change from `before` to `after` (both as recorded: normalized, redacted). `managedFields`
 * is `after`'s, as read. `since` (ms) is when the previous version was read: an owner that last wrote before it
 * did not make this change. A created object (`before` undefined) is attributed to every manager that wrote a
 * field it has; a changed one with no `since` cannot be attributed.
 */
export function attributeChange(before: unknown, after: unknown, managedFields: unknown, since: number | undefined): Attribution {
  const entries = Array.isArray(managedFields) ? managedFields.filter(isMap) as ManagedEntry[] : [];
  if (!entries.length || !isMap(after)) return UNKNOWN;
  if (before !== undefined && since === undefined) return UNKNOWN;
  const changed = before === undefined
    ? Object.keys(after).filter((k) => k !== 'apiVersion' && k !== 'kind').map((k) => [{ key: k }])
    : changedLocations(before, after);
  if (!changed.length) return { managers: [], unknown: false };
  const floor = since === undefined ? undefined : Math.floor(since / 1000) * 1000;
  const writers = entries.filter((e) => e.fieldsType === 'FieldsV1' && isMap(e.fieldsV1) && typeof e.manager === 'string' &&
    (floor === undefined || (typeof e.time === 'string' && Date.parse(e.time) >= floor)));
  const found = new Map<string, FieldManager>();
  let unknown = false;
  for (const steps of changed) {
    const owners = writers.filter((e) => owns(e.fieldsV1 as Node, steps));
    if (!owners.length) unknown = true;
    for (const e of owners) {
      const m = { manager: String(e.manager), operation: typeof e.operation === 'string' ? e.operation : 'Unknown', time: typeof e.time === 'string' ? e.time : undefined };
      found.set(`${m.manager}\0${m.operation}`, m);
    }
  }
  const managers = [...found.values()].sort((a, b) => byText(a.time ?? '', b.time ?? '') || byText(a.manager, b.manager));
  // A created object has fields no manager owns (its name, namespace, server defaults): its creators are known
  // when any manager owns any of it.
  return { managers, unknown: before === undefined ? managers.length === 0 : unknown };
}

/**
 * Where `after` differs from `before`, as paths of steps, each at the deepest point that a field manager can own:
 * a changed value, an added or removed map key, an added or removed list item (lists of named items are matched
 * by name and descended into; other lists by whole items).
 */
export function changedLocations(before: unknown, after: unknown, at: Step[] = [], out: Step[][] = []): Step[][] {
  if (isMap(before) && isMap(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const step = [...at, { key: k }];
      if (!Object.hasOwn(after, k) || !Object.hasOwn(before, k)) out.push(step);
      else changedLocations(before[k], after[k], step, out);
    }
  } else if (Array.isArray(before) && Array.isArray(after)) {
    const name = (i: unknown) => (isMap(i) && typeof i.name === 'string' ? i.name : undefined);
    if ([...before, ...after].every((i) => name(i) !== undefined) && before.length && after.length) {
      const old = new Map(before.map((i) => [name(i), i]));
      for (const item of after) {
        const prev = old.get(name(item));
        if (prev === undefined) out.push([...at, { item }]);
        else changedLocations(prev, item, [...at, { item }], out);
      }
      const now = new Set(after.map(name));
      for (const item of before) if (!now.has(name(item))) out.push([...at, { item }]);
    } else {
      const json = (v: unknown) => JSON.stringify(v);
      const olds = new Set(before.map(json));
      const news = new Set(after.map(json));
      for (const item of after) if (!olds.has(json(item))) out.push([...at, { item }]);
      for (const item of before) if (!news.has(json(item))) out.push([...at, { item }]);
      if (olds.size === news.size && [...olds].every((s) => news.has(s)) && json(before) !== json(after)) out.push(at); // reordered
    }
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push(at);
  }
  return out;
}

/** Whether a FieldsV1 tree owns the field at `steps`, itself or as part of a value it owns whole. */
export function owns(fields: Node, steps: Step[]): boolean {
  let node: Node = fields;
  for (const step of steps) {
    if (isLeaf(node) && node !== fields) return true; // owns the whole value this field is part of
    const child = 'key' in step ? node[`f:${step.key}`] : itemNode(node, step.item);
    if (!isMap(child)) return false;
    node = child;
  }
  return true;
}

const isLeaf = (node: Node) => Object.keys(node).every((k) => k === '.');

function itemNode(list: Node, item: unknown): unknown {
  for (const [k, child] of Object.entries(list)) {
    if (k.startsWith('k:') && isMap(item)) {
      const keys = parseJson(k.slice(2));
      if (isMap(keys) && Object.entries(keys).every(([f, v]) => JSON.stringify(item[f]) === JSON.stringify(v))) return child;
    } else if (k.startsWith('v:') && JSON.stringify(parseJson(k.slice(2))) === JSON.stringify(item)) {
      return child;
    }
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ── how attribution is written into a commit message, and read back ─────────────────────────────────────

/** A manager name as one token: names are free text (often a user agent), the message line format is not. */
const token = (s: string) => s.replace(/[\s,()=]+/g, '_') || '_';

/** `kubectl-set Update 2026-12-01T10:02:11Z, unknown` */
export function formatAttribution(a: Attribution): string {
  const parts = a.managers.map((m) => [token(m.manager), token(m.operation), m.time].filter(Boolean).join(' '));
  if (a.unknown || !parts.length) parts.push('unknown');
  return parts.join(', ');
}

export function parseAttribution(text: string): Attribution {
  const a: Attribution = { managers: [], unknown: false };
  for (const part of text.split(', ')) {
    if (part === 'unknown') a.unknown = true;
    else {
      const [manager, operation, time] = part.split(' ');
      if (manager && operation) a.managers.push(time ? { manager, operation, time } : { manager, operation });
    }
  }
  return a;
}

/** `helm=3, kubectl-edit=1, unknown=1`: objects per manager, most first. */
export function countManagers(attributions: Iterable<Attribution>): string {
  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const a of attributions) {
    for (const name of new Set(a.managers.map((m) => token(m.manager)))) bump(name);
    if (a.unknown || !a.managers.length) bump('unknown');
  }
  return [...counts].sort((x, y) => y[1] - x[1] || byText(x[0], y[0])).map(([k, n]) => `${k}=${n}`).join(', ');
}

/**
 * The attribution a kubetrail commit message records, by path relative to the cluster's subtree
 * (`apps.v1.Deployment/shop/checkout.yaml`). Paths the message does not list (beyond its limit, or written
 * before attribution existed) are absent.
 */
export function attributionInMessage(message: string): Map<string, Attribution> {
  const out = new Map<string, Attribution>();
  let type = '';
  for (const line of message.split('\n')) {
    if (/^[^\s:]+$/.test(line)) type = line;
    const m = type && /^ {2}[+~-] (.+)\)$/.exec(line);
    if (!m) continue;
    const at = m[1].lastIndexOf('  (');
    if (at > 0) out.set(`${type}/${m[1].slice(0, at)}`, parseAttribution(m[1].slice(at + 3)));
  }
  return out;
}

/** The managers of an attribution as a list, `unknown` being one of them (the API's form). */
export function managerList(a: Attribution): { manager: string; operation?: string; time?: string }[] {
  return a.unknown || !a.managers.length ? [...a.managers, { manager: 'unknown' }] : a.managers;
}
