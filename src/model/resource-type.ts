// A readable type of a cluster as discovery reports it: what list, read and selection work on.
export interface ResourceType {
  name: string; // `apps.v1.Deployment`, `core.v1.ConfigMap`
  group: string; // '' for core
  version: string;
  kind: string;
  resource: string; // plural, as in the URL
  namespaced: boolean;
  /** URL path of the list endpoint for all namespaces. */
  listPath: string;
  /**
   * Why this type cannot be read: discovery reported a group, version, Kind or resource that cannot be a
   * directory or URL segment (an aggregated API may report any string). Such a type is kept so that its
   * reading fails with this reason (a failed type) instead of disappearing; `name` is then a safe display.
   */
  invalid?: string;
}
