// Who changed it: each commit names the field managers that wrote what changed (kubectl edit, client-side apply,
// a second manager), read from managedFields on the real apiserver; `unknown` where they cannot be known; the
// API's versions and changes carry them and `changes?manager=` filters. Runs with the CLI under Node and Deno.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { startServe } from '../../helpers/serve.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `attr-${runtime}`;
const id = `attr-${runtime}`;
const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {value: "${value}"}\n---\n`;
const nextSecond = () => new Promise((r) => setTimeout(r, 1100)); // managedFields times have whole seconds
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';

describe(`attribution from managedFields (CLI under ${runtime})`, () => {
  const dir = tempDir('attr');
  const repo = join(dir, 'repo');
  const config = join(dir, 'kubetrail.yaml');
  const token = 'attr-token';
  const sync = () => runCli(['sync', '--config', config]);
  const body = () => git(repo, ['log', '-1', '--format=%B']);
  let serve: ReturnType<typeof startServe> | undefined;

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    apply(['edited', 'applied', 'patched', 'stripped', 'deleted', 'quiet'].map((n) => configMap(n, 'v1')).join(''));
  });
  afterAll(() => serve?.stop());

  it('a first sync names the manager that created each object', async () => {
    // A write in the second a run read is counted as possibly after the read (managedFields times have whole
    // seconds): the creations must be in an earlier second than this read for the next test's bound to leave them out.
    await nextSecond();
    expect((await sync()).code).toBe(0);
    expect(body()).toMatch(new RegExp(`\\n  \\+ ${ns}/edited\\.yaml  \\(kubectl-client-side-apply Update ${TIME}\\)\\n`));
    expect(body()).toMatch(/\nKubetrail-Managers: kubectl-client-side-apply=6\n/);
  });

  it('a change names who made it: kubectl edit, kubectl apply, a second manager; unknown where nobody can be named', async () => {
    await nextSecond(); // the previous read and these writes are in different seconds
    const editor = join(dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/value: v1/value: edited/" "$1"\n', { mode: 0o755 });
    execKubectlEdit(editor, 'edited');
    apply(configMap('applied', 'v2'));
    kubectl(['patch', 'configmap', 'patched', '-n', ns, '--field-manager=argocd-controller', '-p', '{"data":{"value":"v2"}}']);
    // A write that also strips managedFields (as an old client's object has none): nobody can be named.
    kubectl(['patch', 'configmap', 'stripped', '-n', ns, '--type=json', '-p',
      '[{"op":"replace","path":"/data/value","value":"v2"},{"op":"replace","path":"/metadata/managedFields","value":[{}]}]']);
    kubectl(['delete', 'configmap', 'deleted', '-n', ns]);
    // Without the render cache (which says when the last run read) the bound is the cluster's newest commit.
    rmSync(join(repo, '.git', 'kubetrail'), { recursive: true, force: true });
    expect((await sync()).code).toBe(0);
    const text = body();
    expect(text).toContain(`${id}: +0 ~4 -1`);
    expect(text).toMatch(new RegExp(`\\n  ~ ${ns}/edited\\.yaml  \\(kubectl-edit Update ${TIME}\\)\\n`));
    expect(text).toMatch(new RegExp(`\\n  ~ ${ns}/applied\\.yaml  \\(kubectl-client-side-apply Update ${TIME}\\)\\n`));
    expect(text).toMatch(new RegExp(`\\n  ~ ${ns}/patched\\.yaml  \\(argocd-controller Update ${TIME}\\)\\n`));
    expect(text).toContain(`\n  ~ ${ns}/stripped.yaml  (unknown)\n`);
    expect(text).toContain(`\n  - ${ns}/deleted.yaml  (unknown)\n`);
    expect(text).toMatch(/\nKubetrail-Managers: unknown=2, argocd-controller=1, kubectl-client-side-apply=1, kubectl-edit=1\n/);
    // The author stays kubetrail's own identity: attribution lives in the message.
    expect(git(repo, ['log', '-1', '--format=%an <%ae>']).trim()).toMatch(/^kubetrail </);
  });

  it('a manager that wrote before the previous version was read is not named for a later change', async () => {
    // `quiet` was last written by client-side apply before the first sync. An update that reverts the
    // managedFields' times cannot be made, so the test removes the new writer's entry instead: what is left is an
    // owner older than the previous read, which must not be named.
    await nextSecond();
    kubectl(['patch', 'configmap', 'quiet', '-n', ns, '--field-manager=late-writer', '-p', '{"data":{"value":"v2"}}']);
    const current = JSON.parse(kubectl(['get', 'configmap', 'quiet', '-n', ns, '-o', 'json', '--show-managed-fields']));
    const older = current.metadata.managedFields.filter((m: { manager: string }) => m.manager !== 'late-writer');
    // Give the old owner the field back: it now owns `value` with a time before the previous read.
    older[0].fieldsV1 = { 'f:data': { '.': {}, 'f:value': {} }, ...(older[0].fieldsV1['f:metadata'] ? { 'f:metadata': older[0].fieldsV1['f:metadata'] } : {}) };
    kubectl(['patch', 'configmap', 'quiet', '-n', ns, '--type=merge', '-p', JSON.stringify({ metadata: { managedFields: older } })]);
    expect((await sync()).code).toBe(0);
    expect(body()).toContain(`\n  ~ ${ns}/quiet.yaml  (unknown)\n`);
  });

  it('the API carries managers in versions and changes, and filters changes by manager', async () => {
    serve = startServe(['--config', config], { KUBETRAIL_API_TOKEN: token });
    const port = await serve.port;
    const get = async (p: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.json() as Promise<any>;
    };
    const versions = await get(`/api/v1/clusters/${id}/objects/core.v1.ConfigMap/${ns}/edited/versions`);
    expect(versions.versions).toMatchObject([
      { kind: 'changed', managers: [{ manager: 'kubectl-edit', operation: 'Update' }] },
      { kind: 'added', managers: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }] },
    ]);
    const edits = await get(`/api/v1/changes?cluster=${id}&manager=kubectl-edit`);
    expect(edits.changes.flatMap((c: any) => c.objects.map((o: any) => o.name))).toEqual(['edited']);
    const unknown = await get(`/api/v1/changes?cluster=${id}&manager=unknown`);
    expect(unknown.changes.flatMap((c: any) => c.objects.map((o: any) => o.name)).sort()).toEqual(['deleted', 'quiet', 'stripped']);
  });

  function execKubectlEdit(editor: string, name: string): void {
    // kubectl edit runs $KUBE_EDITOR on a temporary file: a script that changes it stands in for a person.
    execFileSync('kubectl', ['--kubeconfig', testenv().KUBECONFIG, 'edit', 'configmap', name, '-n', ns], { env: { ...process.env, KUBE_EDITOR: editor }, stdio: 'pipe' });
  }
});
