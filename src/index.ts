// Public library entry point.
export { createKubetrail, SyncInProgressError, type Kubetrail, type ClusterInfo } from './kubetrail.ts';
export { loadConfig } from './config/load.ts';
export { validateConfig } from './config/validate.ts';
export { ConfigError } from './config/errors.ts';
export type { Config, ClusterConfig } from './config/types.ts';
export type { SyncResult } from './sync/result.ts';
export type { ObjectDiff } from './history/diff.ts';
export { diffObjects } from './history/diff.ts';
export { RequestError } from './errors.ts';
