/**
 * Red team: Temporal's Web UI. Its HTTP API could signal, terminate, reset and start workflows, so
 * it is never open: the UI server listens behind mutual TLS with a CA of its own whose one client
 * certificate the console holds, and the console serves it under `/temporal/` to operators only,
 * reads only. The attacker is a local process (no certificate, or the gateway's Temporal client
 * certificate of the same data dir) and an agent with its own credential; an approver's session
 * is not enough. The UI server runs against the runner's dev server here (its own listener is what
 * is attacked); test/production runs it against the full server over mutual TLS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtTemporalUi } from '../../worker/devstack/temporal-ui-binary';
import { startTemporalUi, type RunningTemporalUi } from '../../worker/devstack/temporal-ui';
import { ensureTemporalTls } from '../../worker/devstack/temporal-tls';
import { ensureTemporalUiTls } from '../../worker/devstack/temporal-ui-tls';
import { consoleKit, enrol, type ConsoleKit, type Person } from '../console/browser';
import { eventually } from '../support/eventually';
import { assertAuditVerifies, type Agent } from './attacker';

const binary = builtTemporalUi();
const skip = binary ? false : 'the temporal ui server is not built here: `.ci/run` builds it (CI always does), or set TEMPORAL_UI_DIR';

describe('red team: temporal web ui', { skip }, () => {
  let dir: string;
  let ui: RunningTemporalUi;
  let kit: ConsoleKit;
  let agent: Agent;
  let olga: Person;
  let alice: Person;
  let workflowId: string;
  let gatewayCert: { cert: Buffer; key: Buffer };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-redteam-temporal-ui-'));
    const main = await ensureTemporalTls(join(dir, 'tls'));
    gatewayCert = { cert: await readFile(main.clients.gateway.certFile), key: await readFile(main.clients.gateway.keyFile) };
    kit = await consoleKit('redteam_temporal_ui', async (rt) => {
      const tls = await ensureTemporalUiTls(join(dir, 'tls'), main);
      ui = await startTemporalUi({ binary: binary!, frontend: rt.h.address, namespace: rt.h.namespace, tls, stateDir: join(dir, 'ui'), secureCookies: false });
      return { temporalUi: ui.upstream };
    });
    agent = await kit.rt.agent('mallory-bot', 'eng-007');
    workflowId = (await agent.gh.startSession({ intent: 'read invoices' })).workflowId;
    olga = await kit.person('olga');
    await enrol(olga, await kit.invite('olga', 'operator'));
    alice = await kit.person('alice');
    await enrol(alice, await kit.invite('alice', 'approver'));
  });
  after(async () => {
    await kit?.close();
    await ui?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const listPath = () => `/temporal/api/v1/namespaces/${kit.rt.h.namespace}/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`;
  const terminatePath = () => `/temporal/api/v1/namespaces/${kit.rt.h.namespace}/workflows/${workflowId}/terminate`;

  /** One HTTPS request straight to the UI server's listener, as any local process can make. */
  function direct(path: string, o: { method?: string; cert?: Buffer; key?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; cookie?: string }> {
    const url = new URL(ui.upstream.origin);
    return readFile(ui.upstream.caFile).then((ca) => new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path, method: o.method ?? 'GET', ca, ...(o.cert ? { cert: o.cert, key: o.key } : {}), headers: o.headers ?? {} }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.map((c) => c.split(';')[0]).join('; ') });
      });
      req.on('error', reject);
      req.end();
    }));
  }

  async function running(): Promise<void> {
    assert.equal((await kit.rt.raw.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING', 'the session still runs');
  }

  it('a local process without the console\'s certificate is refused by the ui server at connect', async () => {
    const console = { cert: await readFile(ui.upstream.certFile), key: await readFile(ui.upstream.keyFile) };
    assert.equal((await direct('/healthz', console)).status, 200, 'the console\'s certificate is let in');
    await assert.rejects(direct(listPath()), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    // The gateway's Temporal client certificate (the per-data-dir CA) is not of the UI's CA.
    await assert.rejects(direct(listPath(), gatewayCert), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
  });

  it('the proxy without an operator session: 401 or 403, nothing forwarded', async () => {
    const url = (path: string) => new URL(path, kit.console.url).toString();
    for (const path of ['/temporal/', listPath()]) {
      const none = await fetch(url(path));
      assert.equal(none.status, 401, `no cookie: ${path}`);
      assert.equal(((await none.json()) as { code: string }).code, 'signed-out');
      const bearer = await fetch(url(path), { headers: { authorization: `Bearer ${agent.token}` } });
      assert.equal(bearer.status, 401, `agent bearer token: ${path}`);
      const asCookie = await fetch(url(path), { headers: { cookie: `gatehouse_console=${agent.token}` } });
      assert.equal(asCookie.status, 401, `agent token as a cookie: ${path}`);
      const approver = await alice.api(path);
      assert.equal(approver.status, 403, `approver: ${path}`);
      assert.equal(approver.body.code, 'operator-only');
    }
  });

  it('an operator lists the session\'s workflow; a write is refused by the proxy and by the ui server', async () => {
    const index = await olga.page.goto(new URL('/temporal/', kit.console.url).toString());
    assert.equal(index?.status(), 200);
    assert.match(await index!.text(), /<base|_app\//);
    const listed = await eventually(async () => {
      const r = await olga.api(listPath());
      assert.equal(r.status, 200);
      return (r.body.executions ?? []).length > 0 ? r.body.executions : undefined;
    }, { what: 'the session in the ui\'s workflow list' });
    assert.deepEqual(listed.map((e: { execution: { workflowId: string } }) => e.execution.workflowId), [workflowId]);

    const viaProxy = await olga.api(terminatePath(), { reason: 'ui' });
    assert.equal(viaProxy.status, 405);
    assert.equal(viaProxy.body.code, 'read-only');
    // Straight to the listener with the console's own certificate and the ui's csrf token: its own 405.
    const console = { cert: await readFile(ui.upstream.certFile), key: await readFile(ui.upstream.keyFile) };
    const first = await direct('/temporal/api/v1/settings', console);
    const token = /_csrf=([^;]+)/.exec(first.cookie ?? '')?.[1];
    assert.ok(token, 'the ui server hands out its csrf cookie');
    const write = await direct(terminatePath(), { ...console, method: 'POST', headers: { cookie: `_csrf=${token}`, 'x-csrf-token': token, 'content-type': 'application/json' } });
    assert.equal(write.status, 405);
    await running();
    await assertAuditVerifies(kit.rt.h);
  });
});
