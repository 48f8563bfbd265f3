// Pull-request mode against a real Gitea (issue 17, "Done when"): one rolling PR per cluster, no writes when nothing
// changed (counted from Gitea's log), merge / revert / reject / foreign push, wrong token, forge down, concurrent runs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForge, gitWithToken, type Forge } from '../../helpers/forge.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

let forge: Forge;
const work = tempDir('pr');
const R = () => `/repos/${forge.owner}/${forge.repo}`;
const id = (name: string) => `pr-${name}-${runtime}`;

function writeConfig(cluster: string, o: { apiUrl?: string; mode?: string; select?: string[]; repoDir?: string } = {}): string {
  const file = join(work, `${cluster}${o.apiUrl ? '-down' : ''}${o.repoDir ? '-cron' : ''}.yaml`);
  writeFileSync(file, [
    `repo: ${o.repoDir ?? join(work, cluster)}`,
    `remote:`,
    `  url: ${forge.gitUrl}`,
    `  allowInsecureHttp: true`,
    `  pullRequest: {base: main, forge: gitea${o.apiUrl ? `, apiUrl: "${o.apiUrl}"` : ''}${o.mode ? `, mode: ${o.mode}` : ''}, labels: [kubetrail]}`,
    'clusters:',
    `  - id: ${cluster}`,
    `    kubeconfig: ${testenv().KUBECONFIG}`,
    `    namespaces: [${cluster}]`,
    `    select: [${(o.select ?? ['core.v1.ConfigMap']).join(', ')}]`,
  ].join('\n'));
  return file;
}

async function sync(cluster: string, o: Parameters<typeof writeConfig>[1] & { token?: string } = {}) {
  const res = await runCli(['sync', '--config', writeConfig(cluster, o), '--push', '--pull-request', '--json'],
    { env: { KUBETRAIL_GIT_TOKEN: o.token ?? forge.token } });
  let out: any;
  try { out = JSON.parse(res.stdout); } catch { out = undefined; }
  return { ...res, out, pr: out?.pullRequests?.[0] };
}

const setData = (cluster: string, data: Record<string, string>) =>
  kubectl(['-n', cluster, 'patch', 'configmap', 'state', '--type=merge', '-p', JSON.stringify({ data })]);
const remoteHead = (ref: string) => gitWithToken(forge, work, ['ls-remote', forge.gitUrl, `refs/heads/${ref}`]).split('\t')[0] || undefined;
/** The cluster subtree a render state on the remote was made for, and the base branch's: the state follows the base. */
function stateAndBaseSubtree(cluster: string): [string | undefined, string] {
  const d = tempDir('pr-state');
  execFileSync('git', ['init', '-q', d]);
  gitWithToken(forge, d, ['fetch', '-q', forge.gitUrl, `+refs/kubetrail/state/${cluster}:refs/state`, '+refs/heads/main:refs/base']);
  const header = JSON.parse(execFileSync('git', ['-C', d, 'show', 'refs/state:render-state'], { encoding: 'utf8' }).split('\n')[1]);
  return [header.subtree, execFileSync('git', ['-C', d, 'rev-parse', `refs/base:clusters/${cluster}`], { encoding: 'utf8' }).trim()];
}
const openPrs = async () => (await forge.api('GET', `${R()}/pulls?state=open&limit=50`)).body as any[];
const comments = async (n: number) => ((await forge.api('GET', `${R()}/issues/${n}/comments`)).body as any[]).map((c) => c.body as string);

let initialMain: string | undefined;
const clusters = ['a', 'b', 'c'].map(id);

