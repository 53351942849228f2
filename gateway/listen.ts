/**
 * Where a server (the gateway, the console) listens: a port asked for by name (taken, it is an
 * error), or a preferred one when it can be bound, else a free one (`fellBack`, for the caller to say).
 */
import type { FastifyInstance } from 'fastify';

export async function listen(app: FastifyInstance, host: string, at: { readonly port: number } | { readonly preferredPort: number }): Promise<{ port: number; fellBack: boolean }> {
  if ('port' in at) return { port: await listenOn(app, host, at.port), fellBack: false };
  return listenPreferred(app, host, at.preferredPort);
}

async function listenOn(app: FastifyInstance, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Listens on `preferred` when it can be bound, else on a free port: a port asked for by name
 * (`GATEHOUSE_GATEWAY_PORT`) that is taken is an error instead, and never gets here.
 */
async function listenPreferred(app: FastifyInstance, host: string, preferred: number): Promise<{ port: number; fellBack: boolean }> {
  if (preferred === 0) return { port: await listenOn(app, host, 0), fellBack: false };
  try {
    return { port: await listenOn(app, host, preferred), fellBack: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return { port: await listenOn(app, host, 0), fellBack: true };
  }
}
