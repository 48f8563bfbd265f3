// One push of the commits a repository has above `base` to a remote whose branch is at `base`, in its own process:
// kubetrail's push (send-pack.ts) timed without process start-up, beside a native `git push` of the same commit.
// argv: repository directory, remote URL, base commit. The git token comes from KUBETRAIL_GIT_TOKEN.
import { writeRef } from '../src/store/refs.ts';
import { pushWithRetry } from '../src/store/remote.ts';
import { Repo } from '../src/store/repo.ts';

const [dir, url, base] = process.argv.slice(2);
const repo = await Repo.open(dir);
await writeRef(repo.gitdir, 'refs/kubetrail/remote-head', base); // what the remote has: the push sends the rest
const started = performance.now();
const res = await pushWithRetry(repo, { url, branch: 'main', username: 'x', token: process.env.KUBETRAIL_GIT_TOKEN });
console.log(JSON.stringify({ ms: performance.now() - started, maxRssMB: process.resourceUsage().maxRSS / 1024, attempts: res.attempts, commit: res.commit }));
