// A plain-HTTP front for the test apiserver that notes every request a kubetrail process makes through it (path,
// whether it asked for metadata only, bytes of the answer): what a run read, seen from outside the process.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { testenv } from './testenv.ts';

export interface SeenRequest { method: string; path: string; metadataOnly: boolean; status: number; bytes: number }

export interface CountingProxy {
  url: string;
  seen: SeenRequest[];
  /** A kubeconfig (admin token) whose server is this proxy. */
  kubeconfig: string;
  close(): Promise<void>;
}

export async function startCountingProxy(): Promise<CountingProxy> {
  const { APISERVER_URL, CA_FILE, ADMIN_TOKEN } = testenv();
  const upstream = new URL(APISERVER_URL);
  const agent = new https.Agent({ ca: readFileSync(CA_FILE), keepAlive: true });
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers, host: upstream.host };
    const out = https.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent }, (up) => {
      let bytes = 0;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (c: Buffer) => {
        bytes += c.length;
        res.write(c);
      });
      up.on('end', () => {
        seen.push({
          method: req.method ?? 'GET', path: (req.url ?? '').split('?')[0], status: up.statusCode ?? 0, bytes,
          metadataOnly: String(req.headers.accept ?? '').includes('as=PartialObjectMetadataList'),
        });
        res.end();
      });
    });
    out.on('error', (e) => res.destroy(e));
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: proxy', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true', // plain HTTP to the proxy on loopback
    'users:', '- name: admin', '  user:', `    token: ${ADMIN_TOKEN}`,
    'contexts:', '- name: proxy', '  context:', '    cluster: proxy', '    user: admin',
    'current-context: proxy', '',
  ].join('\n');
  return {
    url, seen, kubeconfig,
    close: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
