#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --heap-growing-percent=50
// The kubetrail executable. client-node is set up to load lean before anything imports it, which is why the
// command line itself is imported dynamically (see runtime/lean-client-node.ts).
import './runtime/compile-cache.ts';
import './runtime/lean-client-node.ts';

await import('./command-line.ts');
