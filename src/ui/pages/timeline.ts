// The timeline of commits: a time axis of the page's commits, then each commit with its counts by type, the
// managers its objects name, and the objects themselves.
import { html } from 'hono/html';
import type { ForgeLinks } from '../forge-links.ts';
import { objectLabel, objectUrl, shortCommit, timelineUrl, when } from '../format.ts';
import type { Html } from '../layout.ts';
import { bucketName, timeBuckets, type TimelineEntry } from '../timeline-model.ts';

export interface TimelineFilter { cluster?: string; type?: string; namespace?: string; name?: string }

export interface TimelineView {
  filter: TimelineFilter; clusters: string[]; entries: TimelineEntry[];
  /** Where the next page starts; `scanned`: the name filter stopped after that many commits without filling the page. */
  nextCursor?: string; scanned?: number;
}

const OBJECTS_SHOWN = 20;

function chart(entries: TimelineEntry[]): Html {
  const buckets = timeBuckets(entries.map((e) => e.time));
  if (!buckets.length) return html``;
  const max = Math.max(...buckets.map((b) => b.commits));
  const w = Math.max(4, Math.min(24, Math.floor(720 / buckets.length)));
  const width = buckets.length * w;
  const iso = (ms: number) => new Date(ms).toISOString();
  const first = when(iso(buckets[0].start));
  const last = when(iso(buckets[buckets.length - 1].end));
  return html`<figure>
<svg class="chart" viewBox="0 0 ${width} 120" preserveAspectRatio="none" role="img" aria-labelledby="chart-title">
<title id="chart-title">${entries.length} commits from ${first} to ${last}, at most ${max} in one ${bucketName(buckets[0])}</title>
<line class="axis" x1="0" y1="100.5" x2="${width}" y2="100.5"></line>
${buckets.map((b, i) => b.commits ? html`<rect x="${i * w}" y="${100 - Math.round((b.commits / max) * 96)}" width="${Math.max(1, w - 1)}" height="${Math.round((b.commits / max) * 96)}"><title>${when(iso(b.start))}: ${b.commits}</title></rect>` : '')}
</svg>
<figcaption class="muted">Commits on this page per ${bucketName(buckets[0])}: <time datetime="${iso(buckets[0].start)}">${first}</time> to <time datetime="${iso(buckets[buckets.length - 1].end)}">${last}</time></figcaption>
</figure>`;
}

function entry(e: TimelineEntry, forge: ForgeLinks | undefined): Html {
  const pr = forge?.mergedPullRequest(e.subject);
  return html`<li>
<div class="meta"><time datetime="${e.time}">${when(e.time)}</time> <code>${shortCommit(e.commit)}</code> <span>${e.subject}</span>
${forge ? html`<a href="${forge.commit(e.commit)}">commit on the forge</a>` : ''}${pr ? html` <a href="${pr}">pull request</a>` : ''}</div>
<ul class="tags" aria-label="Changes by type">${e.types.map((t) => html`<li>${t.type}: ${[t.added && `+${t.added}`, t.changed && `~${t.changed}`, t.deleted && `-${t.deleted}`].filter(Boolean).join(' ')}</li>`)}</ul>
${e.managers.length ? html`<p class="meta">Managers: ${e.managers.join(', ')}</p>` : ''}
<details><summary>${e.objectsTotal ? `${e.objects.length} of ${e.objectsTotal} objects (counts above are of these)` : `${e.objects.length} object${e.objects.length === 1 ? '' : 's'}`}</summary><ul>
${e.objects.slice(0, OBJECTS_SHOWN).map((o) => html`<li>${o.kind} <a href="${objectUrl(o)}">${o.type} ${objectLabel(o)}</a>${o.managers?.length ? html` <span class="muted">by ${o.managers.map((m) => m.manager).join(', ')}</span>` : ''}</li>`)}
${e.objects.length > OBJECTS_SHOWN ? html`<li class="muted">… and ${e.objects.length - OBJECTS_SHOWN} more</li>` : ''}
</ul></details>
</li>`;
}

export function timelineBody(v: TimelineView, forge: ForgeLinks | undefined): Html {
  const f = v.filter;
  return html`<form class="filters" method="get" action="/ui/timeline" role="search" aria-label="Filter the timeline">
<label>Cluster <select name="cluster"><option value="">all clusters</option>${v.clusters.map((id) => html`<option${id === f.cluster ? html` selected` : ''}>${id}</option>`)}</select></label>
<label>Type <input name="type" value="${f.type ?? ''}" placeholder="apps.v1.Deployment" autocomplete="off"></label>
<label>Namespace <input name="namespace" value="${f.namespace ?? ''}" autocomplete="off"></label>
<label>Name contains <input name="name" value="${f.name ?? ''}" autocomplete="off"></label>
<button type="submit">Filter</button>
</form>
${v.entries.length ? chart(v.entries) : html`<p>No commits match.</p>`}
<ol class="commits" aria-label="Commits, newest first">${v.entries.map((e) => entry(e, forge))}</ol>
${v.scanned ? html`<p class="muted">Looked through ${v.scanned} commits for names containing “${f.name}”.</p>` : ''}
${v.nextCursor ? html`<nav class="pager" aria-label="Pages"><a href="${timelineUrl({ ...f, cursor: v.nextCursor })}" rel="next">Older commits</a></nav>` : ''}`;
}