beforeAll(async () => {
  forge = startForge();
  initialMain = remoteHead('main');
  const client = adminClient();
  for (const c of [...clusters, id('g'), id('down'), ...[0, 1, 2, 3].map((i) => id(`cron${i}`))]) {
    await ensureNamespace(client, c);
    await createMany(client, `/api/v1/namespaces/${c}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state' }, data: { v: '1' } }]);
  }
  expect((await forge.api('POST', `${R()}/labels`, { name: 'kubetrail', color: '#00aabb' })).status).toBe(201);
}, 300_000);
afterAll(() => forge?.stop());

describe(`pull-request mode against a real Gitea (CLI under ${runtime})`, () => {
  it('three clusters, each its own PR; base untouched', async () => {
    for (const c of clusters) {
      const r = await sync(c);
      expect(r.code, r.stderr).toBe(0);
      expect(r.pr).toMatchObject({ clusterId: c, action: 'opened', number: expect.any(Number), url: expect.stringContaining('/pulls/') });
    }
    const prs = await openPrs();
    expect(prs.map((p) => p.head.ref).sort()).toEqual(clusters.map((c) => `kubetrail/${c}`).sort());
    expect(new Set(prs.map((p) => p.number)).size).toBe(3);
    for (const p of prs) expect(p.labels.map((l: any) => l.name)).toEqual(['kubetrail']);
    expect(remoteHead('main')).toBe(initialMain);
  });

  it('a run with no change makes no commit and no API write', async () => {
    const heads = clusters.map((c) => remoteHead(`kubetrail/${c}`));
    const writes = forge.apiWrites().length;
    for (const c of clusters) {
      const r = await sync(c);
      expect(r.code, r.stderr).toBe(0);
      expect(r.pr.action).toBe('unchanged');
    }
    expect(forge.apiWrites().slice(writes)).toEqual([]);
    expect(clusters.map((c) => remoteHead(`kubetrail/${c}`))).toEqual(heads);
  });

  it('a change adds one commit and one comment listing only it; the body matches the branch diff', async () => {
    const c = clusters[0];
    const before = remoteHead(`kubetrail/${c}`)!;
    const pr = (await openPrs()).find((p) => p.head.ref === `kubetrail/${c}`);
    kubectl(['-n', c, 'create', 'configmap', 'extra', '--from-literal=x=1']);
    setData(c, { v: '2' });
    const writes = forge.apiWrites().length;
    const r = await sync(c);
    expect(r.code, r.stderr).toBe(0);
    expect(r.pr).toMatchObject({ action: 'updated', number: pr.number });
    const after = remoteHead(`kubetrail/${c}`)!;
    gitWithToken(forge, work, ['init', '-q', 'verify']);
    const v = join(work, 'verify');
    gitWithToken(forge, v, ['fetch', '-q', forge.gitUrl, `+refs/heads/*:refs/remotes/f/*`]);
    expect(execFileSync('git', ['-C', v, 'rev-parse', `${after}^`], { encoding: 'utf8' }).trim()).toBe(before); // one new commit
    // The PR branch's commit says who changed what, as the sync's commit did (kubectl create / a merge patch).
    const message = execFileSync('git', ['-C', v, 'log', '-1', '--format=%B', after], { encoding: 'utf8' });
    expect(message).toMatch(new RegExp(`\\n  \\+ ${c}/extra\\.yaml  \\(kubectl-create Update \\S+\\)\\n`));
    expect(message).toMatch(/\nKubetrail-Managers: .*kubectl-create=1/);
    const writesNow = forge.apiWrites().slice(writes).map((w) => w.replace(/\/repos\/[^/]+\/[^/]+/, '').replace(/\/\d+(?=[/ ])/g, '/N'));
    expect(writesNow.sort()).toEqual(['PATCH /api/v1/pulls/N 201', 'POST /api/v1/issues/N/comments 201']);
    const cs = await comments(pr.number);
    expect(cs).toHaveLength(1);
    expect(cs[0]).toContain(`core.v1.ConfigMap ${c}/extra`);
    expect(cs[0]).toContain(`core.v1.ConfigMap ${c}/state`);
    // The body's object list is exactly the branch's diff against base.
    const diff = execFileSync('git', ['-C', v, 'diff', '--name-status', 'f/main...f/kubetrail/' + c], { encoding: 'utf8' }).trim().split('\n')
      .map((l) => { const [s, p] = l.split('\t'); return `- \`${s === 'A' ? '+' : s === 'D' ? '-' : '~'}\` ${p.split('/')[2]} ${p.split('/')[3]}/${p.split('/')[4].replace(/\.yaml$/, '')}`; }).sort();
    const body = (await forge.api('GET', `${R()}/pulls/${pr.number}`)).body.body as string;
    expect(body.split('\n').filter((l) => l.startsWith('- `')).sort()).toEqual(diff);
    expect(body.startsWith(`<!-- kubetrail:cluster=${c} -->`)).toBe(true);
  });

  it('merge through the API → the next run starts from the new base; a fresh PR only after a change', async () => {
    const c = clusters[0];
    const pr = (await openPrs()).find((p) => p.head.ref === `kubetrail/${c}`);
    expect((await forge.merge(pr.number)).status).toBe(200);
    const quiet = await sync(c);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.pr.action).toBe('unchanged');
    expect((await openPrs()).some((p) => p.head.ref === `kubetrail/${c}`)).toBe(false);
    const [merged, base] = stateAndBaseSubtree(c);
    expect(merged).toBe(base); // the render state is made for the base the next run starts from
    setData(c, { v: '3' });
    const r = await sync(c);
    expect(r.code, r.stderr).toBe(0);
    expect(r.pr.action).toBe('opened');
    expect(stateAndBaseSubtree(c)).toEqual([base, base]); // still the base's subtree, not the PR's snapshot
    expect(r.pr.number).not.toBe(pr.number);
    const fresh = (await forge.api('GET', `${R()}/pulls/${r.pr.number}`)).body;
    expect(fresh.changed_files).toBe(1); // only what changed after the merge
  });

  it('revert the change → the PR is closed with a comment and its branch deleted', async () => {
    const c = clusters[0];
    const open = (await openPrs()).find((p) => p.head.ref === `kubetrail/${c}`);
    setData(c, { v: '2' });
    const r = await sync(c);
    expect(r.code, r.stderr).toBe(0);
    expect(r.pr).toMatchObject({ action: 'closed', number: open.number });
    const pr = (await forge.api('GET', `${R()}/pulls/${open.number}`)).body;
    expect(pr).toMatchObject({ state: 'closed', merged: false });
    expect((await comments(open.number)).at(-1)).toContain('back to the base branch');
    expect(remoteHead(`kubetrail/${c}`)).toBeUndefined();
  });

  it('a PR closed unmerged stays closed for the same content; a new change opens one', async () => {
    const c = clusters[2];
    const open = (await openPrs()).find((p) => p.head.ref === `kubetrail/${c}`);
    expect((await forge.api('PATCH', `${R()}/pulls/${open.number}`, { state: 'closed' })).status).toBe(201);
    const writes = forge.apiWrites().length;
    const same = await sync(c);
    expect(same.code, same.stderr).toBe(0);
    expect(same.pr.action).toBe('rejected');
    expect(forge.apiWrites().slice(writes)).toEqual([]);
    setData(c, { v: 'other' });
    const changed = await sync(c);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.pr.action).toBe('opened');
    expect(changed.pr.number).not.toBe(open.number);
  });

  it('a person pushes to kubetrail/<id> → kubetrail does not overwrite it and says so', async () => {
    const c = clusters[1];
    const clone = join(tempDir('person'), 'w');
    gitWithToken(forge, work, ['clone', '-q', '-b', `kubetrail/${c}`, forge.gitUrl, clone]);
    writeFileSync(join(clone, 'NOTE.md'), 'a reviewer\'s fix\n');
    execFileSync('git', ['-C', clone, 'add', '.']);
    execFileSync('git', ['-C', clone, '-c', 'user.name=p', '-c', 'user.email=p@example.test', 'commit', '-qm', 'reviewer fix']);
    gitWithToken(forge, clone, ['push', '-q', 'origin', `kubetrail/${c}`]);
    const theirs = remoteHead(`kubetrail/${c}`);
    setData(c, { v: '9' });
    const r = await sync(c);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('kubetrail did not push');
    expect(remoteHead(`kubetrail/${c}`)).toBe(theirs);
    const pr = (await openPrs()).find((p) => p.head.ref === `kubetrail/${c}`);
    expect((await comments(pr.number)).at(-1)).toContain('kubetrail did not update');
  });

  it('guarded mode: a ConfigMap change lands on base directly, a ClusterRole change lands in the PR', async () => {
    const c = id('g');
    const role = `${c}-role`;
    kubectl(['create', 'clusterrole', role, '--verb=get', '--resource=configmaps']);
    const o = { mode: 'guarded', select: ['core.v1.ConfigMap', 'rbac.authorization.k8s.io.v1.ClusterRole'] };
    const first = await sync(c, o); // the first sync records ClusterRoles: guarded → a PR
    expect(first.code, first.stderr).toBe(0);
    expect(first.pr.action).toBe('opened');
    expect((await forge.merge(first.pr.number)).status).toBe(200);
    const baseBefore = remoteHead('main');
    setData(c, { v: 'routine' });
    const routine = await sync(c, o);
    expect(routine.code, routine.stderr).toBe(0);
    expect(routine.pr.action).toBe('direct');
    expect(remoteHead('main')).not.toBe(baseBefore);
    expect((await openPrs()).some((p) => p.head.ref === `kubetrail/${c}`)).toBe(false);
    kubectl(['patch', 'clusterrole', role, '--type=json', '-p', '[{"op":"add","path":"/rules/0/verbs/-","value":"list"}]']);
    const baseNow = remoteHead('main');
    const guarded = await sync(c, o);
    expect(guarded.code, guarded.stderr).toBe(0);
    expect(guarded.pr.action).toBe('opened');
    expect(remoteHead('main')).toBe(baseNow);
  });

  it('wrong token → exit 1, one line, the token not printed', async () => {
    const wrong = 'f'.repeat(40);
    const r = await sync(clusters[1], { token: wrong });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it('forge API unreachable after the push → exit 1; the next run opens the missing PR, no duplicate', async () => {
    const c = id('down');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const down = await sync(c, { apiUrl: `http://127.0.0.1:${port}/api/v1` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('unreachable');
    const up = await sync(c);
    expect(up.code, up.stderr).toBe(0);
    expect(up.pr.action).toBe('opened');
    expect((await openPrs()).filter((p) => p.head.ref === `kubetrail/${c}`)).toHaveLength(1);
  });

  it('4 clusters\' CronJob-style runs at once: 4 PRs, base untouched, git fsck clean', async () => {
    const ids = [0, 1, 2, 3].map((i) => id(`cron${i}`));
    const base = remoteHead('main');
    const dirs = ids.map(() => join(tempDir('cron'), 'repo'));
    const runs = await Promise.all(ids.map((c, i) => sync(c, { repoDir: dirs[i] })));
    for (const [i, r] of runs.entries()) {
      expect(r.code, `${ids[i]}: ${r.stderr}`).toBe(0);
      expect(r.pr.action).toBe('opened');
    }
    expect((await openPrs()).filter((p) => ids.some((c) => p.head.ref === `kubetrail/${c}`))).toHaveLength(4);
    expect(remoteHead('main')).toBe(base);
    const clone = join(tempDir('fsck'), 'w');
    gitWithToken(forge, work, ['clone', '-q', '--mirror', forge.gitUrl, clone]);
    expect(execFileSync('git', ['-C', clone, 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8' })).toBe('');
    // The token is in no local git config and in no PR text.
    for (const d of dirs) expect(readFileSync(join(d, '.git', 'config'), 'utf8')).not.toContain(forge.token);
    for (const p of await openPrs()) expect(`${p.title}\n${p.body}`).not.toContain(forge.token);
    // The next CronJob runs start from empty volumes again: the branch heads are kubetrail's (their trailers say so),
    // nothing changed, so nothing is written; a change updates the PR instead of being refused as someone else's.
    const writes = forge.apiWrites().length;
    const again = await Promise.all(ids.map((c) => sync(c, { repoDir: join(tempDir('cron'), 'repo') })));
    expect(again.map((r) => `${r.code} ${r.pr?.action}`)).toEqual(ids.map(() => '0 unchanged'));
    expect(forge.apiWrites().slice(writes)).toEqual([]);
    setData(ids[0], { v: 'cron' });
    const changed = await sync(ids[0], { repoDir: join(tempDir('cron'), 'repo') });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.pr.action).toBe('updated');
  });

  it('flags: --pull-request needs --push, --base needs --pull-request, an unknown forge names the field', async () => {
    const noPush = await runCli(['sync', '--repo', join(work, 'flags'), '--pull-request'], { env: { KUBECONFIG: testenv().KUBECONFIG } });
    expect(noPush.code).toBe(2);
    expect(noPush.stderr).toContain('--pull-request needs --push');
    const noPr = await runCli(['sync', '--repo', join(work, 'flags'), '--push', '--remote', 'https://github.com/acme/h.git', '--base', 'prod'],
      { env: { KUBECONFIG: testenv().KUBECONFIG } });
    expect(noPr.code).not.toBe(0);
    expect(noPr.stderr).toContain('--base');
    const file = join(work, 'bad-forge.yaml');
    writeFileSync(file, `repo: ${join(work, 'flags')}\nremote: {url: "https://git.example.com/a/b.git", pullRequest: {base: main}}\nclusters: [{id: x, kubeconfig: ${testenv().KUBECONFIG}}]\n`);
    const bad = await runCli(['sync', '--config', file, '--push']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('remote.pullRequest.forge');
  });
});
