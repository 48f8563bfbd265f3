// Command-line flags: each command takes only its own (usage error, exit 2, naming the flag), and flags that set
// config values are validated like the file (config error, exit 1, naming the flag).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runtime, tempDir } from '../../helpers/testenv.ts';

describe(`command-line flags (CLI under ${runtime})`, () => {
  const dir = tempDir('flags');
  const config = join(dir, 'k.yaml');
  writeFileSync(config, `repo: ${join(dir, 'repo')}\nclusters: [{id: a, kubeconfig: /nonexistent}]\n`);

  it.each([
    [['serve', '--dry-run'], '--dry-run', 'serve'],
    [['serve', '--schedule', '* * * * *'], '--schedule', 'serve'],
    [['serve', '--push'], '--push', 'serve'],
    [['run', '--json'], '--json', 'run'],
    [['types', '--port', '1'], '--port', 'types'],
    [['sync', '--port', '1'], '--port', 'sync'],
    [['sync', '--schedule', '* * * * *'], '--schedule', 'sync'],
  ])('%j is a usage error naming the flag', async (args, flag, command) => {
    const res = await runCli([...args, '--config', config]);
    expect(res.stderr).toBe(`kubetrail: ${flag} is not an option of "kubetrail ${command}" (try --help)\n`);
    expect(res.code).toBe(2);
  });

  it.each([
    [['sync', '--push', '--remote', 'http://127.0.0.1:9/r.git'], /^kubetrail: config error: --remote: http:\/\/ sends the git token in clear/],
    [['sync', '--push', '--remote', 'https://x.example/r.git', '--branch', 'a..b'], /^kubetrail: config error: --branch: not a git branch name/],
    [['run', '--schedule', 'every minute'], /^kubetrail: config error: --schedule: invalid cron expression/],
  ])('%j is refused before anything runs, naming the flag', async (args, message) => {
    const res = await runCli([...args, '--config', config]);
    expect(res.stderr).toMatch(message);
    expect(res.code).toBe(1);
  });

  it('an http remote in the file is refused, naming the field, unless allowed', async () => {
    const insecure = join(dir, 'insecure.yaml');
    writeFileSync(insecure, `repo: ${join(dir, 'repo2')}\nremote: {url: "http://127.0.0.1:9/r.git"}\nclusters: [{id: a, kubeconfig: /nonexistent}]\n`);
    const res = await runCli(['serve', '--config', insecure, '--port', '0']);
    expect(res.stderr).toMatch(/^kubetrail: config error: remote\.url: http:\/\/ sends the git token in clear.*allowInsecureHttp: true/);
    expect(res.code).toBe(1);
  });
});
