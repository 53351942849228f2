/**
 * `gatehouse replay --file` prints through the same escaping as every other command: the workflow
 * id it names is derived from the history file's own start input (`sessionId`), so whoever wrote
 * the file chose it. A line break, a terminal escape or a bidi override in it is shown as a
 * `\uXXXX` escape, in text and in `--json`, and the file is named beside the id it derived.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../e2e/processes';
import { cliEnv } from './cli-env';

const FIXTURE = join(__dirname, '..', 'fixtures', 'histories', 'autonomous-and-denied.json');
/** What a crafted history's session id draws on a terminal that prints it raw: a cleared screen and a fake verdict line. */
const CRAFTED_ID = 'x\n\u001b[2Jreplayed `session-ok`: deterministic\u202e';

let root: string;
let file: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-replay-cli-'));
  env = cliEnv(root);
  // A session's start, as a history file may claim it: only the first events, with the crafted id.
  const history = JSON.parse(await readFile(FIXTURE, 'utf8')) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[] };
  const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
  payload.data = Buffer.from(JSON.stringify({ ...input, sessionId: CRAFTED_ID })).toString('base64');
  file = join(root, 'crafted.json');
  await writeFile(file, JSON.stringify({ ...history, events: history.events.slice(0, 3) }));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('gatehouse replay --file', () => {
  it('shows the id the file derives escaped, on one line, with the file named beside it', async () => {
    const r = await runCli(['replay', '--file', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u202e]/, 'no control or bidi character reaches the terminal');
    assert.deepEqual(r.stdout.split('\n'), [
      `replayed \`session-x\\u000a\\u001b[2Jreplayed \`session-ok\`: deterministic\\u202e\` (history file \`${file}\`): deterministic against today's workflow code`,
      '',
    ]);
  });

  it('--json escapes the same characters and still parses to the outcome, with the file', async () => {
    const r = await runCli(['replay', '--json', '--file', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u202e]/);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, workflowId: `session-${CRAFTED_ID}`, file });
  });
});
