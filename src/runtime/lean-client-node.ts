// Loads client-node without the parts kubetrail never runs. We use its KubeConfig (kubeconfig loading, auth)
// and send every request ourselves, but its config module imports the generated typed API clients (25 MB of
// JavaScript, 1,000 modules) and undici (for fetch) at load time: ~58 MB of a sync's memory and 300 ms of its
// start. Imported before anything that imports client-node (the graph is resolved before it runs, so entry
// points import the rest dynamically), this hands config.js two small stand-ins that fail loudly if used.
// Without module hooks (older Node) everything loads as usual: same behaviour, more memory.
import nodeModule from 'node:module';

const CONFIG_MODULE = '/@kubernetes/client-node/dist/config.js';
const STANDINS: Record<string, string> = {
  './gen/index.js': 'typed-api-standin.ts',
  undici: 'undici-standin.ts',
};

const registerHooks = (nodeModule as { registerHooks?: typeof nodeModule.registerHooks }).registerHooks;
if (typeof registerHooks === 'function') {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const standin = STANDINS[specifier];
      if (standin && context.parentURL?.endsWith(CONFIG_MODULE)) {
        return { url: new URL(standin, import.meta.url).href, shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}
