// secrets.mode: sops as a user runs it: Secrets from the real apiserver, recorded by the CLI (under Node or Deno),
// then decrypted by the real `sops` CLI (built from github.com/getsops/sops/v3) with an age key made by the real
// age-keygen (filippo.io/age). No value in any git object; a resync without changes commits nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptRecordedSecret } from '../../../src/secrets/sops.ts';
import { ENCRYPTED_REGEX } from '../../../src/secrets/sops-format.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, root, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `sops-${runtime}`;
const id = `sops-${runtime}`;
const canary = `canary-sops-${runtime}-9d2f61`;
const changed = `changed-sops-${runtime}-4c8e07`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const hmacEnv = { KUBETRAIL_HMAC_KEY: 'sops-e2e-hmac-key' };
const secretPath = (name: string) => `clusters/${id}/core.v1.Secret/${ns}/${name}.yaml`;

let bin: string;
const tool = (name: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(join(bin, name), args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });

describe(`secrets.mode: sops, checked with the real sops and age (CLI under ${runtime})`, () => {
  const dir = tempDir('sops');
  const repo = join(dir, 'repo');
  const key = join(dir, 'key.txt');
  const wrongKey = join(dir, 'wrong.txt');
  const laterKey = join(dir, 'later.txt');
  const recipient = (file: string) => tool('age-keygen', ['-y', file]).trim();
  const writeConfig = (recipients: string[]) => {
    const file = join(dir, 'kubetrail.yaml');
    writeFileSync(file, [
      `repo: ${repo}`, 'secrets:', '  mode: sops', `  ageRecipients: [${recipients.join(', ')}]`,
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`,
      '    includeSecrets: true', '    select: [core.v1.Secret, core.v1.ConfigMap]',
    ].join('\n'));
    return file;
  };
  const sync = async () => {
    const res = await runCli(['sync', '--config', join(dir, 'kubetrail.yaml'), '--json'], { env: hmacEnv });
    expect(res.stderr).toBe('');
    expect(res.code, res.stdout).toBe(0);
    return JSON.parse(res.stdout);
  };
  const commits = () => Number(git(repo, ['rev-list', '--count', 'HEAD']));
  /** Every object of every ref, as git itself prints it (blobs inflated, whatever pack they are in). */
  const allObjects = () => {
    const ids = git(repo, ['rev-list', '--objects', '--all']).split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
    return execFileSync('git', ['-C', repo, 'cat-file', '--batch'], { input: `${ids.join('\n')}\n`, maxBuffer: 256 << 20 }).toString('latin1');
  };
  const sopsDecrypt = (path: string, keyFile: string) => {
    const file = join(dir, 'recorded.yaml');
    writeFileSync(file, git(repo, ['show', `HEAD:${path}`]));
    return tool('sops', ['--decrypt', '--input-type', 'yaml', '--output-type', 'yaml', file], { SOPS_AGE_KEY_FILE: keyFile });
  };

  beforeAll(async () => {
    bin = execFileSync('bash', [join(root, 'test/env/build-sops.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    for (const file of [key, wrongKey, laterKey]) tool('age-keygen', ['-o', file]);
    writeConfig([recipient(key)]);
    await ensureNamespace(adminClient(), ns);
    // kubectl apply: the last-applied annotation carries the value too, and must be encrypted with it.
    apply([
      `apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: ${ns}}\nstringData: {password: ${canary}, user: admin}`,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: ${ns}}\ndata: {token: ${b64('other-token')}}`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: ${ns}}\ndata: {x: "1"}`,
    ].join('\n---\n'));
  }, 1_800_000); // a cold cache builds sops first

  it('records the Secret so that sops --decrypt with the age key gives back exactly the live values', async () => {
    const result = await sync();
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    const recorded = git(repo, ['show', `HEAD:${secretPath('db')}`]);
    expect(recorded).toMatch(/^ {2}password: ENC\[AES256_GCM,data:[^\n]+,type:str\]$/m);
    expect(recorded).toContain(`encrypted_regex: ${ENCRYPTED_REGEX}`);
    const live = JSON.parse(kubectl(['get', 'secret', 'db', '-n', ns, '-o', 'json']));
    const decrypted = parse(sopsDecrypt(secretPath('db'), key));
    expect(decrypted.data).toEqual({ password: b64(canary), user: b64('admin') });
    expect(decrypted.data).toEqual(live.data);
    const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
    expect(decrypted.metadata.annotations[lastApplied]).toBe(live.metadata.annotations[lastApplied]);
    expect(decrypted.sops).toBeUndefined();
    // kubetrail's own reader (for export --decrypt) agrees with sops.
    expect(await decryptRecordedSecret(recorded, [readFileSync(key, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!]))
      .toEqual(decrypted);
  });

  it('does not decrypt with another age key', () => {
    let failure: { status?: number; stdout?: string; stderr?: string } | undefined;
    try {
      sopsDecrypt(secretPath('db'), wrongKey);
    } catch (e) {
      failure = e as typeof failure;
    }
    expect(failure?.status).not.toBe(0);
    expect(failure?.stderr).toMatch(/failed to get the data key|no identity matched|Failed to get the data key/i);
    expect(`${failure?.stdout}${failure?.stderr}`).not.toContain(b64(canary));
  });

  it('a resync with nothing changed makes no commit, even when every Secret is sealed again', async () => {
    const before = commits();
    expect(await sync()).toMatchObject({ added: 0, changed: 0, deleted: 0, blobsWritten: 0 });
    // Without the render cache every Secret is rendered and sealed again: the same bytes, from the recorded file.
    rmSync(join(repo, '.git', 'kubetrail'), { recursive: true, force: true });
    expect(await sync()).toMatchObject({ added: 0, changed: 0, deleted: 0, blobsWritten: 0 });
    expect(commits()).toBe(before);
  });

  it('a new label changes only that line: the ciphertexts, MAC and wrapped key stay', async () => {
    const before = commits();
    kubectl(['label', 'secret', 'db', '-n', ns, 'team=payments']);
    const result = await sync();
    expect(result).toMatchObject({ changed: 1, added: 0, deleted: 0 });
    expect(commits()).toBe(before + 1);
    const diff = git(repo, ['diff', '--unified=0', 'HEAD~1', 'HEAD']).split('\n').filter((l) => /^[+-](?![+-])/.test(l));
    expect(diff).toEqual(['+  labels:', '+    team: payments']);
  });

  it('a changed value makes exactly one commit that changes only that Secret, and decrypts to the new value', async () => {
    const before = commits();
    const otherBefore = git(repo, ['rev-parse', `HEAD:${secretPath('other')}`]);
    kubectl(['patch', 'secret', 'db', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ data: { password: b64(changed) } })]);
    const result = await sync();
    expect(result).toMatchObject({ changed: 1, added: 0, deleted: 0 });
    expect(commits()).toBe(before + 1);
    expect(git(repo, ['diff', '--name-only', 'HEAD~1', 'HEAD']).trim()).toBe(secretPath('db'));
    expect(git(repo, ['rev-parse', `HEAD:${secretPath('other')}`])).toBe(otherBefore);
    const decrypted = parse(sopsDecrypt(secretPath('db'), key));
    expect(decrypted.data).toEqual({ password: b64(changed), user: b64('admin') });
    // The lines that are not Secret values or SOPS metadata did not change.
    const changedLines = git(repo, ['diff', '--unified=0', 'HEAD~1', 'HEAD']).split('\n').filter((l) => /^[+-](?![+-])/.test(l));
    expect(changedLines.filter((l) => !/ENC\[AES256_GCM|lastmodified:|^[+-] {8}\S|^[+-] {6}enc: \|/.test(l))).toEqual([]);
    expect(await sync()).toMatchObject({ changed: 0, blobsWritten: 0 });
  });

  it('a new recipient re-seals every Secret (the render cache is bound to the recipients), for both keys', async () => {
    const before = commits();
    writeConfig([recipient(key), recipient(laterKey)]);
    const result = await sync();
    expect(result).toMatchObject({ changed: 2, added: 0, deleted: 0 });
    expect(commits()).toBe(before + 1);
    for (const k of [key, laterKey]) expect(parse(sopsDecrypt(secretPath('other'), k)).data).toEqual({ token: b64('other-token') });
    expect(git(repo, ['diff', '--name-only', 'HEAD~1', 'HEAD']).trim().split('\n').sort()).toEqual([secretPath('db'), secretPath('other')]);
  });

  it('export writes sealed Secrets apart for sops --decrypt, and --decrypt gives Secrets kubectl applies', async () => {
    const config = join(dir, 'kubetrail.yaml');
    const out = join(dir, 'export');
    const sealed = await runCli(['export', '--config', config, '--cluster', id, '-o', out, '--json'], { env: hmacEnv });
    expect(sealed.code, sealed.stderr).toBe(0);
    const report = JSON.parse(sealed.stdout);
    expect(report.sealed.map((s: { name: string }) => s.name).sort()).toEqual(['db', 'other']);
    expect(report.notRestorable).toEqual([]);
    expect(sealed.stderr).toContain(`sealed with SOPS: core.v1.Secret ${ns}/db`);
    // The apply stages hold no Secret; each sealed file opens with the real sops and gives the live values.
    const stages = execFileSync('cat', execFileSync('ls', [out], { encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.yaml')).map((f) => join(out, f)), { encoding: 'utf8' });
    expect(stages).toContain('kind: ConfigMap');
    expect(stages).not.toContain('kind: Secret');
    const file = join(out, report.sealed.find((s: { name: string }) => s.name === 'db').file);
    const opened = parse(tool('sops', ['--decrypt', '--input-type', 'yaml', '--output-type', 'yaml', file], { SOPS_AGE_KEY_FILE: key }));
    const live = JSON.parse(kubectl(['get', 'secret', 'db', '-n', ns, '-o', 'json']));
    expect(opened.data).toEqual(live.data);
    expect(opened.metadata.uid).toBeUndefined(); // server fields stripped, and sops's MAC still holds

    // --decrypt: plain Secrets in the stream, in apply order, that the apiserver accepts.
    const missingKey = await runCli(['export', '--config', config, '--cluster', id, '--decrypt'], { env: hmacEnv });
    expect(missingKey.code).toBe(2);
    expect(missingKey.stderr).toContain('SOPS_AGE_KEY_FILE');
    const decrypted = await runCli(['export', '--config', config, '--cluster', id, '--decrypt'], { env: { ...hmacEnv, SOPS_AGE_KEY_FILE: key } });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    const docs = decrypted.stdout.split(/^---\n/m).filter(Boolean).map((d) => parse(d));
    const db = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'db');
    expect(db.data).toEqual(live.data);
    expect(db.sops).toBeUndefined();
    const file2 = join(dir, 'decrypted.yaml');
    writeFileSync(file2, decrypted.stdout);
    expect(kubectl(['apply', '--dry-run=server', '-f', file2])).toContain(`secret/db`);
  });

  it('kubetrail diff sees no drift in sealed Secrets whose values did not change, and drift in one that did', async () => {
    const config = join(dir, 'kubetrail.yaml');
    const same = await runCli(['diff', '--config', config], { env: hmacEnv });
    expect(same.stderr).toBe('');
    expect(same.code, same.stdout).toBe(0);
    kubectl(['patch', 'secret', 'other', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ data: { token: b64('rotated-token') } })]);
    const drift = await runCli(['diff', '--config', config, '--json'], { env: hmacEnv });
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout).objects.map((o: { name: string }) => o.name)).toEqual(['other']);
    expect(drift.stdout).not.toContain(b64('rotated-token'));
    await sync(); // recorded again, so the history checks below see the rotated value sealed too
  });

  it('no value, plain or base64, is in any object of the history', () => {
    const objects = allObjects();
    expect(objects).toContain('ENC[AES256_GCM');
    for (const value of [canary, changed, 'other-token', 'rotated-token']) {
      expect(objects).not.toContain(value);
      expect(objects).not.toContain(b64(value));
    }
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('refuses a recipient that is not an age public key before reading anything, naming the field', async () => {
    const file = join(dir, 'bad.yaml');
    const typo = recipient(key).slice(0, -1) + (recipient(key).endsWith('q') ? 'p' : 'q');
    writeFileSync(file, readFileSync(join(dir, 'kubetrail.yaml'), 'utf8').replace(/ageRecipients: \[[^\]]*\]/, `ageRecipients: [${typo}]`));
    const before = commits();
    const res = await runCli(['sync', '--config', file], { env: hmacEnv });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('secrets.ageRecipients[0]: checksum does not match');
    expect(commits()).toBe(before);
  });

  it("reads what the real sops encrypted with kubetrail's settings (the format both ways)", async () => {
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: by-sops\ndata:\n  a: ${b64(canary)}\n  b: ""\nstringData:\n  n: "42"\n`);
    const sealed = tool('sops', ['--encrypt', '--age', recipient(key), '--encrypted-regex', ENCRYPTED_REGEX, '--mac-only-encrypted',
      '--input-type', 'yaml', '--output-type', 'yaml', plain]);
    expect(sealed).not.toContain(b64(canary));
    const identity = readFileSync(key, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    expect(await decryptRecordedSecret(sealed, [identity])).toEqual(parse(readFileSync(plain, 'utf8')));
  });
});
