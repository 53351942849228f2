/**
 * The console tests' kit: one red-team harness and worker, the console on it, and Debian's
 * Chromium (headless, driven by playwright-core) with Chromium's virtual authenticator (CDP
 * `WebAuthn.*`) for passkeys. A person is a browser context with its own authenticator; screenshots
 * go to the test's temp folder and their paths are printed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { SessionHandle } from '../../client';
import { invite } from '../../cli/commands/invite';
import { startConsole, type ConsoleOptions, type RunningConsole } from '../../console/server';
import { eventually } from '../support/eventually';
import { pendingApproval, redTeam, trust, type Agent, type RedTeam } from '../redteam/attacker';

export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface ConsoleKit {
  readonly rt: RedTeam;
  readonly console: RunningConsole;
  readonly browser: Browser;
  readonly shots: string;
  /** A one-time enrolment link, made as `gatehouse approvers invite` makes it. */
  invite(name: string, role?: 'approver' | 'operator', expires?: string): Promise<string>;
  /** A person: a fresh browser context and page with a virtual authenticator. */
  person(name: string): Promise<Person>;
  close(): Promise<void>;
}

export interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Saves a screenshot of the page under the test's temp folder and prints its path. */
  shot(label: string): Promise<string>;
  /** Calls the console's API from the page (its cookie, its origin); `csrf: false` leaves the token out. */
  api(path: string, body?: unknown, options?: { csrf?: boolean }): Promise<{ status: number; body: any }>;
  /** Signs WebAuthn request options with this person's authenticator, as the page would. */
  sign(options: unknown): Promise<any>;
}

// Page code as source text: tsx's helpers (`__name`) do not exist in the page.
const API_IN_PAGE = `async ({ path, body, withCsrf }) => {
  const me = await fetch('/api/me').then((r) => r.json()).catch(() => ({}));
  const headers = { 'content-type': 'application/json' };
  if (withCsrf && me.csrf) headers['x-gatehouse-csrf'] = me.csrf;
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}`;

const SIGN_IN_PAGE = `async (o) => {
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
  const enc = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const cred = await navigator.credentials.get({
    publicKey: { challenge: dec(o.challenge), rpId: o.rpId, allowCredentials: o.allowCredentials.map((c) => ({ id: dec(c.id), type: 'public-key' })), userVerification: 'required' },
  });
  const r = cred.response;
  return { id: cred.id, rawId: cred.id, type: 'public-key', response: { authenticatorData: enc(r.authenticatorData), clientDataJSON: enc(r.clientDataJSON), signature: enc(r.signature) }, clientExtensionResults: {} };
}`;

/** `options` adds console options made once the harness runs (e.g. a Temporal UI server on its dev server). */
export async function consoleKit(area: string, options?: (rt: RedTeam) => Promise<Partial<ConsoleOptions>>): Promise<ConsoleKit> {
  const rt = await redTeam(area);
  const running = await startConsole({ pool: rt.h.audit.pool, client: rt.raw, keyset: trust.keyset, registrar: trust.registrar, ...(options ? await options(rt) : {}) });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const shots = mkdtempSync(join(tmpdir(), `gatehouse-console-${area}-`));
  const env = { ...process.env, GATEHOUSE_CONSOLE_URL: running.url, DATABASE_URL: rt.h.audit.url, GATEHOUSE_STACK_FILE: join(shots, 'no-stack.json') };
  const people: BrowserContext[] = [];
  return {
    rt,
    console: running,
    browser,
    shots,
    async invite(name, role = 'approver', expires = '1h') {
      return (await invite(name, role, expires, env)).link;
    },
    async person(name) {
      const context = await browser.newContext();
      people.push(context);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      let n = 0;
      return {
        name,
        context,
        page,
        async shot(label) {
          const path = join(shots, `${name}-${String(++n).padStart(2, '0')}-${label}.png`);
          await page.screenshot({ path, fullPage: true });
          process.stdout.write(`# screenshot ${path}\n`);
          return path;
        },
        async api(path, body, options = {}) {
          return (await page.evaluate(`(${API_IN_PAGE})(${JSON.stringify({ path, body, withCsrf: options.csrf !== false })})`)) as { status: number; body: any };
        },
        async sign(options) {
          return page.evaluate(`(${SIGN_IN_PAGE})(${JSON.stringify(options)})`);
        },
      };
    },
    async close() {
      for (const c of people) await c.close().catch(() => undefined);
      await browser.close();
      await running.close();
      await rt.close();
    },
  };
}

export interface HeldCall {
  readonly s: SessionHandle;
  /** The agent's `propose`: settles when the workflow answers the held call (after the vote). */
  readonly call: Promise<{ status: string }>;
  readonly approvalId: string;
}

/** A fresh session of `agent` holding `billing.deleteRecords` with `filter` for approval. */
export async function heldDelete(agent: Agent, filter: { customerId: string; period?: string }): Promise<HeldCall> {
  const s = await agent.gh.startSession({ intent: 'remove a churned customer\'s invoices' });
  const call = s.propose({ tool: 'billing.deleteRecords', args: filter, reasoning: 'the customer left; their invoices must go' });
  const p = await pendingApproval(s);
  return { s, call, approvalId: p.approvalId };
}

/** Opens an invite link and enrols; resolves once the inbox shows the person signed in. */
export async function enrol(p: Person, link: string): Promise<void> {
  await p.page.goto(link);
  await p.page.locator('#enrol').waitFor();
  await p.shot('enrol');
  await p.page.click('#enrol');
  await p.page.locator('#me', { hasText: p.name }).waitFor();
}

/** Waits for the card's outcome line and returns its text. */
export async function outcomeOf(c: ReturnType<Page['locator']>): Promise<string> {
  const o = c.locator('.outcome');
  await eventually(async () => ((await o.innerText()).trim() ? true : undefined), { what: 'the outcome of a vote on the card' });
  return (await o.innerText()).trim();
}

/** Waits until the inbox shows the approval's card; returns its locator. */
export async function card(p: Person, approvalId: string) {
  const c = p.page.locator(`article[data-approval-id="${approvalId}"]`);
  await c.waitFor();
  return c;
}

export { eventually };
