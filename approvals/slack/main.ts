/**
 * Runs the Slack approvals app on its own (`node --import tsx approvals/slack/main.ts`, or the
 * `approvals` service of docker-compose). Configuration from the environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `SLACK_BOT_TOKEN` | bot token (`xoxb-...`), required |
 * | `SLACK_SIGNING_SECRET` | signing secret, required in HTTP mode |
 * | `SLACK_APP_TOKEN` | app-level token (`xapp-...`) for Socket Mode |
 * | `SLACK_SOCKET_MODE` | `true`/`false`; default: Socket Mode when `SLACK_APP_TOKEN` is set |
 * | `SLACK_PORT` | HTTP port (default 3000) |
 * | `SLACK_HOST` | interface to bind (default `0.0.0.0`) |
 * | `SLACK_API_URL` | Web API base URL (default Slack's) |
 * | `GATEHOUSE_SLACK_SIGNING_KEY` | the approvals service's own key file (role `approvals-service`); default on `gatehouse start`: the stack's development key |
 * | `GATEHOUSE_KEYS` | the keyset the worker trusts (its `slackUsers` map Slack user + team ids to approvers); default: the running stack's |
 * | `GATEHOUSE_ENV` | `production` refuses a development keyset and a plaintext Temporal connection; `development` or unset: neither; anything else is refused (`client/config.ts`) |
 * | `DATABASE_URL`, `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE` | as everywhere (`client/config.ts`) |
 */
import { Client } from '@temporalio/client';
import { connectTemporal } from '../../client/grpc-retry';
import pg from 'pg';
import { deploymentEnv, insecureTemporalInProduction, loadConfig, temporalSecurity, type GatehouseConfig } from '../../client/config';
import { createApprovalsApp, ApprovalsAppConfigError, type ApprovalsApp, type ApprovalsAppOptions } from './app';
import { ApprovalStore } from '../store';
import { loadApprovalsTrust } from './trust';

/** Options of `createApprovalsApp` that come from the configuration (everything but store and client). */
export function approvalsAppSettings(
  config: GatehouseConfig,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ApprovalsAppOptions, 'token' | 'signingSecret' | 'appToken' | 'socketMode' | 'port' | 'host' | 'slackApiUrl'> {
  const slack = config.slack;
  if (!slack) throw new ApprovalsAppConfigError('the approvals app needs `SLACK_BOT_TOKEN`');
  const flag = env.SLACK_SOCKET_MODE?.trim().toLowerCase();
  if (flag && !['true', 'false', '1', '0', 'yes', 'no'].includes(flag)) {
    throw new ApprovalsAppConfigError(`\`SLACK_SOCKET_MODE\` must be true or false, got \`${env.SLACK_SOCKET_MODE}\``);
  }
  const socketMode = flag ? ['true', '1', 'yes'].includes(flag) : slack.socketMode;
  return {
    token: slack.botToken,
    ...(slack.signingSecret ? { signingSecret: slack.signingSecret } : {}),
    ...(slack.appToken ? { appToken: slack.appToken } : {}),
    socketMode,
    port: slack.port,
    ...(env.SLACK_HOST ? { host: env.SLACK_HOST } : {}),
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
  };
}

/** Starts the app from the configuration; `stop()` closes the app, the pool and the connection. */
export async function startApprovalsFromConfig(config: GatehouseConfig = loadConfig(), env: NodeJS.ProcessEnv = process.env): Promise<{
  readonly app: ApprovalsApp;
  readonly url?: string;
  stop(): Promise<void>;
}> {
  // First: a misspelt `GATEHOUSE_ENV` stops the app before it reads anything else.
  const production = deploymentEnv(env.GATEHOUSE_ENV) === 'production';
  const settings = approvalsAppSettings(config, env);
  if (!config.databaseUrl) throw new ApprovalsAppConfigError('the approvals app needs a database: set `DATABASE_URL`');
  // Read before anything connects: no key or no keyset, no app.
  const trust = loadApprovalsTrust(env, config.stack?.keys, { production });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  const security = temporalSecurity(config, 'approvals');
  const insecure = insecureTemporalInProduction(security, env);
  if (insecure) throw new Error(insecure);
  const connection = await connectTemporal({ address: config.temporalAddress, ...security });
  const app = createApprovalsApp({
    ...settings,
    ...trust,
    store: new ApprovalStore(pool),
    temporalClient: new Client({ connection, namespace: config.namespace }),
  });
  const started = await app.start();
  return {
    app,
    ...(started.url ? { url: started.url } : {}),
    async stop() {
      await app.stop().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

if (require.main === module) {
  startApprovalsFromConfig()
    .then((running) => {
      process.stdout.write(`gatehouse approvals app ${running.url ? `listening on ${running.url}` : 'connected over socket mode'}\n`);
      const shutdown = () => void running.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    })
    .catch((err: unknown) => {
      process.stderr.write(`gatehouse approvals: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
