/** A fixture MCP server of test/upstreams/fixtures started in its Streamable HTTP mode. */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts a fixture server (test/upstreams/fixtures) in its `http` mode; resolves with it and the
 * port it printed (`<name> listening on <port>` on stderr). The caller kills it.
 */
export async function startHttpFixture(fixture: string, name: string): Promise<{ readonly child: ChildProcess; readonly port: number }> {
  const child = spawn(process.execPath, [fixture, 'http'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = new RegExp(`${name} listening on (\\d+)`).exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} server exited (${String(code)}): ${err}`)));
  });
  return { child, port };
}
