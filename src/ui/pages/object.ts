// One object: its versions (the commits that added, changed or deleted it) and a side-by-side diff of two of them.
import { html } from 'hono/html';
import type { ObjectDiff } from '../../history/diff.ts';
import type { Version } from '../../history/queries.ts';
import { diffTable } from '../diff-view.ts';
import type { ForgeLinks } from '../forge-links.ts';
import { objectUrl, shortCommit, timelineUrl, when, type UiObjectRef } from '../format.ts';
import type { Html } from '../layout.ts';

export interface ObjectView {
  ref: UiObjectRef; versions: Version[]; limited: boolean;
  /** The two versions compared (commit ids), and their diff; absent with fewer than two versions. */
  compared?: { from: string; to: string; diff: ObjectDiff };
  /** The stored YAML at the newer compared version (absent when that version deleted it). */
  yaml?: string;
}

const label = (v: Version | undefined, commit: string) => (v ? `${shortCommit(commit)}, ${when(v.time)}` : shortCommit(commit));

function versionRow(v: Version, view: ObjectView, forge: ForgeLinks | undefined): Html {
  const c = view.compared;
  const id = `v-${v.commit}`;
  return html`<tr>
<td><input type="radio" name="from" value="${v.commit}" id="from-${id}" aria-labelledby="from-h ${id}"${c?.from === v.commit ? html` checked` : ''}></td>
<td><input type="radio" name="to" value="${v.commit}" id="to-${id}" aria-labelledby="to-h ${id}"${c?.to === v.commit ? html` checked` : ''}></td>
<th scope="row" id="${id}"><time datetime="${v.time}">${when(v.time)}</time> <code>${shortCommit(v.commit)}</code></th>
<td>${v.kind}</td>
<td>${v.managers?.map((m) => m.manager).join(', ') ?? ''}</td>
<td>${v.subject}${forge ? html` · <a href="${forge.commit(v.commit)}">forge</a>` : ''}</td>
</tr>`;
}

export function objectBody(view: ObjectView, forge: ForgeLinks | undefined): Html {
  const { ref, versions, compared } = view;
  const byCommit = new Map(versions.map((v) => [v.commit, v]));
  return html`<p class="muted">${ref.type} in cluster ${ref.clusterId} · <a href="${timelineUrl({ cluster: ref.clusterId, type: ref.type, namespace: ref.namespace, name: ref.name })}">on the timeline</a></p>
<h2 id="versions-h">Versions</h2>
<form method="get" action="${objectUrl(ref)}" aria-labelledby="versions-h">
<div class="scroll" role="region" aria-label="Versions, newest first" tabindex="0">
<table class="versions">
<caption>${versions.length}${view.limited ? '+' : ''} version${versions.length === 1 ? '' : 's'}, newest first: pick one to compare from and one to compare to</caption>
<thead><tr><th scope="col" id="from-h">From</th><th scope="col" id="to-h">To</th><th scope="col">Commit</th><th scope="col">Change</th><th scope="col">Managers</th><th scope="col">Subject</th></tr></thead>
<tbody>${versions.map((v) => versionRow(v, view, forge))}</tbody>
</table>
</div>
<p><button type="submit">Compare</button></p>
</form>
${compared ? html`<h2 id="diff-h">Changes from <code>${shortCommit(compared.from)}</code> to <code>${shortCommit(compared.to)}</code></h2>
<section aria-labelledby="diff-h">${diffTable(compared.diff, label(byCommit.get(compared.from), compared.from), label(byCommit.get(compared.to), compared.to))}</section>` : ''}
${view.yaml !== undefined ? html`<details><summary>The object as stored at ${compared ? shortCommit(compared.to) : 'its newest version'}</summary><pre>${view.yaml}</pre></details>` : ''}`;
}
