// The built-in noise and redaction rules, by the name that switches each set off (`defaultIgnoreFields.leaderElection: false`).
// Data only: README "Noise and redaction rules" lists the same sets.
import type { DefaultIgnoreFields, DefaultIgnoreObjects, DefaultRedactFields, FieldRule, ObjectRule } from '../config/types.ts';

const POD_SPECS = ['spec', 'spec.template.spec', 'spec.jobTemplate.spec.template.spec'];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
/** Env names whose values are credentials (matched ignoring case). */
export const SECRET_ENV_NAMES = '*PASSWORD*|*PASSWD*|*TOKEN*|*SECRET*|*CREDENTIAL*|*_KEY';

export const DEFAULT_IGNORE_OBJECTS: Record<keyof DefaultIgnoreObjects, ObjectRule[]> = {
  // Rewritten by cluster-autoscaler every few seconds with its current view of node groups: status, not configuration.
  clusterAutoscalerStatus: [{ type: 'core.v1.ConfigMap', namespace: 'kube-system', name: 'cluster-autoscaler-status' }],
};

export const DEFAULT_IGNORE_FIELDS: Record<keyof DefaultIgnoreFields, FieldRule[]> = {
  // Annotation-based leader election (ConfigMaps, Endpoints): the holder renews it every few seconds.
  leaderElection: [{ type: '*', paths: ['metadata.annotations["control-plane.alpha.kubernetes.io/leader"]'] }],
  // `creationTimestamp: null` in embedded templates comes and goes with whichever client (typed Go or YAML) wrote last.
  templateCreationTimestamp: [{
    type: '*',
    paths: ['spec.template.metadata.creationTimestamp', 'spec.jobTemplate.metadata.creationTimestamp',
      'spec.jobTemplate.spec.template.metadata.creationTimestamp', 'spec.volumeClaimTemplates[*].metadata.creationTimestamp'],
  }],
  // autoscaling/v1 HorizontalPodAutoscalers carry the v2 status as annotations, rewritten at every evaluation.
  autoscalerStatus: [{
    type: '*',
    paths: ['metadata.annotations["autoscaling.alpha.kubernetes.io/conditions"]', 'metadata.annotations["autoscaling.alpha.kubernetes.io/current-metrics"]'],
  }],
  // The TTL controller sets it from the cluster's size: it changes whenever nodes come and go.
  nodeTTL: [{ type: 'core.v1.Node', paths: ['metadata.annotations["node.alpha.kubernetes.io/ttl"]'] }],
  // Requests to a GitOps controller to act now, set and cleared again: not configuration.
  reconcileRequests: [
    { type: '*', paths: ['metadata.annotations["reconcile.fluxcd.io/requestedAt"]', 'metadata.annotations["argocd.argoproj.io/refresh"]'] },
    { type: 'argoproj.io.*.Application', paths: ['operation'] },
  ],
};

export const DEFAULT_REDACT_FIELDS: Record<keyof DefaultRedactFields, FieldRule[]> = {
  // Container env values whose names say they are credentials, in Pods, pod templates and CronJob templates, of any type.
  envSecrets: [{
    type: '*',
    paths: POD_SPECS.flatMap((spec) => CONTAINER_LISTS.map((list) => `${spec}.${list}[*].env[name="${SECRET_ENV_NAMES}"].value`)),
  }],
  // Helm values given inline to GitOps controllers often hold passwords.
  helmValues: [
    { type: 'helm.toolkit.fluxcd.io.*.HelmRelease', paths: ['spec.values'] },
    { type: 'argoproj.io.*.Application', paths: ['spec.source.helm.values', 'spec.source.helm.valuesObject', 'spec.sources[*].helm.values', 'spec.sources[*].helm.valuesObject'] },
    { type: 'helm.cattle.io.*.HelmChart', paths: ['spec.valuesContent', 'spec.set'] },
    { type: 'helm.cattle.io.*.HelmChartConfig', paths: ['spec.valuesContent'] },
  ],
  // Helm releases stored in ConfigMaps (Helm 3's configmap driver, Helm 2's Tiller) hold the chart and full values.
  helmReleaseConfigMaps: [
    { type: 'core.v1.ConfigMap', labelSelector: 'owner=helm', paths: ['data.*'] },
    { type: 'core.v1.ConfigMap', labelSelector: 'OWNER=TILLER', paths: ['data.*'] },
  ],
};
