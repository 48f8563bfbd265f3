// The timeline page in a real browser (Debian's headless chromium, driven by puppeteer-core) against `kubetrail
// serve` (under Node or Deno) over a repository synced from the real apiserver: sign in, the overview, an object's
// versions and the diff of two of them; no data without the read token; hostile values stay text.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, root, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';
import { startServe } from '../../helpers/serve.ts';

const ns = `ui-${runtime}`;
const id = `ui-${runtime}`;
const token = 'read-token-for-the-ui-test';
const name = 'ledger-7q';
// An annotation a hostile writer controls: it must show as text, and no script or handler of it may run.
const hostile = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
const artifacts = process.env.KUBETRAIL_ARTIFACTS ?? join(root, 'test-results');
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const deployment = (image: string, replicas: number, note: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  annotations: {example.com/note: ${JSON.stringify(note)}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: app, image: "${image}"}]}
`;

describe(`timeline page in headless chromium (kubetrail serve under ${runtime})`, () => {
  const dir = tempDir('ui');
  const repo = join(dir, 'repo');
  const commits: string[] = []; // created; image changed + hostile annotation; scaled
  let base = '';
  let stop: () => Promise<void>;
  let browser: Browser;
  const shots = join(artifacts, `ui-${runtime}`);
  const shot = (page: Page, file: string) => page.screenshot({ path: join(shots, file), fullPage: true });

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    await ensureNamespace(adminClient(), ns);
    const cluster = [`repo: ${repo}`, 'api: {host: 127.0.0.1}', 'clusters:', `  - id: ${id}`, '    name: UI test', '    tags: {env: test}',
      `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [apps.v1.Deployment, core.v1.ConfigMap]'];
    writeFileSync(join(dir, 'sync.yaml'), cluster.join('\n'));
    // serve knows the remote only for its links: it never syncs here, so nothing is pushed.
    writeFileSync(join(dir, 'serve.yaml'), [...cluster, 'remote: {url: "https://github.com/acme/cluster-history.git"}'].join('\n'));
    const sync = async () => {
      const r = await runCli(['sync', '--config', join(dir, 'sync.yaml')]);
      expect(r.code, r.stderr).toBe(0);
      commits.push(git(repo, ['rev-parse', 'HEAD']).trim());
    };
    apply(deployment('nginx:1.27', 2, 'plain'));
    await sync();
    await new Promise((r) => setTimeout(r, 1100));
    apply(deployment('nginx:1.27', 2, hostile));
    kubectl(['-n', ns, 'set', 'image', `deployment/${name}`, 'app=nginx:1.28']);
    await sync();
    await new Promise((r) => setTimeout(r, 1100));
    kubectl(['-n', ns, 'scale', `deployment/${name}`, '--replicas=5']);
    await sync();
    const served = startServe(['--config', join(dir, 'serve.yaml')], { KUBETRAIL_API_TOKEN: token });
    base = `http://127.0.0.1:${await served.port}`;
    stop = served.stop;
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await stop?.();
  });

  it('has three commits of the object', () => {
    expect(new Set(commits).size).toBe(3);
    expect(git(repo, ['log', '--format=%H', '--', `clusters/${id}/apps.v1.Deployment/${ns}/${name}.yaml`]).trim().split('\n')).toEqual([...commits].reverse());
  });

  it('without the read token the pages show no data', async () => {
    const object = `/ui/clusters/${id}/objects/apps.v1.Deployment/${ns}/${name}`;
    for (const path of ['/ui/', `/ui/clusters/${id}`, `/ui/timeline?cluster=${id}`, object, `${object}?from=${commits[0]}&to=${commits[2]}`, '/ui/nothing-here']) {
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Cookie: 'kubetrail_ui=v1.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, { Cookie: `kubetrail_ui=${token}` }] as Record<string, string>[]) {
        const res = await fetch(base + path, { headers, redirect: 'manual' });
        const body = await res.text();
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(body).toContain('Read token');
        for (const data of ['nginx', 'replicas', 'apps.v1.Deployment</', `${id}: +`, 'UI test', 'example.com/note']) expect(body, `${path}: ${data}`).not.toContain(data);
      }
    }
    expect((await fetch(`${base}/`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
    // The bearer token itself reads the pages too (curl); the API never takes the UI's cookie.
    expect((await fetch(`${base}/ui/`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('signs in, shows the overview, opens the object, and diffs two chosen versions', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    const pwned: string[] = [];
    page.on('dialog', (d) => { pwned.push(d.message()); void d.dismiss(); });
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/ui/`);
    expect(await page.$eval('main', (m) => m.textContent)).not.toContain(name);
    await shot(page, '1-sign-in.png');
    // Keyboard first: the skip link is the first stop.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.type('input[name=token]', token);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    const cookie = (await browser.defaultBrowserContext().cookies()).find((c) => c.name === 'kubetrail_ui')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie.value).not.toContain(token);
    // The cookie is the UI's only: the API still wants the bearer token.
    expect((await fetch(`${base}/api/v1/clusters`, { headers: { Cookie: `kubetrail_ui=${cookie.value}` } })).status).toBe(401);

    // The overview: objects by type, the last commit.
    expect(page.url()).toBe(`${base}/ui/`);
    const overview = await page.$eval('main', (m) => m.innerText);
    expect(overview).toContain('UI test');
    expect(overview).toMatch(/apps\.v1\.Deployment\s+1/);
    expect(overview).toContain(commits[2].slice(0, 8));
    expect(await page.$eval(`a[href="https://github.com/acme/cluster-history/commit/${commits[2]}"]`, (a) => a.textContent)).toBe('on the forge');
    await shot(page, '2-overview.png');

    // Type → objects → the object.
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/ui/clusters/${id}?type=apps.v1.Deployment"]`)]);
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/ui/clusters/${id}/objects/apps.v1.Deployment/${ns}/${name}"]`)]);
    const versions = await page.$$eval('table.versions tbody tr', (rows) => rows.map((r) => r.querySelector('th')!.textContent));
    expect(versions).toHaveLength(3);
    // Versions newest first; pick the oldest as From and the newest as To, by keyboard-reachable radios.
    await page.click(`input[name=from][value="${commits[0]}"]`);
    await page.click(`input[name=to][value="${commits[2]}"]`);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    expect(page.url()).toContain(`from=${commits[0]}`);
    const rows = await page.$$eval('table.diff tbody tr', (trs) => trs.map((tr) => ({
      field: tr.querySelector('th code')!.textContent, from: tr.querySelector('td.from')!.textContent!.trim(), to: tr.querySelector('td.to')!.textContent!.trim(),
    })));
    expect(rows).toContainEqual({ field: 'spec.template.spec.containers[0].image', from: 'nginx:1.27', to: 'nginx:1.28' });
    expect(rows).toContainEqual({ field: 'spec.replicas', from: '2', to: '5' });
    // The hostile annotation is there, as text; nothing of it ran or became an element.
    expect(rows).toContainEqual({ field: 'metadata.annotations["example.com/note"]', from: 'plain', to: hostile });
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$('main script, main img')).toHaveLength(0);
    expect(pwned).toEqual([]);
    await shot(page, '3-object-diff.png');
    await page.setViewport({ width: 880, height: 780 });
    await page.screenshot({ path: join(shots, '3-object-diff-small.png') }); // the README's (docs/timeline-page.png)

    // On a phone: nothing wider than the screen, the diff stacked.
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, '4-object-diff-phone.png');
    await page.close();
  });

  it('the timeline shows the commits with their counts by type and managers, and filters by name', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
    await page.goto(`${base}/ui/timeline?cluster=${id}&type=apps.v1.Deployment`);
    const items = await page.$$eval('ol.commits > li', (lis) => lis.map((li) => (li as HTMLElement).innerText));
    expect(items).toHaveLength(3);
    expect(items[0]).toContain(commits[2].slice(0, 8));
    expect(items[0]).toContain('apps.v1.Deployment: ~1');
    expect(items[2]).toContain('apps.v1.Deployment: +1');
    // Managers as the commit's trailer names them.
    const trailer = git(repo, ['log', '-1', '--format=%(trailers:key=Kubetrail-Managers,valueonly)', commits[1]]).trim();
    expect(trailer).toContain('kubectl-set');
    expect(items[1]).toMatch(/Managers: .*kubectl-set/);
    expect(await page.$eval('svg.chart title', (t) => t.textContent)).toMatch(/^3 commits from /);
    await shot(page, '5-timeline.png');
    await page.goto(`${base}/ui/timeline?cluster=${id}&name=no-such-object`);
    expect(await page.$$('ol.commits > li')).toHaveLength(0);
    await page.goto(`${base}/ui/timeline?name=${name.slice(0, 5)}`);
    expect(await page.$$('ol.commits > li')).toHaveLength(3);
    await page.close();
  });

  it('server time of the overview and the object page (reported, with a generous bound)', async () => {
    const timing = async (path: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        await res.text();
        ms.push(Number(res.headers.get('server-timing')!.match(/dur=([\d.]+)/)![1]));
      }
      ms.sort((a, b) => a - b);
      return { p50: ms[9], max: ms[19] };
    };
    const overview = await timing('/ui/');
    const object = await timing(`/ui/clusters/${id}/objects/apps.v1.Deployment/${ns}/${name}`);
    const report = { runtime, commits: commits.length, overview: { p50: overview.p50, max: overview.max }, object: { p50: object.p50, max: object.max } };
    writeFileSync(join(shots, 'server-timing.json'), JSON.stringify(report, null, 2));
    console.log('timeline page server time (ms):', JSON.stringify(report));
    expect(overview.p50).toBeLessThan(300);
    expect(object.p50).toBeLessThan(300);
  });
});
