/**
 * The production-shaped stack cannot run here (no Docker engine), so this checks its structure by
 * parsing it: the services exist, every image is pinned, Gatehouse is configured only through the
 * environment variables `client/config.ts` reads and they point at the right services, health
 * checks gate start-up order, the networks keep everything but the front doors internal (each service
 * still sharing one with every service it calls), every port is published on loopback by default,
 * and the Dockerfile runs files that exist.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interpolate, loadComposeFile, ComposeInterpolationError, type ComposeService } from './compose-file';
import { SEARCH_ATTRIBUTES } from '../../workflows/contract';
import { TEMPORAL_SERVER_VERSION } from '../../worker/devstack/temporal-server-binary';
import { COMPOSE_SERVER_CONFIG, renderTemporalServerConfig, TEMPORAL_SERVER_DYNAMIC_CONFIG } from '../../worker/devstack/temporal-server-config';

const root = join(__dirname, '..', '..');
const composePath = join(root, 'docker-compose.yml');
/** What `docker compose up` needs: the keyset and configuration files, and every password (none has a default). */
const MINIMAL_ENV = {
  GATEHOUSE_KEYS_FILE: './keys/keyset.json',
  GATEHOUSE_CONFIG_FILE: './gatehouse.yaml',
  TEMPORAL_DB_PASSWORD: 'pw-temporal',
  AUDIT_DB_PASSWORD: 'pw-audit',
  AUDIT_RUNTIME_DB_PASSWORD: 'pw-runtime',
  PRODUCTION_DB_PASSWORD: 'pw-production',
} as const;
const PASSWORDS = ['TEMPORAL_DB_PASSWORD', 'AUDIT_DB_PASSWORD', 'AUDIT_RUNTIME_DB_PASSWORD', 'PRODUCTION_DB_PASSWORD'] as const;
const compose = loadComposeFile(composePath, MINIMAL_ENV);
const services = compose.services;

const GATEHOUSE_ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'GATEHOUSE_TASK_QUEUE',
  'DATABASE_URL',
  'GATEHOUSE_PRODUCTION_DATABASE_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
] as const;

function service(name: string): ComposeService {
  const s = services[name];
  assert.ok(s, `service \`${name}\` is missing from docker-compose.yml`);
  return s;
}

/** The Gatehouse services: those built from the project's Dockerfile. */
const gatehouseServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

function hostPort(url: string): { host: string; port: string } {
  const u = new URL(url.includes('://') ? url : `grpc://${url}`);
  return { host: u.hostname, port: u.port };
}

function containerPorts(s: ComposeService): string[] {
  return s.ports.map((p) => p.split(':').at(-1)!.split('/')[0]!);
}

describe('compose interpolation', () => {
  it('applies defaults, values and escapes the way docker compose does', () => {
    assert.equal(interpolate('${A:-x}', {}), 'x');
    assert.equal(interpolate('${A:-x}', { A: '' }), 'x');
    assert.equal(interpolate('${A-x}', { A: '' }), '');
    assert.equal(interpolate('${A:-x}', { A: 'y' }), 'y');
    assert.equal(interpolate('$$HOME $A', { A: 'a' }), '$HOME a');
    assert.throws(() => interpolate('${A:?needed}', {}), ComposeInterpolationError);
  });
});

