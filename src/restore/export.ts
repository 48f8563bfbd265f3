// Pure: recorded objects → apply-ready manifests in dependency order. Server-set fields go (server-fields.ts),
// redacted Secrets are left out and reported: their recorded values are digests, never the values. Secrets sealed
// with SOPS (secrets.mode: sops) are kept apart: applyable only once decrypted (read-export.ts decrypts them).
import { isSopsSealed } from '../secrets/sops.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { toYaml } from '../snapshot/serialize.ts';
import { applyOrder, stageOf, type Stage } from './order.ts';
import { ownerKey, stripServerFields } from './server-fields.ts';

export interface ExportInput { type: string; namespace?: string; name: string; object: KubeObject }

export interface ExportedObject extends ExportInput { stage: Stage; manifest: KubeObject }

export const NOT_RESTORABLE_REDACTED = 'not restorable (redacted)';

export interface NotRestorable { type: string; namespace?: string; name: string; reason: typeof NOT_RESTORABLE_REDACTED }

/** `sealed`: SOPS-encrypted Secrets, server fields stripped, still sealed (`sops --decrypt` opens them). */
export interface ExportPlan { objects: ExportedObject[]; notRestorable: NotRestorable[]; sealed: ExportedObject[] }

const REDACTED = /^hmac-sha256:[0-9a-f]{64}$/;
const CRD_TYPE = /^apiextensions\.k8s\.io\.[^.]+\.CustomResourceDefinition$/;

const isSecretType = (type: string) => /^core\.[^.]+\.Secret$/.test(type);

/** A Secret whose recorded values (or last-applied annotation) are HMAC digests: applying it would store the digests. */
export function isRedactedSecret(type: string, obj: KubeObject): boolean {
  if (!isSecretType(type)) return false;
  const values = [obj.data, obj.stringData].flatMap((m) => (m && typeof m === 'object' ? Object.values(m as Record<string, unknown>) : []));
  const annotations = obj.metadata?.annotations as Record<string, unknown> | undefined;
  return [...values, ...Object.values(annotations ?? {})].some((v) => typeof v === 'string' && REDACTED.test(v));
}

/** The API groups the recorded CRDs define (their objects are custom resources, applied last). */
export function customGroupsOf(objects: ExportInput[]): Set<string> {
  return new Set(objects.filter((o) => CRD_TYPE.test(o.type))
    .map((o) => (o.object.spec as { group?: unknown } | undefined)?.group).filter((g): g is string => typeof g === 'string'));
}

export function planExport(objects: ExportInput[], customGroups: ReadonlySet<string> = customGroupsOf(objects)): ExportPlan {
  const notRestorable: NotRestorable[] = [];
  const kept = objects.filter((o) => {
    if (!isRedactedSecret(o.type, o.object)) return true;
    notRestorable.push({ type: o.type, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), name: o.name, reason: NOT_RESTORABLE_REDACTED });
    return false;
  });
  const owners = new Set(kept.map((o) => ownerKey(o.object.apiVersion, o.object.kind, o.namespace, o.name)));
  const exported = (key: string) => owners.has(key);
  const planned = applyOrder(kept, customGroups).map((o) => ({
    ...o, stage: stageOf(o.type, o.namespace !== undefined, customGroups), manifest: stripServerFields(o.object, o.type, exported),
  }));
  // SOPS's MAC covers only the encrypted values (mac_only_encrypted): stripping server fields keeps a file it opens.
  const sealed = (o: ExportedObject) => isSecretType(o.type) && isSopsSealed(o.object);
  return { objects: planned.filter((o) => !sealed(o)), notRestorable, sealed: planned.filter(sealed) };
}

/** One multi-document YAML stream, in apply order. */
export function manifestStream(objects: ExportedObject[]): string {
  return objects.map((o) => `---\n${toYaml(o.manifest)}`).join('');
}

/**
 * One file per stage, named so that `kubectl apply -f DIR` (which reads a directory in name order) applies the
 * stages in order: `1-crds.yaml`, `2-namespaces.yaml`, …, `7-custom-resources.yaml`.
 */
export function stageFiles(objects: ExportedObject[]): { file: string; yaml: string; objects: number }[] {
  const byStage = new Map<string, { file: string; list: ExportedObject[] }>();
  for (const o of objects) {
    const file = `${o.stage.rank}-${o.stage.name}.yaml`;
    if (!byStage.has(file)) byStage.set(file, { file, list: [] });
    byStage.get(file)!.list.push(o);
  }
  return [...byStage.values()].map(({ file, list }) => ({ file, yaml: manifestStream(list), objects: list.length }));
}
