// The shape of a Kubernetes object as kubetrail reads, normalizes and records it: shared by kube/, snapshot/ and sync/.
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; ownerReferences?: { controller?: boolean }[]; [k: string]: unknown };
};
