// The machine-readable trailers of kubetrail's commit messages: written by sync, read by push replay and history.
export interface CommitTrailers {
  cluster: string;
  added: number;
  changed: number;
  deleted: number;
  failedTypes: string[];
  /** Objects per field manager (`helm=3, kubectl-edit=1, unknown=1`), when attribution was read. */
  managers?: string;
  /** `alice (kubectl/v1.37.2) apps.v1.Deployment shop/checkout`: a user the audit log names for exactly this write. */
  changedBy?: string[];
}

/** The trailer block, one `Key: value` per line, no trailing newline. */
export function formatTrailers(t: CommitTrailers): string {
  return [
    `Kubetrail-Cluster: ${t.cluster}`,
    `Kubetrail-Added: ${t.added}`,
    `Kubetrail-Changed: ${t.changed}`,
    `Kubetrail-Deleted: ${t.deleted}`,
    `Kubetrail-Failed-Types: ${t.failedTypes.length ? t.failedTypes.join(', ') : 'none'}`,
    ...(t.managers ? [`Kubetrail-Managers: ${t.managers}`] : []),
    ...(t.changedBy ?? []).map((line) => `Kubetrail-Changed-By: ${line}`),
  ].join('\n');
}

/** The cluster a commit recorded, or undefined when it is not kubetrail's (a person's commit). */
export function clusterOfCommit(message: string): string | undefined {
  return message.match(/^Kubetrail-Cluster: (.+)$/m)?.[1];
}

/** A PR-branch commit's base: the base-branch commit its branch starts from (pull-request mode). */
export function baseOfCommit(message: string): string | undefined {
  return message.match(/^Kubetrail-Base: (\S+)$/m)?.[1];
}

/** The message with a `Kubetrail-Base` trailer added to its trailer block. */
export function withBaseTrailer(message: string, base: string): string {
  return `${message.replace(/\n+$/, '')}\nKubetrail-Base: ${base}\n`;
}
