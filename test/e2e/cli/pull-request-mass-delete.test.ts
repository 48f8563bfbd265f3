// A mass deletion in pull-request mode against a real Gitea: instead of being refused (exit 1, nothing recorded) it
// goes to the cluster's PR, flagged and explained, the base branch untouched, and the run exits 4 so a CronJob shows it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForge, gitWithToken, type Forge } from '../../helpers/forge.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

let forge: Forge;
const work = tempDir('pr-mass');
const R = () => `/repos/${forge.owner}/${forge.repo}`;
const guardedId = `mass-guarded-${runtime}`;
const alwaysId = `mass-always-${runtime}`;

async function sync(cluster: string, mode: 'guarded' | 'always') {
  const file = join(work, `${cluster}.yaml`);
  writeFileSync(file, [
    `repo: ${join(work, cluster)}`,
    'remote:',
    `  url: ${forge.gitUrl}`,
    '  allowInsecureHttp: true',
    `  pullRequest: {base: main, forge: gitea, mode: ${mode}}`,
    'clusters:',
    `  - id: ${cluster}`,
    `    kubeconfig: ${testenv().KUBECONFIG}`,
    `    namespaces: [${cluster}]`,
    '    select: [core.v1.ConfigMap]',
  ].join('\n'));
  const res = await runCli(['sync', '--config', file, '--push', '--json'], { env: { KUBETRAIL_GIT_TOKEN: forge.token } });
  let out: any;
  try { out = JSON.parse(res.stdout); } catch { out = undefined; }
  return { ...res, out, pr: out?.pullRequests?.[0], result: out?.results?.[0] };
}

const remoteHead = (ref: string) => gitWithToken(forge, work, ['ls-remote', forge.gitUrl, `refs/heads/${ref}`]).split('\t')[0] || undefined;
const openPrs = async () => (await forge.api('GET', `${R()}/pulls?state=open&limit=50`)).body as any[];
const comments = async (n: number) => ((await forge.api('GET', `${R()}/issues/${n}/comments`)).body as any[]).map((c) => c.body as string);
const deleteMaps = (ns: string, names: string[]) => kubectl(['-n', ns, 'delete', 'configmap', ...names]);
/** The cluster's files on a branch of the forge, as the real git CLI reads them. */
function filesOn(branch: string, cluster: string): string[] {
  const clone = join(tempDir('pr-mass-clone'), 'c');
  gitWithToken(forge, work, ['clone', '-q', '-b', branch, forge.gitUrl, clone]);
  const out = execFileSync('git', ['-C', clone, 'ls-files', `clusters/${cluster}`], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').map((p) => p.split('/').at(-1)!) : [];
}

const names = Array.from({ length: 10 }, (_, i) => `cm-${i}`);

beforeAll(async () => {
  forge = startForge();
  for (const c of [guardedId, alwaysId]) {
    await ensureNamespace(adminClient(), c);
    await createMany(adminClient(), `/api/v1/namespaces/${c}/configmaps`,
      names.map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } })));
  }
}, 300_000);
afterAll(() => forge?.stop());

