/**
 * What the gateway tests share: a worker and databases from the workflow harness, the gateway
 * in-process on 127.0.0.1:0, and a small `fetch` helper that returns status, headers and JSON.
 */
import type { Worker } from '@temporalio/worker';
import { RevocationStore } from '../../audit/credentials';
import { RevocationCache } from '../../audit/revocation-cache';
import { startGateway, type RunningGateway } from '../../gateway/start';
import type { GatewayLimits } from '../../gateway/limits';
import type { GatehouseWorkerOptions } from '../../worker/create-worker';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any route
}

export interface GatewayFixture {
  readonly h: Harness;
  readonly gateway: RunningGateway;
  readonly revocations: RevocationStore;
  call(method: string, path: string, options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Reply>;
  close(): Promise<void>;
}

/** Harness, running worker and gateway; `close()` stops them in reverse order. */
export async function startFixture(area: string, limits: Partial<GatewayLimits>, workerOptions: Partial<GatehouseWorkerOptions> = {}): Promise<GatewayFixture> {
  const h = await createHarness(area);
  const worker: Worker = await h.worker(workerOptions);
  const running = worker.run();
  const revocations = new RevocationStore(h.audit.pool);
  const cache = await RevocationCache.open(h.audit.pool);
  const gateway = await startGateway({
    temporal: { address: h.address, namespace: h.namespace, taskQueue: h.taskQueue },
    keyset: testTrust().keyset,
    revocations: cache,
    host: '127.0.0.1',
    port: 0,
    limits,
    env: {},
  });
  return {
    h,
    gateway,
    revocations,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${gateway.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await gateway.close();
      await cache.close();
      worker.shutdown();
      await running;
      await h.close();
    },
  };
}
