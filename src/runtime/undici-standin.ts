// Stands in for undici in client-node's config module (see lean-client-node.ts): KubeConfig uses it only to make
// fetch dispatchers for its typed API clients; kubetrail's requests go through node:https.
const unused = (): never => {
  throw new Error('undici is not loaded in kubetrail (see src/runtime/lean-client-node.ts)');
};
export class Agent {
  constructor() {
    unused();
  }
}
export class ProxyAgent extends Agent {}
