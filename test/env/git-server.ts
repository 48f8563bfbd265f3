// A real git smart-HTTP remote for tests: `git http-backend` (the git CLI's own CGI) behind node:http,
// serving bare repositories under `root`, with token auth (Basic with the token as password, or Bearer).
import { spawn, execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GitServer {
  url: string; // http://127.0.0.1:PORT
  repoUrl(name: string): string;
  createBareRepo(name: string, branch?: string): string;
  /** The requests served since the start or the last clearRequests(), as `METHOD path?query` (authorized only). */
  requests(): string[];
  clearRequests(): void;
  close(): Promise<void>;
}

const requestLog = (root: string) => join(root, 'requests.log');

const backend = execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim() + '/git-http-backend';

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ')) return header.slice(7) === token;
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1) === token;
  }
  return false;
}

function runBackend(req: IncomingMessage, res: ServerResponse, root: string): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    REMOTE_USER: 'kubetrail-test', // enables receive-pack for authenticated users
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
  };
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
  // A repository holding the file `no-protocol-v2` is served as by a proxy that drops the header: version 0 only.
  const repoDir = join(root, env.PATH_INFO.split('/')[1] ?? '');
  if (req.headers['git-protocol'] && !existsSync(join(repoDir, 'no-protocol-v2'))) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
  const child = spawn(backend, [], { env });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.stderr.on('data', () => {});
  child.on('close', () => res.end());
}

/** Serves until killed; prints its URL as the first line on stdout. */
export async function serveGit(root: string, token: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  const server = createServer((req, res) => {
    if (!authorized(req, token)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="kubetrail-test"' });
      return void res.end('unauthorized\n');
    }
    appendFileSync(requestLog(root), `${req.method} ${req.url}\n`);
    runBackend(req, res, root);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/**
 * Starts the server in a child process, so tests may call the git CLI synchronously without blocking it.
 * By hand: `node test/env/git-server.ts ROOT TOKEN`.
 */
export async function startGitServer(opts: { root: string; token: string }): Promise<GitServer> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), opts.root, opts.token], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`git server exited with ${code}`)));
  });
  return {
    url,
    repoUrl: (name) => `${url}/${name}`,
    createBareRepo(name, branch = 'main') {
      const path = join(opts.root, name);
      execFileSync('git', ['init', '-q', '--bare', '-b', branch, path]);
      // Partial clones allowed, as GitHub, GitLab and Gitea do.
      execFileSync('git', ['-C', path, 'config', 'uploadpack.allowFilter', 'true']);
      return path;
    },
    requests: () => {
      try {
        return readFileSync(requestLog(opts.root), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    clearRequests: () => writeFileSync(requestLog(opts.root), ''),
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [root, token] = process.argv.slice(2);
  if (!root || !token) {
    console.error('usage: node test/env/git-server.ts ROOT TOKEN');
    process.exit(2);
  }
  await serveGit(root, token);
}
