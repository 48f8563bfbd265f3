// The test forge's contract: forge-up.sh writes its env, the token pushes over smart HTTP and works for the API, a
// wrong token is refused, and Gitea's log shows every API write (how PR-mode tests count them).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForge, gitWithToken, type Forge } from '../helpers/forge.ts';
import { tempDir } from '../helpers/testenv.ts';

let forge: Forge;
beforeAll(() => { forge = startForge(); }, 300_000);
afterAll(() => forge?.stop());

describe('test forge (Gitea)', () => {
  it('writes its env and answers the API with the token', async () => {
    expect(forge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(forge.apiUrl).toBe(`${forge.url}/api/v1`);
    expect(forge.token).toMatch(/^[0-9a-f]{40}$/);
    const repo = await forge.api('GET', `/repos/${forge.owner}/${forge.repo}`);
    expect(repo.status).toBe(200);
    expect(repo.body.default_branch).toBe('main');
    const wrong = await fetch(`${forge.apiUrl}/user`, { headers: { authorization: 'token 0000000000000000000000000000000000000000' } });
    expect(wrong.status).toBe(401);
  });

  it('takes a push over smart HTTP with the token, and refuses one without it', () => {
    const dir = tempDir('forge-clone');
    gitWithToken(forge, dir, ['clone', '-q', forge.gitUrl, 'w']);
    const w = join(dir, 'w');
    expect(existsSync(join(w, 'README.md'))).toBe(true);
    writeFileSync(join(w, 'hello.txt'), 'hi\n');
    execFileSync('git', ['-C', w, 'add', '.']);
    execFileSync('git', ['-C', w, '-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-qm', 'hello']);
    gitWithToken(forge, w, ['push', '-q', 'origin', 'HEAD:refs/heads/kubetrail/c1']);
    const ls = gitWithToken(forge, w, ['ls-remote', forge.gitUrl, 'refs/heads/kubetrail/c1']);
    expect(ls.split('\t')[0]).toBe(execFileSync('git', ['-C', w, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim());
    expect(() => execFileSync('git', ['-C', w, 'push', '-q', forge.gitUrl, 'HEAD:refs/heads/nope'],
      { stdio: 'pipe', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).toThrow();
  });

  it('logs each API write, so tests count them from the forge side', async () => {
    const before = forge.apiWrites().length;
    const label = await forge.api('POST', `/repos/${forge.owner}/${forge.repo}/labels`, { name: 'kubetrail', color: '#00aabb' });
    expect(label.status).toBe(201);
    await forge.api('GET', `/repos/${forge.owner}/${forge.repo}/labels`);
    const writes = forge.apiWrites().slice(before);
    expect(writes).toEqual([`POST /api/v1/repos/${forge.owner}/${forge.repo}/labels 201`]);
  });
});
