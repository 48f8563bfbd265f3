// The one place Node and Deno differ for us: starting an HTTP server for a fetch handler.
export interface RunningServer { port: number; close(): Promise<void> }

type FetchHandler = (request: Request) => Response | Promise<Response>;

interface DenoLike {
  serve(opts: { port: number; hostname: string; onListen?: () => void }, handler: FetchHandler): {
    addr: { port: number }; shutdown(): Promise<void>;
  };
}

export async function serveHttp(fetch: FetchHandler, opts: { port: number; hostname: string }): Promise<RunningServer> {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) {
    const server = deno.serve({ port: opts.port, hostname: opts.hostname, onListen: () => {} }, fetch);
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  const { serve } = await import('@hono/node-server');
  return new Promise((resolve) => {
    const server = serve({ fetch, port: opts.port, hostname: opts.hostname }, (info) => resolve({
      port: info.port,
      close: () => new Promise<void>((done) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
    }));
  });
}
