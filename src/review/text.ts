// Pure: the text of a cluster's pull request (title, body with hidden markers, comments), within GitHub's limits.
import type { FileChanges } from '../store/files.ts';
import { parseTypeName } from '../model/type-name.ts';
import type { MassDeletion } from '../sync/result.ts';

/** GitHub refuses a PR body or comment longer than this (characters). */
export const BODY_LIMIT = 65_536;

/** The body begins with it: how a PR is recognized as this cluster's, whatever its branch is called. */
export const clusterMarker = (clusterId: string) => `<!-- kubetrail:cluster=${clusterId} -->`;

/** Records the state a PR proposes (the cluster's subtree id), so a PR closed unmerged names the state it rejected. */
export const treeMarker = (tree: string) => `<!-- kubetrail:tree=${tree} -->`;

export function markedCluster(body: string): string | undefined {
  return body.match(/^<!-- kubetrail:cluster=([^\s>]+) -->/)?.[1];
}

export function markedTree(body: string): string | undefined {
  return body.match(/<!-- kubetrail:tree=([0-9a-f]{40,64}) -->/)?.[1];
}

export const shortSha = (sha: string) => sha.slice(0, 7);

export function prTitle(clusterId: string, changes: FileChanges, baseHead: string): string {
  return `${clusterId}: +${changes.added.length} ~${changes.changed.length} -${changes.deleted.length} since ${shortSha(baseHead)}`;
}

export type Flag = 'RBAC' | 'Secrets' | 'CRDs' | 'admission webhooks' | 'mass deletion';

interface Entry { mark: '+' | '~' | '-'; type: string; namespace: string; name: string }

/** `apps.v1.Deployment/shop/checkout.yaml` → its type, namespace directory and name. */
function entriesOf(changes: FileChanges): Entry[] {
  const entry = (mark: Entry['mark']) => (p: string): Entry => {
    const [type = '', namespace = '', ...rest] = p.split('/');
    return { mark, type, namespace, name: rest.join('/').replace(/\.yaml$/, '') };
  };
  return [...changes.added.map(entry('+')), ...changes.changed.map(entry('~')), ...changes.deleted.map(entry('-'))]
    .sort((a, b) => (a.type + '/' + a.namespace + '/' + a.name < b.type + '/' + b.namespace + '/' + b.name ? -1 : 1));
}