describe('docker-compose.yml', () => {
  it('has the Temporal server with its own PostgreSQL, the UI, the audit database, the gateway, the worker and the approvals app', () => {
    for (const name of ['temporal', 'temporal-db', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'audit-db', 'production-db', 'gatehouse-worker', 'gatehouse-gateway', 'gatehouse-approvals']) {
      service(name);
    }
    assert.notEqual(service('temporal').dependsOn['audit-db'], 'service_healthy', 'the audit trail does not share the temporal database');
  });

  it('runs the Temporal server release the tests run (no auto-setup image), configured by the file the tests generate', () => {
    const version = TEMPORAL_SERVER_VERSION.slice(1);
    const temporal = service('temporal');
    assert.equal(temporal.image, `temporalio/server:${version}`);
    for (const name of ['temporal-schema', 'temporal-setup']) assert.equal(service(name).image, `temporalio/admin-tools:${version}`);
    assert.deepEqual(Object.entries(services).filter(([, x]) => /auto-setup/.test(x.image ?? '')), []);
    assert.match((temporal.command ?? []).join(' '), /exec temporal-server --config-file \/etc\/temporal\/gatehouse\/config\.yaml --allow-no-auth start/);
    assert.ok(temporal.volumes.includes('./deploy/temporal:/etc/temporal/gatehouse:ro'));
    // The mounted files are what worker/devstack/temporal-server-config.ts renders: the tested configuration.
    assert.equal(readFileSync(join(root, 'deploy', 'temporal', 'config.yaml'), 'utf8'), renderTemporalServerConfig(COMPOSE_SERVER_CONFIG));
    assert.equal(readFileSync(join(root, 'deploy', 'temporal', 'dynamic-config.yaml'), 'utf8'), TEMPORAL_SERVER_DYNAMIC_CONFIG);
    assert.equal(COMPOSE_SERVER_CONFIG.postgres.host, 'temporal-db');
    assert.equal(COMPOSE_SERVER_CONFIG.dynamicConfigFile, '/etc/temporal/gatehouse/dynamic-config.yaml');
    assert.equal(temporal.environment.TEMPORAL_DB_PASSWORD, MINIMAL_ENV.TEMPORAL_DB_PASSWORD);
  });

  it('sets up and upgrades the schema of both databases with the admin tools, before the server starts', () => {
    const schema = service('temporal-schema');
    assert.equal(schema.restart, 'no');
    assert.equal(schema.dependsOn['temporal-db'], 'service_healthy');
    assert.equal(service('temporal').dependsOn['temporal-schema'], 'service_completed_successfully');
    assert.equal(schema.environment.SQL_PLUGIN, 'postgres12_pgx');
    assert.equal(schema.environment.SQL_HOST, 'temporal-db');
    const text = (schema.command ?? []).join(' ');
    for (const store of ['temporal', 'visibility']) assert.match(text, new RegExp(`update-schema -d /etc/temporal/schema/postgresql/v12/${store}/versioned`));
  });

  it('has no default password: each one is required, and the databases get exactly what was given', () => {
    for (const name of PASSWORDS) {
      const env: Record<string, string> = { ...MINIMAL_ENV };
      delete env[name];
      assert.throws(() => loadComposeFile(composePath, env), (err: unknown) => err instanceof ComposeInterpolationError && err.message.includes(`\`${name}\` is missing`), name);
    }
    assert.equal(service('temporal-db').environment.POSTGRES_PASSWORD, MINIMAL_ENV.TEMPORAL_DB_PASSWORD);
    assert.equal(service('audit-db').environment.POSTGRES_PASSWORD, MINIMAL_ENV.AUDIT_DB_PASSWORD);
    assert.equal(service('production-db').environment.POSTGRES_PASSWORD, MINIMAL_ENV.PRODUCTION_DB_PASSWORD);
    assert.match(service('gatehouse-worker').environment.DATABASE_URL ?? '', /^postgres:\/\/gatehouse_runtime:pw-runtime@audit-db:5432\//);
    assert.match(service('gatehouse-worker').environment.GATEHOUSE_PRODUCTION_DATABASE_URL ?? '', /^postgres:\/\/production:pw-production@production-db:5432\//);
  });

  it('mounts the Gatehouse configuration file (the MCP upstreams) into the worker, and requires it', () => {
    const worker = service('gatehouse-worker');
    assert.equal(worker.environment.GATEHOUSE_CONFIG, '/etc/gatehouse/gatehouse.yaml');
    assert.ok(worker.volumes.includes('./gatehouse.yaml:/etc/gatehouse/gatehouse.yaml:ro'));
    const env: Record<string, string> = { ...MINIMAL_ENV };
    delete env.GATEHOUSE_CONFIG_FILE;
    assert.throws(() => loadComposeFile(composePath, env), (err: unknown) => err instanceof ComposeInterpolationError && /`GATEHOUSE_CONFIG_FILE` is missing: .*examples\/gatehouse\.yaml/.test(err.message));
    assert.ok(existsSync(join(root, 'examples', 'gatehouse.yaml')));
  });

  it('pins every image to a version (no `latest`, no missing tag)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      const image = s.image;
      assert.ok(image, `service \`${name}\` has neither image nor build`);
      const tag = image.includes('@sha256:') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      assert.ok(tag, `service \`${name}\`: image \`${image}\` has no tag`);
      assert.notEqual(tag, 'latest', `service \`${name}\`: image \`${image}\` is not pinned`);
      assert.match(tag, /\d/, `service \`${name}\`: tag of \`${image}\` names no version`);
    }
  });

  it('builds the worker, the approvals app and the sample seed from the Dockerfile, each running a file that exists', () => {
    assert.deepEqual(gatehouseServices.map(([n]) => n).sort(), ['gatehouse-approvals', 'gatehouse-gateway', 'gatehouse-worker', 'sample-seed']);
    for (const [name, s] of gatehouseServices) {
      assert.ok(existsSync(join(root, s.build!.context, s.build!.dockerfile)), `service \`${name}\`: dockerfile missing`);
      const command = s.command ?? [];
      assert.deepEqual(command.slice(0, 3), ['node', '--import', 'tsx'], `service \`${name}\` runs sources through tsx`);
      const entry = command[3];
      assert.ok(entry, `service \`${name}\` names no entry file`);
      assert.ok(existsSync(join(root, entry)), `service \`${name}\`: entry \`${entry}\` does not exist`);
    }
    assert.equal(service('gatehouse-worker').command?.[3], 'worker/main.ts');
    assert.equal(service('gatehouse-gateway').command?.[3], 'gateway/main.ts');
  });

  it('configures Gatehouse only by the environment variables client/config.ts reads, wired to the right services', async () => {
    const configSource = readFileSync(join(root, 'client', 'config.ts'), 'utf8');
    for (const [name, s] of gatehouseServices) {
      for (const key of GATEHOUSE_ENV) {
        assert.ok(key in s.environment, `service \`${name}\` does not set \`${key}\``);
        assert.ok(configSource.includes(key), `client/config.ts does not read \`${key}\``);
      }
      const temporal = hostPort(s.environment.TEMPORAL_ADDRESS!);
      assert.equal(temporal.host, 'temporal');
      assert.ok(containerPorts(service('temporal')).includes(temporal.port), 'temporal address port is the exposed frontend port');
      assert.equal(hostPort(s.environment.DATABASE_URL!).host, 'audit-db');
      // The gateway faces agents and runs nothing: it holds no production database nor Slack secret.
      if (name === 'gatehouse-gateway') {
        for (const key of ['GATEHOUSE_PRODUCTION_DATABASE_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']) assert.equal(s.environment[key], '', `the gateway holds \`${key}\``);
      } else assert.equal(hostPort(s.environment.GATEHOUSE_PRODUCTION_DATABASE_URL!).host, 'production-db');
      assert.equal(s.environment.GATEHOUSE_TASK_QUEUE, 'gatehouse');
    }
    // The same environment, read by the real config loader, yields a config for that stack.
    const { loadConfig } = await import('../../client/config');
    const worker = service('gatehouse-worker');
    // GATEHOUSE_STACK_FILE points nowhere: a dev stack running on this machine must not leak in.
    const config = loadConfig({ ...worker.environment, GATEHOUSE_STACK_FILE: join(root, 'test', 'compose', 'no-such-stack.json') });
    assert.equal(config.temporalAddress, 'temporal:7233');
    assert.equal(config.namespace, 'default');
    assert.equal(config.taskQueue, 'gatehouse');
    assert.equal(config.databaseUrl, worker.environment.DATABASE_URL);
    assert.equal(config.productionDatabaseUrl, worker.environment.GATEHOUSE_PRODUCTION_DATABASE_URL);
  });

  it('lets a .env file point the worker at another cluster', () => {
    const external = loadComposeFile(composePath, { ...MINIMAL_ENV, TEMPORAL_ADDRESS: 'gatehouse.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'gatehouse.a1b2c' });
    const env = external.services['gatehouse-worker']!.environment;
    assert.equal(env.TEMPORAL_ADDRESS, 'gatehouse.a1b2c.tmprl.cloud:7233');
    assert.equal(env.TEMPORAL_NAMESPACE, 'gatehouse.a1b2c');
  });

  it('parses with only the required files and passwords set (optional Slack variables do not abort `docker compose up`)', () => {
    assert.doesNotThrow(() => loadComposeFile(composePath, MINIMAL_ENV));
  });

  it('refuses to start without a keyset file, naming GATEHOUSE_KEYS_FILE', () => {
    const { GATEHOUSE_KEYS_FILE: _, ...withoutKeys } = MINIMAL_ENV;
    assert.throws(() => loadComposeFile(composePath, withoutKeys), (err: unknown) => err instanceof ComposeInterpolationError && /`GATEHOUSE_KEYS_FILE` is missing/.test(err.message));
    assert.equal(compose.secrets['gatehouse-keyset']?.file, './keys/keyset.json');
  });

  it('gives the worker, the gateway and the approvals app the keyset as a secret, in production mode', () => {
    for (const name of ['gatehouse-worker', 'gatehouse-gateway', 'gatehouse-approvals']) {
      const s = service(name);
      assert.equal(s.environment.GATEHOUSE_ENV, 'production', `\`${name}\` refuses development keys`);
      assert.equal(s.environment.GATEHOUSE_KEYS, '/run/secrets/gatehouse-keyset', `\`${name}\` reads the mounted keyset`);
      assert.ok(s.secrets.includes('gatehouse-keyset'), `\`${name}\` mounts the keyset secret`);
    }
    const approvals = service('gatehouse-approvals');
    assert.equal(approvals.environment.GATEHOUSE_SLACK_SIGNING_KEY, '/run/secrets/gatehouse-slack-signing-key');
    assert.ok(approvals.secrets.includes('gatehouse-slack-signing-key'));
    const workerSource = readFileSync(join(root, 'worker', 'main.ts'), 'utf8');
    for (const key of ['GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICIES']) assert.ok(workerSource.includes(`process.env.${key}`), `worker/main.ts does not read \`${key}\``);
  });

  it('passes the stdio opt-in to the worker from the .env, unset by default (the worker then refuses stdio upstreams)', () => {
    assert.equal(service('gatehouse-worker').environment.GATEHOUSE_ALLOW_STDIO_UPSTREAMS, '');
    const allowed = loadComposeFile(composePath, { ...MINIMAL_ENV, GATEHOUSE_ALLOW_STDIO_UPSTREAMS: '1' });
    assert.equal(allowed.services['gatehouse-worker']!.environment.GATEHOUSE_ALLOW_STDIO_UPSTREAMS, '1');
  });

  it('gives every long-running service a health check and gates start-up on them', () => {
    for (const [name, s] of Object.entries(services)) {
      const oneShot = s.restart === 'no';
      if (!oneShot) assert.ok(s.healthcheck && s.healthcheck.test.length > 0, `service \`${name}\` has no health check`);
      for (const [dep, condition] of Object.entries(s.dependsOn)) {
        const target = services[dep];
        assert.ok(target, `service \`${name}\` depends on unknown \`${dep}\``);
        assert.notEqual(condition, 'service_started', `service \`${name}\`: depends_on \`${dep}\` has no condition`);
        if (condition === 'service_healthy') assert.ok(target.healthcheck, `service \`${name}\` waits for \`${dep}\` to be healthy but it has no health check`);
        if (condition === 'service_completed_successfully') assert.equal(target.restart, 'no', `\`${dep}\` is a one-shot`);
      }
    }
    const worker = service('gatehouse-worker');
    for (const dep of ['temporal', 'audit-db', 'production-db']) {
      assert.equal(worker.dependsOn[dep], 'service_healthy', `the worker waits for \`${dep}\``);
    }
  });

  it('runs the gateway after the worker, on loopback unless told otherwise, with its limits from the environment', () => {
    const gateway = service('gatehouse-gateway');
    for (const dep of ['temporal', 'audit-db', 'gatehouse-worker']) assert.equal(gateway.dependsOn[dep], 'service_healthy', `the gateway waits for \`${dep}\``);
    assert.equal(gateway.dependsOn['audit-db-init'], 'service_completed_successfully');
    assert.deepEqual(gateway.ports, ['127.0.0.1:8080:8080']);
    assert.equal(gateway.environment.GATEHOUSE_GATEWAY_PORT, '8080');
    assert.equal(gateway.environment.GATEHOUSE_GATEWAY_HOST, '0.0.0.0');
    assert.ok(gateway.healthcheck?.test.some((t) => t.includes('/healthz')), 'the health check asks /healthz');
    const published = loadComposeFile(composePath, { ...MINIMAL_ENV, GATEHOUSE_GATEWAY_PUBLISH: '8443', GATEHOUSE_GATEWAY_RATE: '5' }).services['gatehouse-gateway']!;
    assert.deepEqual(published.ports, ['8443:8080']);
    assert.equal(published.environment.GATEHOUSE_GATEWAY_RATE, '5');
    const startSource = readFileSync(join(root, 'gateway', 'start.ts'), 'utf8');
    for (const key of ['GATEHOUSE_GATEWAY_HOST', 'GATEHOUSE_GATEWAY_PORT', 'GATEHOUSE_GATEWAY_RATE', 'GATEHOUSE_GATEWAY_BURST', 'GATEHOUSE_GATEWAY_MAX_SESSIONS', 'GATEHOUSE_MCP_IDLE_SECONDS']) {
      assert.ok(key in gateway.environment, `the gateway service does not set \`${key}\``);
      assert.ok(startSource.includes(key), `gateway/start.ts does not read \`${key}\``);
    }
  });

  it('publishes no database port; the Temporal frontend and the Web UI only on loopback', () => {
    for (const [name, x] of Object.entries(services)) if (/^postgres:/.test(x.image ?? '')) assert.deepEqual(x.ports, [], `database \`${name}\` publishes a port`);
    assert.deepEqual(service('temporal').ports, ['127.0.0.1:7233:7233']);
    assert.deepEqual(service('temporal-ui').ports, ['127.0.0.1:8233:8080']);
    // It holds the operator's certificate and has no login: it must not write (halt, terminate, reset).
    assert.equal(service('temporal-ui').environment.TEMPORAL_DISABLE_WRITE_ACTIONS, 'true');
  });

  it('publishes every port on loopback unless told otherwise, the approvals app included', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `service \`${name}\` publishes \`${port}\` beyond loopback`);
    }
    assert.deepEqual(service('gatehouse-approvals').ports, ['127.0.0.1:3000:3000']);
    const told = loadComposeFile(composePath, { ...MINIMAL_ENV, GATEHOUSE_APPROVALS_PUBLISH: '3000', TEMPORAL_UI_PUBLISH: '127.0.0.1:9233' }).services;
    assert.deepEqual(told['gatehouse-approvals']!.ports, ['3000:3000']);
    assert.deepEqual(told['temporal-ui']!.ports, ['127.0.0.1:9233:8080']);
  });

  it('runs the Temporal Web UI only with `--profile ui`, on a network it shares with the frontend alone', () => {
    const ui = service('temporal-ui');
    // It reads every session's history (raw arguments, results) with the operator's certificate and no login.
    assert.deepEqual(ui.profiles, ['ui']);
    assert.deepEqual(ui.networks, ['operator']);
    assert.deepEqual(Object.entries(services).filter(([, s]) => s.networks.includes('operator')).map(([n]) => n).sort(), ['temporal', 'temporal-ui']);
    // `docker compose up` without a profile starts no UI and publishes none of its ports.
    const started = Object.entries(services).filter(([, s]) => s.profiles.length === 0);
    assert.deepEqual(started.filter(([, s]) => s.image?.startsWith('temporalio/ui')).map(([n]) => n), []);
    assert.deepEqual(started.flatMap(([n, s]) => s.ports.filter((p) => /^(127\.0\.0\.1:)?8233:/.test(p)).map((p) => `${n}: ${p}`)), []);
  });

  it('keeps everything on an internal network but what must be reached from outside or reach out', () => {
    const networks = compose.networks;
    assert.equal(networks.backend?.internal, true, 'the backend network is internal');
    assert.equal(networks.default, undefined, "a service is on compose's default network, which is not internal");
    const members = (net: string) => Object.entries(services).filter(([, s]) => s.networks.includes(net)).map(([n]) => n).sort();
    assert.deepEqual(Object.keys(networks).filter((n) => !networks[n]!.internal).sort(), ['edge', 'operator', 'worker-egress']);
    // The front doors (their ports, Slack's API); the worker's way out, its alone; the operator's ports, theirs alone.
    assert.deepEqual(members('edge'), ['gatehouse-approvals', 'gatehouse-gateway']);
    assert.deepEqual(members('worker-egress'), ['gatehouse-worker']);
    assert.deepEqual(members('operator'), ['temporal', 'temporal-ui']);
    const reachable = ['gatehouse-approvals', 'gatehouse-gateway', 'gatehouse-worker', 'temporal', 'temporal-ui'];
    for (const [name, s] of Object.entries(services)) {
      for (const net of s.networks) assert.ok(networks[net], `service \`${name}\` joins undeclared network \`${net}\``);
      const outside = s.networks.filter((n) => !networks[n]!.internal);
      if (!reachable.includes(name)) assert.deepEqual(outside, [], `service \`${name}\` is on a network that is not internal`);
      // Docker publishes no port of a container whose networks are all internal.
      if (s.ports.length > 0) assert.ok(outside.length > 0, `service \`${name}\` publishes a port from internal networks only`);
    }
  });

  it('lets every service reach each service it calls over a network they share', () => {
    const names = Object.keys(services);
    /** The services `s` names as `<service>:<port>` or as a whole value (`SQL_HOST: temporal-db`). */
    const called = (self: string, s: ComposeService): string[] => {
      const values = [...Object.values(s.environment), ...(s.command ?? []), ...(s.healthcheck?.test ?? [])];
      return names.filter((n) => n !== self && values.some((v) => v === n || new RegExp(`(?<![\\w.-])${n}:\\d`).test(v)));
    };
    const calls: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, called(n, services[n]!)]));
    // The server's own configuration (deploy/temporal/config.yaml) names its database.
    calls.temporal = [...calls.temporal!, String(COMPOSE_SERVER_CONFIG.postgres.host)];
    // What each one must reach: the scan above finds at least this.
    for (const [name, needed] of Object.entries({
      'temporal-schema': ['temporal-db'],
      'temporal-setup': ['temporal'],
      'temporal-ui': ['temporal'],
      'audit-db-init': ['audit-db'],
      'sample-seed': ['production-db'],
      'gatehouse-worker': ['audit-db', 'production-db', 'temporal'],
      'gatehouse-gateway': ['audit-db', 'temporal'],
      'gatehouse-approvals': ['audit-db', 'production-db', 'temporal'],
    })) {
      assert.deepEqual(calls[name]!.filter((n) => needed.includes(n)).sort(), needed, `\`${name}\` calls what it needs`);
    }
    for (const [name, targets] of Object.entries(calls)) {
      for (const target of targets) {
        const shared = service(name).networks.filter((n) => service(target).networks.includes(n));
        assert.ok(shared.length > 0, `\`${name}\` calls \`${target}\` but shares no network with it`);
      }
    }
  });

  it('creates the namespace and registers every search attribute a session carries', () => {
    assert.match((service('temporal-setup').command ?? []).join(' '), /temporal operator namespace create --namespace "\$TEMPORAL_NAMESPACE"/);
    const setup = Object.values(services).find((s) => (s.command ?? []).join(' ').includes('search-attribute create'));
    assert.ok(setup, 'no service registers the search attributes');
    const text = (setup.command ?? []).join(' ');
    for (const attr of Object.values(SEARCH_ATTRIBUTES)) assert.match(text, new RegExp(`--name ${attr} `), `search attribute \`${attr}\` is not registered`);
    assert.equal(service('gatehouse-worker').dependsOn['temporal-setup'], 'service_completed_successfully');
  });

  it('seeds the sample production database before the worker starts', () => {
    assert.equal(service('gatehouse-worker').dependsOn['sample-seed'], 'service_completed_successfully');
    assert.equal(service('sample-seed').dependsOn['production-db'], 'service_healthy');
    assert.equal(service('sample-seed').command?.[3], 'demo/seed.ts');
  });

  it('passes the remote-cluster settings the worker reads (TLS client pair, API key) and its policy', () => {
    const env = service('gatehouse-worker').environment;
    for (const key of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY', 'GATEHOUSE_POLICY']) {
      assert.ok(key in env, `the worker does not get \`${key}\``);
    }
    const workerSource = readFileSync(join(root, 'worker', 'main.ts'), 'utf8');
    for (const key of ['TEMPORAL_TLS_CERT', 'TEMPORAL_API_KEY', 'GATEHOUSE_POLICY']) assert.ok(workerSource.includes(key), `worker/main.ts does not read \`${key}\``);
    assert.ok(existsSync(join(root, env.GATEHOUSE_POLICY!)), 'the default policy file exists');
  });

  it('the temporal frontend requires mutual tls; each service mounts only its own client certificate, none the ca key', () => {
    const tls = COMPOSE_SERVER_CONFIG.tls;
    assert.ok(tls, 'the compose server configuration has no tls');
    const config = renderTemporalServerConfig(COMPOSE_SERVER_CONFIG);
    assert.equal(config.match(/requireClientAuth: true/g)?.length, 2, 'client certificates are required on the frontend and between the services');
    const mounts = (name: string) => Object.fromEntries(service(name).volumes.map((v) => v.split(':')).map(([src, dst]) => [dst!, src!]));
    const dir = './secrets/temporal-tls';
    assert.deepEqual(
      Object.entries(mounts('temporal')).filter(([dst]) => dst.startsWith('/etc/temporal/tls/')).sort(),
      [['/etc/temporal/tls/ca.pem', `${dir}/ca.pem`], ['/etc/temporal/tls/server.key', `${dir}/server.key`], ['/etc/temporal/tls/server.pem', `${dir}/server.pem`], ['/etc/temporal/tls/temporal-system-worker.key', `${dir}/temporal-system-worker.key`], ['/etc/temporal/tls/temporal-system-worker.pem', `${dir}/temporal-system-worker.pem`]],
    );
    for (const file of [tls.caFile, tls.server.certFile, tls.server.keyFile, tls.systemWorker.certFile, tls.systemWorker.keyFile]) assert.ok(String(file) in mounts('temporal'), `\`${file}\` is not mounted into the server`);
    // Every Gatehouse process connects with its role's certificate, the server's CA and name.
    for (const [name, role] of [['gatehouse-worker', 'worker'], ['gatehouse-gateway', 'gateway'], ['gatehouse-approvals', 'approvals']] as const) {
      const env = service(name).environment;
      assert.equal(env.TEMPORAL_TLS_CERT, '/etc/gatehouse/tls/client.pem');
      assert.equal(env.TEMPORAL_TLS_KEY, '/etc/gatehouse/tls/client.key');
      assert.equal(env.TEMPORAL_TLS_CA, '/etc/gatehouse/tls/ca.pem');
      assert.equal(env.TEMPORAL_TLS_SERVER_NAME, tls.serverName);
      const m = mounts(name);
      assert.equal(m['/etc/gatehouse/tls/client.pem'], `${dir}/client-${role}.pem`, `${name} mounts another role's certificate`);
      assert.equal(m['/etc/gatehouse/tls/client.key'], `${dir}/client-${role}.key`);
      assert.equal(m['/etc/gatehouse/tls/ca.pem'], `${dir}/ca.pem`);
    }
    // The operator's tools (namespace set-up, the UI) connect with the cli certificate; the health check with the server's own.
    assert.equal(mounts('temporal-setup')['/etc/temporal/tls/client.pem'], `${dir}/client-cli.pem`);
    assert.equal(service('temporal-setup').environment.TEMPORAL_TLS_CLIENT_CERT_PATH, '/etc/temporal/tls/client.pem');
    assert.equal(service('temporal-ui').environment.TEMPORAL_TLS_CERT, '/etc/temporal/tls/client.pem');
    assert.equal(mounts('temporal-ui')['/etc/temporal/tls/client.pem'], `${dir}/client-cli.pem`);
    assert.ok((service('temporal').healthcheck?.test ?? []).includes('--tls-cert-path'), 'the health check connects without a certificate');
    assert.match((service('gatehouse-worker').healthcheck?.test ?? []).join(' '), /clientCertPair: \{ crt: f\(e\.TEMPORAL_TLS_CERT\)/);
    for (const [name, s] of Object.entries(services)) {
      assert.ok(!s.volumes.some((v) => v.includes('ca.key')), `${name} mounts the ca's private key`);
    }
    // Temporal Cloud with an API key: the certificate settings can be emptied.
    const cloud = loadComposeFile(composePath, { ...MINIMAL_ENV, TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '', TEMPORAL_TLS_CA: '', TEMPORAL_TLS_SERVER_NAME: '', TEMPORAL_API_KEY: 'k' });
    const env = cloud.services['gatehouse-worker']!.environment;
    assert.deepEqual([env.TEMPORAL_TLS_CERT, env.TEMPORAL_TLS_KEY, env.TEMPORAL_TLS_CA, env.TEMPORAL_TLS_SERVER_NAME, env.TEMPORAL_API_KEY], ['', '', '', '', 'k']);
  });

  it('declares the named volumes the databases use', () => {
    for (const v of ['temporal-db', 'audit-db', 'production-db']) assert.ok(compose.volumes.includes(v), `volume \`${v}\` is not declared`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('builds on a pinned Node 24 (LTS) slim image', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(froms.length > 0);
    for (const image of froms) assert.match(image, /^node:24\.\d+\.\d+-[a-z]+-slim$/, `base image \`${image}\` is not a pinned node 24 slim`);
  });

  it('installs production dependencies only, and tsx is one of them', () => {
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.ok(pkg.dependencies.tsx, 'tsx must be a runtime dependency: the image runs sources through it');
  });

  it('runs the worker through tsx by default, unprivileged', () => {
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
    assert.ok(cmd);
    const argv = JSON.parse(cmd[1]!) as string[];
    assert.deepEqual(argv, ['node', '--import', 'tsx', 'worker/main.ts']);
    assert.ok(existsSync(join(root, argv[3]!)));
    assert.match(dockerfile, /^USER node$/m);
  });

  it('never bakes deployment secrets into the image, nor lets git take them', () => {
    const lines = (file: string) => readFileSync(join(root, file), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const docker = lines('.dockerignore');
    // What the production tutorial has the operator write next to docker-compose.yml.
    for (const secret of ['.env', 'secrets', 'keys', '*.key', '*.pem', 'gatehouse.yaml']) assert.ok(docker.includes(secret), `\`${secret}\` is not excluded from the image`);
    const git = lines('.gitignore');
    for (const secret of ['.env', '/secrets/', '/keys/', '*.key', '/gatehouse.yaml']) assert.ok(git.includes(secret), `\`${secret}\` is not ignored by git`);
    assert.doesNotMatch(dockerfile, /^COPY\s+.*\b(secrets|keys|\.env)\b/m);
  });

  it('keeps the sources the image needs out of .dockerignore', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    assert.ok(ignored.includes('node_modules'), 'host node_modules must not overwrite the image');
    for (const needed of ['worker', 'workflows', 'activities', 'policies', 'audit', 'approvals', 'client', 'package.json', 'package-lock.json']) {
      assert.ok(!ignored.includes(needed), `\`${needed}\` is excluded from the image`);
    }
  });
});
