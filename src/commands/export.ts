// `kubetrail export`: the recorded state of a cluster at a commit or time as manifests `kubectl apply` takes.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.ts';
import { RequestError } from '../errors.ts';
import { manifestStream, stageFiles, type NotRestorable } from '../restore/export.ts';
import { exportRecorded } from '../restore/read-export.ts';
import { openRepoToRead } from './open-repo.ts';
import { UsageError } from './usage.ts';
import { ageIdentitiesFromEnv } from '../secrets/age.ts';
import { toYaml } from '../snapshot/serialize.ts';

export interface ExportOptions {
  config: Config;
  clusterId: string;
  at?: string;
  type?: string;
  namespace?: string;
  /** A directory, or `-` (default) for stdout. */
  output?: string;
  json?: boolean;
  /** Decrypt SOPS-sealed Secrets with the age keys of SOPS_AGE_KEY_FILE / SOPS_AGE_KEY. */
  decrypt?: boolean;
}

const STAGE_FILE = /^\d+-[a-z-]+\.yaml$/;
const describe = (o: { type: string; namespace?: string; name: string }) => `${o.type} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

export async function exportCommand(o: ExportOptions): Promise<number> {
  const toStdout = o.output === undefined || o.output === '-';
  if (o.json && toStdout) throw new UsageError('--json prints the report on stdout: give -o DIR for the manifests');
  const identities = o.decrypt ? ageIdentitiesFromEnv(process.env) : undefined;
  if (identities && !identities.length) throw new UsageError('--decrypt needs the age key: set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY)');
  const reader = await openRepoToRead(o.config);
  let plan;
  try {
    plan = await exportRecorded(reader, o.clusterId, o.at, { type: o.type, namespace: o.namespace }, identities);
  } catch (e) {
    if (e instanceof RequestError && e.status === 400) throw new UsageError(e.message);
    throw e;
  }
  if (!plan.commit) throw new Error(`nothing recorded${o.at ? ` at or before ${o.at}` : ''} in ${o.config.repo}`);
  if (!plan.clusterRecorded) throw new Error(`cluster ${o.clusterId} has no recorded state at commit ${plan.commit.slice(0, 10)} in ${o.config.repo}`);
  reportNotRestorable(plan.notRestorable);
  if (toStdout) {
    for (const s of plan.sealed) console.error(`kubetrail: sealed with SOPS, not in the stream: ${describe(s)} (export with --decrypt, or -o DIR to write it for sops --decrypt)`);
    process.stdout.write(manifestStream(plan.objects));
    return 0;
  }
  const files = stageFiles(plan.objects);
  mkdirSync(o.output!, { recursive: true });
  // An earlier export's stage that this one does not have would otherwise be applied with it.
  for (const old of readdirSync(o.output!)) if (STAGE_FILE.test(old) && !files.some((f) => f.file === old)) rmSync(join(o.output!, old));
  for (const f of files) writeFileSync(join(o.output!, f.file), f.yaml);
  // Sealed Secrets in a directory of their own (kubectl apply -f DIR does not descend): `sops --decrypt` each.
  const sealedDir = join(o.output!, 'sops-sealed');
  rmSync(sealedDir, { recursive: true, force: true });
  const sealed = plan.sealed.map((s) => ({ type: s.type, namespace: s.namespace, name: s.name, file: join('sops-sealed', `${s.namespace ?? '_cluster'}.${s.name}.yaml`) }));
  if (sealed.length) mkdirSync(sealedDir);
  plan.sealed.forEach((s, i) => writeFileSync(join(o.output!, sealed[i].file), toYaml(s.manifest)));
  for (const s of sealed) console.error(`kubetrail: sealed with SOPS: ${describe(s)} in ${join(o.output!, s.file)} (sops --decrypt it, or export with --decrypt)`);
  if (o.json) {
    console.log(JSON.stringify({
      clusterId: o.clusterId, commit: plan.commit, objects: plan.objects.length,
      files: files.map((f) => ({ file: f.file, objects: f.objects })), notRestorable: plan.notRestorable, sealed,
    }, null, 2));
  } else {
    console.log(`${o.clusterId}: ${plan.objects.length} objects from ${plan.commit.slice(0, 10)} in ${files.length} files under ${o.output}`);
  }
  return 0;
}

function reportNotRestorable(list: NotRestorable[]): void {
  for (const n of list) console.error(`kubetrail: ${n.reason}: ${describe(n)} (its recorded values are digests; apply it from its source)`);
}
