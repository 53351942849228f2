/**
 * The Web UI check of stack-server.test.ts: on the running `--temporal server` stack, an operator
 * invited from the CLI enrols a passkey in Chromium (virtual authenticator), opens
 * `<console>/temporal/`, and Temporal's UI — the UI server against the full server over mutual
 * TLS, through the console's proxy — renders the session in its workflow list, while its API
 * (one call) lists it too. A screenshot goes to the temp folder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { invite } from '../../cli/commands/invite';
import type { RunningStack } from '../../worker/devstack/stack';
import { CHROMIUM } from '../console/browser';
import { eventually } from '../support/eventually';

export async function webUi(stack: RunningStack, env: NodeJS.ProcessEnv, workflowId: string): Promise<void> {
  const consoleUrl = stack.stackFile.console?.url;
  assert.ok(consoleUrl, 'the stack runs the console');
  assert.equal(stack.parts.find((p) => p.name === 'temporal web ui')?.where.split(' ')[0], new URL('/temporal/', consoleUrl).toString());
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
    await page.goto((await invite('olga', 'operator', '1h', env)).link);
    await page.click('#enrol');
    await page.locator('#me', { hasText: 'olga' }).waitFor();

    const namespace = stack.stackFile.temporal.namespace;
    const index = await page.goto(new URL(`/temporal/namespaces/${namespace}/workflows`, consoleUrl).toString());
    assert.equal(index?.status(), 200);
    // Rendered by the UI's own scripts in the browser (the proxy's policy lets them run).
    await page.getByText(workflowId).first().waitFor({ timeout: 60_000 });
    const shot = join(mkdtempSync(join(tmpdir(), 'gatehouse-temporal-ui-')), 'workflows.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stdout.write(`# screenshot ${shot}\n`);

    const query = encodeURIComponent(`WorkflowId="${workflowId}"`);
    const listed = await eventually(async () => {
      const r = (await page.evaluate(`fetch('/temporal/api/v1/namespaces/${namespace}/workflows?query=${query}').then(async (r) => ({ status: r.status, body: await r.json() }))`)) as { status: number; body: { executions?: { execution: { workflowId: string } }[] } };
      assert.equal(r.status, 200);
      return r.body.executions?.length ? r.body.executions : undefined;
    }, { what: 'the session in the ui api\'s workflow list' });
    assert.deepEqual(listed.map((e) => e.execution.workflowId), [workflowId]);
  } finally {
    await browser.close();
  }
}
