// A field-level diff side by side: one row per changed field, the older value left, the newer right.
import { html } from 'hono/html';
import type { ObjectDiff } from '../history/diff.ts';
import { valueText } from './format.ts';
import type { Html } from './layout.ts';

export interface DiffRow { path: string; change: 'added' | 'removed' | 'updated'; from?: unknown; to?: unknown }

/** Pure: the diff's fields in path order, so a field's rows stay where a reader looks for them. */
export function diffRows(diff: ObjectDiff): DiffRow[] {
  return [
    ...diff.updated.map((u) => ({ path: u.path, change: 'updated' as const, from: u.from, to: u.to })),
    ...diff.added.map((a) => ({ path: a.path, change: 'added' as const, to: a.value })),
    ...diff.removed.map((r) => ({ path: r.path, change: 'removed' as const, from: r.value })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const cell = (side: 'from' | 'to', label: string, present: boolean, value: unknown) =>
  html`<td class="${side}" data-label="${label}">${present ? html`<pre>${valueText(value)}</pre>` : html`<span class="absent">absent</span>`}</td>`;

/** `fromLabel` / `toLabel` name the two versions (`a1b2c3d4, 2026-12-01 10:00 UTC`) in the header and on a phone. */
export function diffTable(diff: ObjectDiff, fromLabel: string, toLabel: string): Html {
  const rows = diffRows(diff);
  if (!rows.length) return html`<p>These two versions hold the same fields.</p>`;
  return html`<div class="scroll" role="region" aria-label="Field differences" tabindex="0">
<table class="diff">
<caption>${rows.length} changed field${rows.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Field</th><th scope="col">From: ${fromLabel}</th><th scope="col">To: ${toLabel}</th></tr></thead>
<tbody>
${rows.map((r) => html`<tr class="${r.change}"><th scope="row"><code>${r.path}</code> <span class="muted">${r.change}</span></th>${cell('from', `From: ${fromLabel}`, r.change !== 'added', r.from)}${cell('to', `To: ${toLabel}`, r.change !== 'removed', r.to)}</tr>\n`)}
</tbody>
</table>
</div>`;
}