/** Which reviewer-relevant kinds of change the PR holds. */
export function flagsFor(changes: FileChanges, o: { massDeletion?: MassDeletion } = {}): Flag[] {
  const types = new Set(entriesOf(changes).map((e) => parseTypeName(e.type)).filter((t) => t !== undefined));
  const has = (f: (g: string, k: string) => boolean) => [...types].some((t) => f(t.group, t.kind));
  const flags: Flag[] = [];
  if (has((g) => g === 'rbac.authorization.k8s.io')) flags.push('RBAC');
  if (has((g, k) => g === 'core' && k === 'Secret')) flags.push('Secrets');
  if (has((g, k) => g === 'apiextensions.k8s.io' && k === 'CustomResourceDefinition')) flags.push('CRDs');
  if (has((g) => g === 'admissionregistration.k8s.io')) flags.push('admission webhooks');
  if (o.massDeletion) flags.push('mass deletion');
  return flags;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('`', "'");
const objectLine = (e: Entry) => `- \`${e.mark}\` ${cell(e.type)} ${e.namespace === '_cluster' ? '' : `${cell(e.namespace)}/`}${cell(e.name)}`;

/** Adds lines while they fit in `limit`, then one "… and N more" line for the rest. */
function fitLines(head: string, lines: string[], tail: string, limit: number): string {
  const reserve = `\n… and ${lines.length} more\n`.length + tail.length + 1;
  let text = head;
  let i = 0;
  for (; i < lines.length; i++) {
    if (text.length + lines[i].length + 1 + reserve > limit) break;
    text += `${lines[i]}\n`;
  }
  if (i < lines.length) text += `… and ${lines.length - i} more\n`;
  return `${text}${tail}`;
}

export interface BodyInput {
  clusterId: string;
  /** The cluster's subtree id the PR proposes. */
  tree: string;
  /** The branch's changes against base, paths relative to `clusters/<id>/`. */
  changes: FileChanges;
  firstObserved: Date;
  lastObserved: Date;
  compareUrl: string;
  /** Set when the PR holds a mass deletion kubetrail would have refused without pull requests. */
  massDeletion?: MassDeletion;
  limit?: number;
}

/** Says plainly what a reviewer decides: the deletions are held here because kubetrail would have refused them. */
export function massDeletionNotice(m: MassDeletion): string {
  return `> **Mass deletion.** This state deletes ${m.deleted} of the ${m.recorded} objects recorded on the base branch ` +
    `(more than maxDeletePercent ${m.maxDeletePercent}%). Without pull requests kubetrail would have refused it; it is held ` +
    'here and the base branch is unchanged. Merge to accept the deletions, close without merging to reject them.';
}

export function prBody(b: BodyInput): string {
  const entries = entriesOf(b.changes);
  const rows = new Map<string, { type: string; namespace: string; '+': number; '~': number; '-': number }>();
  for (const e of entries) {
    const key = `${e.type}\n${e.namespace}`;
    const row = rows.get(key) ?? { type: e.type, namespace: e.namespace, '+': 0, '~': 0, '-': 0 };
    row[e.mark]++;
    rows.set(key, row);
  }
  const flags = flagsFor(b.changes, { massDeletion: b.massDeletion });
  const head = [
    clusterMarker(b.clusterId),
    treeMarker(b.tree),
    `Changes observed in cluster **${b.clusterId}** that are not on the base branch yet.`,
    '',
    ...(b.massDeletion ? [massDeletionNotice(b.massDeletion), ''] : []),
    `- first observed: ${b.firstObserved.toISOString()}`,
    `- last observed: ${b.lastObserved.toISOString()}`,
    `- flags: ${flags.length ? flags.map((f) => `**${f}**`).join(', ') : 'none'}`,
    `- compare: ${b.compareUrl}`,
    '',
    '| type | namespace | added | changed | deleted |',
    '|---|---|---:|---:|---:|',
    '',
  ].join('\n');
  const table = [...rows.values()].map((r) => `| ${cell(r.type)} | ${cell(r.namespace)} | ${r['+']} | ${r['~']} | ${r['-']} |`);
  // The table first, then one line per object: when the cap bites, the per-object lines go first.
  const limit = b.limit ?? BODY_LIMIT;
  const withTable = fitLines(head, table, '', limit);
  if (withTable.includes('\n… and ')) return withTable;
  return fitLines(`${withTable}\n<details><summary>${entries.length} objects</summary>\n\n`, entries.map(objectLine), '\n</details>\n', limit);
}

/** A comment listing only what changed since the previous observation (the branch's previous commit). */
export function changesComment(
  clusterId: string, sinceLast: FileChanges, observedAt: Date, o: { limit?: number; massDeletion?: MassDeletion } = {},
): string {
  const entries = entriesOf(sinceLast);
  const head = `New in **${clusterId}** since the last comment (observed ${observedAt.toISOString()}): ` +
    `+${sinceLast.added.length} ~${sinceLast.changed.length} -${sinceLast.deleted.length}\n\n` +
    (o.massDeletion ? `${massDeletionNotice(o.massDeletion)}\n\n` : '');
  const limit = o.limit ?? BODY_LIMIT;
  return fitLines(head, entries.map(objectLine), '', limit);
}

export function revertedComment(clusterId: string, observedAt: Date): string {
  return `The cluster **${clusterId}** is back to the base branch's state (observed ${observedAt.toISOString()}): closing, and deleting the branch.`;
}

export function supersededComment(clusterId: string, observedAt: Date): string {
  return `The cluster **${clusterId}** no longer differs from the base branch in guarded types (observed ${observedAt.toISOString()}); ` +
    'its routine changes went to the base branch directly. Closing.';
}

export function foreignPushComment(clusterId: string, branch: string, head: string): string {
  return `kubetrail did not update **${clusterId}**: \`${branch}\` is at ${shortSha(head)}, a commit kubetrail did not push. ` +
    'It leaves the branch as it is; delete the branch or reset it to kubetrail\'s last commit to let kubetrail continue.';
}
