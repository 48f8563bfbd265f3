// Stands in for client-node's generated typed API clients (see lean-client-node.ts): KubeConfig refers to
// them only in makeApiClient, which kubetrail never calls.
const unused = (): never => {
  throw new Error('client-node typed API clients are not loaded in kubetrail (see src/runtime/lean-client-node.ts)');
};
export const createConfiguration = unused;
export class ServerConfiguration {
  constructor() {
    unused();
  }
}
