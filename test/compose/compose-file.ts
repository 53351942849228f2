/**
 * Reading `docker-compose.yml` the way Docker Compose would, without a Docker engine: parse the
 * YAML, resolve `${VAR}`, `${VAR:-default}` and `$$` interpolation against a given environment,
 * and normalise the list/map spellings the compose spec allows. The structure test uses it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly ports: readonly string[];
  readonly dependsOn: Readonly<Record<string, string>>;
  readonly healthcheck?: { readonly test: readonly string[] };
  readonly profiles: readonly string[];
  readonly restart?: string;
  /** Names of the secrets mounted at `/run/secrets/<name>`. */
  readonly secrets: readonly string[];
  /** Mounts in the short `source:target[:mode]` form. */
  readonly volumes: readonly string[];
  /** The networks it joins; none named means compose's `default` network. */
  readonly networks: readonly string[];
}

export interface ComposeNetwork {
  /** `internal: true`: no route out of it, and no port published from it. */
  readonly internal: boolean;
}

export interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes: readonly string[];
  /** Top-level secrets: name → the host file it is read from. */
  readonly secrets: Readonly<Record<string, { readonly file?: string }>>;
  /** Top-level networks, with compose's implicit `default` when a service joins it. */
  readonly networks: Readonly<Record<string, ComposeNetwork>>;
}

/** Thrown when an interpolation would fail in Docker Compose (`${VAR:?message}` unset, bad syntax). */
export class ComposeInterpolationError extends Error {
  readonly type = 'ComposeInterpolationError';
}

/** Resolves compose interpolation in one string; a default or message may itself hold `${…}`. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '$') {
      out += text[i++];
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] === '{') {
      const end = matchingBrace(text, i + 1);
      out += resolveBraced(text.slice(i + 2, end), env);
      i = end + 1;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    out += bare ? (env[bare[0]] ?? '') : '$';
    i += 1 + (bare ? bare[0].length : 0);
  }
  return out;
}

/** Index of the `}` closing the `{` at `open`, counting nested `${`. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new ComposeInterpolationError(`invalid interpolation: unclosed \`\${\` in \`${text}\``);
}

function resolveBraced(braced: string, env: Readonly<Record<string, string | undefined>>): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?$/s.exec(braced);
  if (!m) throw new ComposeInterpolationError(`invalid interpolation \`\${${braced}}\``);
  const [, name, colon, op, arg] = m;
  const value = env[name!];
  const unset = colon === ':' ? value === undefined || value === '' : value === undefined;
  if (op === '-') return unset ? interpolate(arg ?? '', env) : value!;
  if (op === '?') {
    if (unset) throw new ComposeInterpolationError(`required variable \`${name}\` is missing: ${interpolate(arg ?? '', env)}`);
    return value!;
  }
  if (op === '+') return unset ? '' : interpolate(arg ?? '', env);
  return value ?? '';
}

function deepInterpolate(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => deepInterpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepInterpolate(v, env)]));
  }
  return value;
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.trim().split(/\s+/);
  if (Array.isArray(value)) return value.map(String);
  throw new Error(`expected a string or a list, got \`${JSON.stringify(value)}\``);
}

function toEnv(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((item) => {
      const text = String(item);
      const eq = text.indexOf('=');
      return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function toDependsOn(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) return Object.fromEntries(value.map((name) => [String(name), 'service_started']));
  return Object.fromEntries(Object.entries(value as Record<string, { condition?: string }>).map(([k, v]) => [k, v?.condition ?? 'service_started']));
}

/** Parses and interpolates a compose file; YAML merge keys (`<<: *anchor`) are honoured. */
export function loadComposeFile(path: string, env: Readonly<Record<string, string | undefined>> = {}): ComposeFile {
  const raw = parse(readFileSync(path, 'utf8'), { merge: true }) as Record<string, unknown>;
  const doc = deepInterpolate(raw, env) as {
    services?: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
    secrets?: Record<string, { file?: string } | null>;
    networks?: Record<string, { internal?: boolean } | null>;
  };
  const services: Record<string, ComposeService> = {};
  for (const [name, s] of Object.entries(doc.services ?? {})) {
    const build = s.build;
    const hc = s.healthcheck as { test?: unknown; disable?: boolean } | undefined;
    services[name] = {
      image: typeof s.image === 'string' ? s.image : undefined,
      build: build === undefined ? undefined
        : typeof build === 'string' ? { context: build, dockerfile: 'Dockerfile' }
        : { context: String((build as Record<string, unknown>).context ?? '.'), dockerfile: String((build as Record<string, unknown>).dockerfile ?? 'Dockerfile') },
      command: s.command === undefined ? undefined : toList(s.command),
      entrypoint: s.entrypoint === undefined ? undefined : toList(s.entrypoint),
      environment: toEnv(s.environment),
      ports: toList(s.ports),
      dependsOn: toDependsOn(s.depends_on),
      healthcheck: hc && !hc.disable && hc.test !== undefined ? { test: toList(hc.test) } : undefined,
      profiles: toList(s.profiles),
      restart: typeof s.restart === 'string' ? s.restart : undefined,
      secrets: Array.isArray(s.secrets) ? s.secrets.map((x) => (typeof x === 'string' ? x : String((x as { source?: unknown }).source))) : [],
      volumes: toList(s.volumes),
      // A list of names, or a map of name to its settings (aliases, addresses).
      networks: s.networks === undefined || s.networks === null ? ['default'] : Array.isArray(s.networks) ? s.networks.map(String) : Object.keys(s.networks as Record<string, unknown>),
    };
  }
  const secrets = Object.fromEntries(Object.entries(doc.secrets ?? {}).map(([k, v]) => [k, { ...(v?.file !== undefined ? { file: v.file } : {}) }]));
  const networks: Record<string, ComposeNetwork> = Object.fromEntries(Object.entries(doc.networks ?? {}).map(([k, v]) => [k, { internal: v?.internal === true }]));
  if (Object.values(services).some((s) => s.networks.includes('default'))) networks.default ??= { internal: false };
  return { services, volumes: Object.keys(doc.volumes ?? {}), secrets, networks };
}
