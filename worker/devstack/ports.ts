/**
 * Free-port helpers for the dev stack: every server Gatehouse starts binds 127.0.0.1.
 */
import { createServer } from 'node:net';

/** Host every embedded server binds. */
export const LOCALHOST = '127.0.0.1';

/** A port the OS reports free right now on 127.0.0.1 (another process may still take it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOCALHOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, LOCALHOST, () => server.close(() => resolve(true)));
  });
}

/** Thrown when a port asked for explicitly is already bound by another process. */
export class PortTakenError extends Error {
  readonly type = 'PortTaken';
  constructor(readonly port: number, readonly what: string) {
    super(`port \`${port}\` on ${LOCALHOST} is taken: cannot start ${what}`);
    this.name = 'PortTakenError';
  }
}

/** `wanted` when it is free, otherwise a free port (for servers whose port is a convenience, like the web ui). */
export async function preferredPort(wanted: number): Promise<number> {
  return (await isPortFree(wanted)) ? wanted : freePort();
}
