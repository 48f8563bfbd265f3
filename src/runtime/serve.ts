// The one place Node and Deno differ for us: starting an HTTP server for a fetch handler.
export interface RunningServer { port: number; close(): Promise<void> }

type FetchHandler = (request: Request) => Response | Promise<Response>;

/** PEM texts: the server then speaks HTTPS (an apiserver's audit webhook sends its token only over TLS). */
export interface TlsFiles { cert: string; key: string }

interface DenoLike {
  serve(opts: { port: number; hostname: string; onListen?: () => void; cert?: string; key?: string }, handler: FetchHandler): {
    addr: { port: number }; shutdown(): Promise<void>;
  };
}

export async function serveHttp(fetch: FetchHandler, opts: { port: number; hostname: string; tls?: TlsFiles }): Promise<RunningServer> {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) {
    const server = deno.serve({ port: opts.port, hostname: opts.hostname, onListen: () => {}, ...opts.tls }, fetch);
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  const { serve } = await import('@hono/node-server');
  const https = opts.tls && { createServer: (await import('node:https')).createServer, serverOptions: opts.tls };
  return new Promise((resolve) => {
    const server = serve({ fetch, port: opts.port, hostname: opts.hostname, ...https }, (info) => resolve({
      port: info.port,
      close: () => new Promise<void>((done) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
    }));
  });
}
