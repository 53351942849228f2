/**
 * mcp-filesystem: a third-party MCP server gated by Gatehouse, with no code. The demo starts a
 * worker of its own whose configuration lists the official `@modelcontextprotocol/server-filesystem`
 * (an npm dependency) on a scratch folder, with `policies/examples/mcp-filesystem.yaml` as its
 * policy. Reads run; `write_file` to the protected folder waits for a human (approved with
 * `--approve`, denied otherwise) and the file exists only if approved; `list_directory` then
 * `move_file` of a listed file is a forbidden transition, and the file stays where it was.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gatehouse } from '../client';
import type { WorkerProcess } from '../worker/devstack/worker-process';
import { connectDemo, startDemoWorker } from './context';
import { describeDecision, proposeAwaitingApproval, proposeDecided } from './propose';
import type { DemoContext, Scenario, ScenarioOutcome } from './types';

/** The example policy the demo's worker enforces. */
export const MCP_FILESYSTEM_POLICY_FILE = join(__dirname, '..', 'policies', 'examples', 'mcp-filesystem.yaml');

/** The configuration the demo's worker gets: the filesystem server on `scratch`, run with this Node. */
function configYaml(scratch: string): string {
  const bin = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
  return [
    'mcp:',
    '  upstreams:',
    '    filesystem:',
    `      command: ${JSON.stringify(process.execPath)}`,
    `      args: [${JSON.stringify(bin)}, ${JSON.stringify(scratch)}]`,
    '      sensitive: { write_file: [content] }',
    '',
  ].join('\n');
}

export const mcpFilesystem: Scenario = {
  name: 'mcp-filesystem',
  summary: 'the official MCP filesystem server behind Gatehouse: reads run, a protected write waits for a human, list → move is forbidden',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { story, config } = ctx;
    story.title('mcp-filesystem: an MCP server gated with no code');
    const work = await mkdtemp(join(tmpdir(), 'gatehouse-demo-mcp-'));
    const scratch = join(work, 'scratch');
    const taskQueue = `${config.taskQueue}-demo-mcp-${ctx.runId}`;
    let worker: WorkerProcess | undefined;
    let gh: Gatehouse | undefined;
    try {
      await mkdir(join(scratch, 'inbox'), { recursive: true });
      await mkdir(join(scratch, 'protected'), { recursive: true });
      await writeFile(join(scratch, 'inbox', 'invoice-2031.txt'), 'invoice 2031: 1,200 EUR\n');
      await writeFile(join(scratch, 'README.txt'), 'scratch folder of the mcp-filesystem demo\n');
      const configFile = join(work, 'gatehouse.yaml');
      await writeFile(configFile, configYaml(scratch));
      story.say(`upstream: @modelcontextprotocol/server-filesystem on ${scratch}`);
      story.say(`policy: policies/examples/mcp-filesystem.yaml; configuration: ${configFile}`);
      worker = await startDemoWorker(ctx, taskQueue, { policyFile: MCP_FILESYSTEM_POLICY_FILE, configFile });
      story.say(`worker pid ${worker.pid} polls task queue ${taskQueue}, with the filesystem server's tools as filesystem.*`);
      gh = await connectDemo(config, taskQueue);
      const session = ctx.track(await gh.startSession({
        sessionId: `mcp-filesystem-${ctx.runId}`,
        agentId: 'files-bot',
        owner: 'ops-017',
        intent: 'read the scratch folder, file the inbox and write release notes',
      }));
      story.say(`session ${session.sessionId} started for files-bot (owner ops-017)`);

      const readme = await proposeDecided(ctx, session, { tool: 'filesystem.read_text_file', args: { path: join(scratch, 'README.txt') }, reasoning: 'see what the folder is for' });
      story.agent('filesystem.read_text_file README.txt');
      story.gatehouse(describeDecision(readme), readme.decision);

      const notes = join(scratch, 'protected', 'release-notes.txt');
      story.agent('filesystem.write_file protected/release-notes.txt');
      const held = await proposeAwaitingApproval(ctx, session, { tool: 'filesystem.write_file', args: { path: notes, content: 'release 2.4: faster exports' }, reasoning: 'publish the release notes' });
      story.fact(`protected/release-notes.txt on disk while held: ${existsSync(notes)}`);
      const approve = ctx.options.approve;
      const written = await held.decide(approve, approve ? 'notes reviewed' : 'notes are not ready');
      story.gatehouse(describeDecision(written), written.decision);
      const notesAfter = existsSync(notes);
      story.fact(`protected/release-notes.txt on disk after the decision: ${notesAfter}`);

      const listed = await proposeDecided(ctx, session, { tool: 'filesystem.list_directory', args: { path: join(scratch, 'inbox') }, reasoning: 'find the files to file away' });
      story.agent('filesystem.list_directory inbox');
      story.gatehouse(describeDecision(listed), listed.decision);
      const source = join(scratch, 'inbox', 'invoice-2031.txt');
      const moved = await proposeDecided(ctx, session, { tool: 'filesystem.move_file', args: { source, destination: join(scratch, 'invoice-2031.txt') }, reasoning: 'tidy the inbox' });
      story.agent('filesystem.move_file inbox/invoice-2031.txt');
      story.gatehouse(describeDecision(moved), moved.decision);
      const stillThere = existsSync(source);
      story.fact(`inbox/invoice-2031.txt still in the inbox: ${stillThere}`);

      const summary = await session.end({ reason: 'mcp-filesystem demo finished' });
      story.say(`session ended: ${summary.finalState}, mode ${summary.mode}`);
      return {
        sessionIds: [session.sessionId],
        facts: {
          approved: approve,
          readStatus: readme.status,
          writeApprovalId: held.approvalId,
          writeStatus: written.status,
          notesOnDisk: notesAfter,
          listStatus: listed.status,
          moveStatus: moved.status,
          moveRules: moved.decision.reasons.map((r) => r.rule),
          invoiceStillInInbox: stillThere,
          finalState: summary.finalState,
        },
      };
    } finally {
      await gh?.close();
      await worker?.stop();
      await rm(work, { recursive: true, force: true });
    }
  },
};
