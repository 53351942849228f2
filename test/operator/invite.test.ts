/**
 * `gatehouse approvers|operators invite`: the enrolment link is built and checked before the invite
 * is stored, so a bad console address (`GATEHOUSE_CONSOLE_URL`) is an `InviteError` that leaves no
 * invite behind, never a bare TypeError after the row exists.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { invite, InviteError } from '../../cli/commands/invite';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await createTestDatabase('invite');
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-invite-'));
});
after(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const env = (consoleUrl: string): NodeJS.ProcessEnv => ({ GATEHOUSE_CONSOLE_URL: consoleUrl, DATABASE_URL: db.url, GATEHOUSE_STACK_FILE: join(dir, 'no-stack.json'), USER: 'tester' });
const invites = async (): Promise<number> => Number((await db.pool.query('SELECT count(*) AS n FROM console_invites')).rows[0].n);

it('refuses a console address that is not a URL, or not http(s), and stores no invite', async () => {
  await assert.rejects(invite('alice', 'approver', '1h', env('console.example:not a url')), (err: unknown) => {
    assert.ok(err instanceof InviteError, String(err));
    assert.equal(err.message, '`GATEHOUSE_CONSOLE_URL` is not a URL: give the console\'s http or https address');
    return true;
  });
  await assert.rejects(invite('alice', 'approver', '1h', env('')), InviteError);
  await assert.rejects(invite('alice', 'operator', '1h', env('ftp://ops:hunter2@console.example')), (err: unknown) => {
    assert.ok(err instanceof InviteError, String(err));
    assert.equal(err.message, '`GATEHOUSE_CONSOLE_URL` must be an http or https URL, got `ftp://ops:***@console.example/`');
    return true;
  });
  assert.equal(await invites(), 0);
});

it('a good address makes one invite and a link under it', async () => {
  const made = await invite('alice', 'approver', '1h', env('https://console.example/base/'));
  assert.match(made.link, /^https:\/\/console\.example\/enrol#[A-Za-z0-9_-]{43}$/);
  assert.equal(await invites(), 1);
});
