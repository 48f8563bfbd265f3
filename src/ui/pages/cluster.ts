// One cluster's recorded objects, filtered by type, namespace and name, a page at a time.
import { html } from 'hono/html';
import { clusterUrl, objectLabel, objectUrl, timelineUrl } from '../format.ts';
import type { Html } from '../layout.ts';

export interface ObjectListing {
  clusterId: string;
  filter: { type?: string; namespace?: string; search?: string };
  types: { type: string; objects: number }[];
  total: number; page: number; limit: number;
  items: { type: string; namespace?: string; name: string }[];
}

export function clusterBody(l: ObjectListing): Html {
  const { clusterId, filter } = l;
  const pages = Math.max(1, Math.ceil(l.total / l.limit));
  const at = (page: number) => clusterUrl(clusterId, { ...filter, page: String(page) });
  return html`<p><a href="${timelineUrl({ cluster: clusterId, type: filter.type, namespace: filter.namespace, name: filter.search })}">Timeline of these objects</a></p>
<form class="filters" method="get" action="${clusterUrl(clusterId)}" role="search" aria-label="Filter objects">
<label>Type <select name="type"><option value="">all types</option>${l.types.map((t) => html`<option value="${t.type}"${t.type === filter.type ? html` selected` : ''}>${t.type} (${t.objects})</option>`)}</select></label>
<label>Namespace <input name="namespace" value="${filter.namespace ?? ''}" autocomplete="off"></label>
<label>Name contains <input name="search" value="${filter.search ?? ''}" autocomplete="off"></label>
<button type="submit">Filter</button>
</form>
<div class="scroll" role="region" aria-label="Objects" tabindex="0">
<table>
<caption>${l.total} object${l.total === 1 ? '' : 's'}${pages > 1 ? `, page ${l.page} of ${pages}` : ''}</caption>
<thead><tr><th scope="col">Object</th><th scope="col">Type</th></tr></thead>
<tbody>${l.items.map((o) => html`<tr><th scope="row"><a href="${objectUrl({ clusterId, ...o })}">${objectLabel(o)}</a></th><td>${o.type}</td></tr>`)}</tbody>
</table>
</div>
<nav class="pager" aria-label="Pages">${l.page > 1 ? html`<a href="${at(l.page - 1)}" rel="prev">Previous page</a>` : ''}${l.page < pages ? html`<a href="${at(l.page + 1)}" rel="next">Next page</a>` : ''}</nav>`;
}
