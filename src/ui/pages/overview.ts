// The cluster overview: per cluster, its objects by type, its last commit and, in a daemon, its last sync.
import { html } from 'hono/html';
import type { ClusterInfo } from '../../kubetrail.ts';
import type { ForgeLinks } from '../forge-links.ts';
import { clusterUrl, shortCommit, timelineUrl, when } from '../format.ts';
import type { Html } from '../layout.ts';

export interface ClusterOverview { info: ClusterInfo; types: { type: string; objects: number }[] }

function status(info: ClusterInfo): Html {
  const s = info.lastSync;
  if (!s) return html`<span class="muted">no sync by this server yet</span>`;
  return html`<span class="status-${s.status}">${s.status}</span> at <time datetime="${s.time}">${when(s.time)}</time>
    (+${s.added} ~${s.changed} -${s.deleted}, ${Math.round(s.durationMs)} ms)${s.error ? html`: <span class="error">${s.error}</span>` : ''}`;
}

function card(o: ClusterOverview, forge: ForgeLinks | undefined): Html {
  const { info, types } = o;
  const total = types.reduce((n, t) => n + t.objects, 0);
  const pr = forge?.clusterPullRequest(info.id);
  return html`<section class="card" aria-labelledby="cluster-${info.id}">
<h2 id="cluster-${info.id}"><a href="${clusterUrl(info.id)}">${info.name}</a> <span class="muted">${info.id}</span></h2>
${Object.keys(info.tags).length ? html`<ul class="tags" aria-label="Tags">${Object.entries(info.tags).map(([k, v]) => html`<li>${k}=${v}</li>`)}</ul>` : ''}
<dl>
<dt>Last sync</dt><dd>${status(info)}</dd>
<dt>Last commit</dt><dd>${info.lastCommit
    ? html`<time datetime="${info.lastCommit.time}">${when(info.lastCommit.time)}</time> <code>${shortCommit(info.lastCommit.commit)}</code> ${info.lastCommit.subject}${forge ? html` · <a href="${forge.commit(info.lastCommit.commit)}">on the forge</a>` : ''}`
    : html`<span class="muted">nothing recorded</span>`}</dd>
${pr ? html`<dt>Review</dt><dd><a href="${pr}">pull request branch</a></dd>` : ''}
</dl>
<div class="scroll" role="region" aria-label="Objects of ${info.id} by type" tabindex="0">
<table>
<caption>${total} object${total === 1 ? '' : 's'} in ${types.length} type${types.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Type</th><th scope="col" class="num">Objects</th></tr></thead>
<tbody>${types.map((t) => html`<tr><th scope="row"><a href="${clusterUrl(info.id, { type: t.type })}">${t.type}</a></th><td class="num">${t.objects}</td></tr>`)}</tbody>
</table>
</div>
<p><a href="${timelineUrl({ cluster: info.id })}">Timeline of ${info.id}</a></p>
</section>`;
}

export function overviewBody(clusters: ClusterOverview[], forge: ForgeLinks | undefined): Html {
  if (!clusters.length) return html`<p>No clusters are configured.</p>`;
  return html`<div class="cards">${clusters.map((c) => card(c, forge))}</div>`;
}
