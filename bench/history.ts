// Builds a long history on top of a synced repository: each commit changes a few objects (one of them the measured
// object every tenth commit), the way a busy cluster's history looks. Used by bench/run.ts for API latency.
import { Repo } from '../src/store/repo.ts';
import { clusterPrefix } from '../src/model/object-path.ts';
import { commitClusterTree } from '../src/sync/sync.ts';

export async function buildHistory(repoDir: string, clusterId: string, commits: number, watched: string): Promise<void> {
  const repo = await Repo.open(repoDir);
  const head = (await repo.head())!;
  const subtreeOf = async (commit: string) => repo.entryAt((await repo.readCommit(commit)).tree, clusterPrefix(clusterId));
  let tree = await subtreeOf(head);
  const files = await repo.listFiles(tree);
  const paths = [...files.keys()].filter((p) => p.startsWith('core.v1.ConfigMap/'));
  const start = Math.floor(Date.now() / 1000) - commits * 60;
  for (let i = 0; i < commits; i++) {
    const changed = i % 10 === 0 ? [watched, ...paths.slice(i % 97, i % 97 + 2)] : paths.slice((i * 7) % (paths.length - 3), (i * 7) % (paths.length - 3) + 3);
    const previous = new Map(files);
    for (const p of changed) {
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${p.split('/').pop()!.replace(/\.yaml$/, '')}\ndata:\n  revision: "${i}"\n`;
      files.set(p, await repo.writer.write('blob', Buffer.from(yaml)));
    }
    const commit = await commitClusterTree(repo, clusterId, files, {
      message: `${clusterId}: +0 ~${changed.length} -0\n\nKubetrail-Cluster: ${clusterId}\n`,
      author: { name: 'bench', email: 'bench@localhost' }, time: new Date((start + i * 60) * 1000),
      previous: { files: previous, tree, changed },
    });
    tree = await subtreeOf(commit);
  }
}
