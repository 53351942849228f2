/**
 * The environment an operator command runs with in these tests: a key folder of its own
 * (`XDG_CONFIG_HOME`), no running stack (the stack file points nowhere), and none of the variables
 * that would point it at another keyset, policy registry or deployment.
 */
import { join } from 'node:path';

const STRIPPED = [
  'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICY', 'GATEHOUSE_POLICIES', 'GATEHOUSE_AGENT_TOKEN', 'GATEHOUSE_DATA_DIR',
  'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'SLACK_BOT_TOKEN',
];

export function cliEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), GATEHOUSE_STACK_FILE: join(dir, 'no-stack.json') };
  for (const key of STRIPPED) delete env[key];
  return env;
}