describe(`a mass deletion in pull-request mode goes to the PR (real Gitea, CLI under ${runtime})`, () => {
  it('guarded mode: the deletions wait in the PR, flagged and explained; base untouched; exit 4; merging accepts them', async () => {
    const c = guardedId;
    const first = await sync(c, 'guarded'); // ConfigMaps are routine: straight to base
    expect(first.code, first.stderr).toBe(0);
    expect(first.pr.action).toBe('direct');
    const base = remoteHead('main');
    expect(filesOn('main', c)).toHaveLength(10);

    deleteMaps(c, names.slice(0, 8)); // 8 of 10: more than maxDeletePercent 50
    const held = await sync(c, 'guarded');
    expect(held.code, held.stderr).toBe(4);
    expect(held.result).toMatchObject({ status: 'complete', deleted: 8, massDeletion: { deleted: 8, recorded: 10, maxDeletePercent: 50 } });
    expect(held.pr).toMatchObject({ clusterId: c, action: 'opened', number: expect.any(Number) });
    expect(held.stderr.trim().split('\n')).toEqual([
      `kubetrail: warning: ${c}: mass deletion (8 of 10 recorded objects, more than maxDeletePercent 50%) not applied to the base branch: ` +
      `held for review in pull request #${held.pr.number} ${held.pr.url}`,
    ]);
    expect(remoteHead('main')).toBe(base);
    expect(filesOn('main', c)).toHaveLength(10);
    expect(filesOn(`kubetrail/${c}`, c).sort()).toEqual(['cm-8.yaml', 'cm-9.yaml']);
    const pr = (await forge.api('GET', `${R()}/pulls/${held.pr.number}`)).body;
    expect(pr.title).toBe(`${c}: +0 ~0 -8 since ${base!.slice(0, 7)}`);
    expect(pr.body).toContain('flags: **mass deletion**');
    expect(pr.body).toContain('**Mass deletion.** This state deletes 8 of the 10 objects recorded on the base branch (more than maxDeletePercent 50%). ' +
      'Without pull requests kubetrail would have refused it');
    expect(pr.body).toContain('Merge to accept the deletions, close without merging to reject them.');

    // Nothing new: the PR stays as it is, no API write, and the run still says a person has to act.
    const writes = forge.apiWrites().length;
    const again = await sync(c, 'guarded');
    expect(again.code, again.stderr).toBe(4);
    expect(again.pr).toMatchObject({ action: 'unchanged', number: held.pr.number });
    expect(forge.apiWrites().slice(writes)).toEqual([]);

    // One more deletion: one more commit and one comment, which says it is a mass deletion too.
    deleteMaps(c, ['cm-8']);
    const more = await sync(c, 'guarded');
    expect(more.code, more.stderr).toBe(4);
    expect(more.pr).toMatchObject({ action: 'updated', number: held.pr.number });
    const cs = await comments(held.pr.number);
    expect(cs).toHaveLength(1);
    expect(cs[0]).toContain(`-1\n\n> **Mass deletion.** This state deletes 9 of the 10 objects`);
    expect(remoteHead('main')).toBe(base);

    // A reviewer accepts: merged, the base has the deletions, and the next run has nothing to hold.
    expect((await forge.merge(held.pr.number)).status).toBe(200);
    expect(filesOn('main', c)).toEqual(['cm-9.yaml']);
    const after = await sync(c, 'guarded');
    expect(after.code, after.stderr).toBe(0);
    expect(after.result.massDeletion).toBeUndefined();
    expect(after.pr.action).toBe('unchanged');
    expect((await openPrs()).some((p) => p.head.ref === `kubetrail/${c}`)).toBe(false);
  }, 300_000);

  it('plain PR mode: the same; a reviewer who closes the PR rejects the deletion, and the run keeps saying so', async () => {
    const c = alwaysId;
    const first = await sync(c, 'always');
    expect(first.code, first.stderr).toBe(0);
    expect((await forge.merge(first.pr.number)).status).toBe(200); // the first snapshot accepted: base has 10 objects
    const base = remoteHead('main');
    deleteMaps(c, names.slice(0, 6));
    const held = await sync(c, 'always');
    expect(held.code, held.stderr).toBe(4);
    expect(held.pr.action).toBe('opened');
    expect((await forge.api('GET', `${R()}/pulls/${held.pr.number}`)).body.body).toContain('would have refused it');
    expect(remoteHead('main')).toBe(base);

    expect((await forge.api('PATCH', `${R()}/pulls/${held.pr.number}`, { state: 'closed' })).status).toBe(201);
    const rejected = await sync(c, 'always');
    expect(rejected.code, rejected.stderr).toBe(4);
    expect(rejected.pr.action).toBe('rejected');
    expect(rejected.stderr).toContain('a reviewer closed the pull request holding this state unmerged');
    expect(remoteHead('main')).toBe(base);
    expect(filesOn('main', c)).toHaveLength(10);
  }, 300_000);
});
