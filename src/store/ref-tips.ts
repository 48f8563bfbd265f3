// Every ref's target, as `git commit-graph write --reachable` starts from them: loose refs under refs/ and the
// packed ones (their peeled lines too), symbolic refs followed; what a ref names is not checked here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRef } from './refs.ts';

export async function listRefTips(gitdir: string): Promise<Set<string>> {
  const tips = new Set<string>();
  const hex = /^[0-9a-f]{40}$/;
  try {
    for (const line of readFileSync(join(gitdir, 'packed-refs'), 'latin1').split('\n')) {
      const oid = line.replace(/^\^/, '').slice(0, 40);
      if (hex.test(oid)) tips.add(oid);
    }
  } catch { /* no packed refs */ }
  const walk = async (dir: string, ref: string): Promise<void> => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${ref}/${entry.name}`);
      else if (entry.isFile() && !entry.name.endsWith('.lock') && !entry.name.startsWith('.')) {
        const text = readFileSync(join(dir, entry.name), 'latin1').trim();
        const oid = hex.test(text) ? text : text.startsWith('ref: ') ? await readRef(gitdir, `${ref}/${entry.name}`) : undefined;
        if (oid) tips.add(oid);
      }
    }
  };
  await walk(join(gitdir, 'refs'), 'refs');
  return tips;
}
