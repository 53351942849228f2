/**
 * The named policies a worker loads (the registry an agent credential's `policies` claim picks
 * from): `GATEHOUSE_POLICIES` is either `name=file,name2=file2` or a folder, whose `*.yaml`,
 * `*.yml` and `*.json` files are registered under their file name without the extension.
 * The default policy (`GATEHOUSE_POLICY`) is loaded beside them by the caller. At start the worker
 * compiles each against its catalog and logs the warnings (`reviewPolicies`). Node-only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { AnyToolDefinition } from '../activities/tools/define';
import { shownLine } from '../approvals/shown-text';
import { compilePolicy, parsePolicyText, type PolicyDocument, type PolicyIssue, type ToolInfo } from '../policies';
import { canonicalJson, sha256Hex } from '../policies/hash';
import { argumentPathWarnings, loosensTheGate, type ArgumentSchema } from '../policies/loosening-warnings';

/** Thrown when a policy file is missing or invalid, or `GATEHOUSE_POLICIES` is malformed. Nothing is loaded then. */
export class PolicyRegistryError extends Error {
  readonly type = 'PolicyRegistryError';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyRegistryError';
  }
}

/** Name of the default policy in the registry (what sessions without `policyRef` get). */
export const DEFAULT_POLICY_NAME = 'default';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads and validates one policy document (YAML or JSON); an empty file is refused, never the default policy. */
export function loadPolicyFile(file: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyRegistryError(`cannot read policy \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const parsed = parsePolicyText(text, file);
  if (!parsed.success) {
    // A syntax issue's path is the file itself, which the message names already.
    const issues = parsed.issues.map((i) => (i.code === 'syntax' && i.path === file ? i.message : `${i.path || '(root)'}: ${i.message}`)).join('; ');
    throw new PolicyRegistryError(`invalid policy \`${file}\`: ${issues}`);
  }
  return parsed.data;
}

/** Which file each name of a `GATEHOUSE_POLICIES` value means (files are not read). */
export function policyFilesOf(spec: string, cwd: string = process.cwd()): Record<string, string> {
  const text = spec.trim();
  if (text === '') return {};
  const files: Record<string, string> = {};
  const add = (name: string, file: string) => {
    if (!NAME.test(name)) throw new PolicyRegistryError(`invalid policy name \`${name}\` in \`GATEHOUSE_POLICIES\`: use lower-case letters, digits and \`._-\``);
    if (name === DEFAULT_POLICY_NAME) throw new PolicyRegistryError(`policy name \`${DEFAULT_POLICY_NAME}\` is the default policy's (\`GATEHOUSE_POLICY\`): choose another name`);
    if (files[name] !== undefined) throw new PolicyRegistryError(`policy name \`${name}\` appears twice in \`GATEHOUSE_POLICIES\``);
    files[name] = isAbsolute(file) ? file : resolve(cwd, file);
  };
  if (!text.includes('=')) {
    const dir = isAbsolute(text) ? text : resolve(cwd, text);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new PolicyRegistryError(`\`GATEHOUSE_POLICIES\` names \`${dir}\`, which does not exist: give a folder or \`name=file,name2=file2\``);
    }
    if (!isDir) throw new PolicyRegistryError(`\`GATEHOUSE_POLICIES\` must be a folder or \`name=file,name2=file2\`, got the file \`${dir}\``);
    for (const entry of readdirSync(dir).sort()) {
      if (EXTENSIONS.has(extname(entry))) add(basename(entry, extname(entry)), join(dir, entry));
    }
    return files;
  }
  for (const part of text.split(',')) {
    const cut = part.indexOf('=');
    const name = part.slice(0, cut).trim();
    const file = part.slice(cut + 1).trim();
    if (cut <= 0 || file === '') throw new PolicyRegistryError(`malformed entry \`${part.trim()}\` in \`GATEHOUSE_POLICIES\`: expected \`name=file\``);
    add(name, file);
  }
  return files;
}

/** Loads every policy `GATEHOUSE_POLICIES` names; an empty value loads none. */
export function loadNamedPolicies(spec: string | undefined, cwd: string = process.cwd()): Record<string, PolicyDocument> {
  const out: Record<string, PolicyDocument> = {};
  for (const [name, file] of Object.entries(policyFilesOf(spec ?? '', cwd))) out[name] = loadPolicyFile(file);
  return out;
}

/** One policy a worker loads: its name in the registry, the file it came from, its document. */
export interface LoadedPolicy {
  readonly name: string;
  readonly file: string;
  readonly document: PolicyDocument;
}

/** The default policy (`GATEHOUSE_POLICY`) and every named one (`GATEHOUSE_POLICIES`), each with its file. */
export function loadPolicies(defaultFile: string, spec: string | undefined, cwd: string = process.cwd()): LoadedPolicy[] {
  const loaded: LoadedPolicy[] = [{ name: DEFAULT_POLICY_NAME, file: defaultFile, document: loadPolicyFile(defaultFile) }];
  for (const [name, file] of Object.entries(policyFilesOf(spec ?? '', cwd))) loaded.push({ name, file, document: loadPolicyFile(file) });
  return loaded;
}

/** Set to `1`, a production worker starts with a policy whose top-level `mode` is `shadow` (nothing enforced but the floor). */
export const ALLOW_SHADOW_POLICY = 'GATEHOUSE_ALLOW_SHADOW_POLICY';

export interface PolicyReviewOptions {
  /** The catalog's tools at start (an upstream server's tools are listed later). */
  readonly tools: readonly ToolInfo[];
  /** Each tool's input JSON Schema, by name (`argumentSchemasOf`); a tool without one is not judged. */
  readonly schemas: ReadonlyMap<string, ArgumentSchema>;
  /** The configured upstream servers: a name under `<server>.` cannot be judged before the server lists its tools. */
  readonly upstreamServers: readonly string[];
  /** `GATEHOUSE_ENV=production`: refuse what loosens the gate, instead of only logging it. */
  readonly production: boolean;
  /** `GATEHOUSE_ALLOW_SHADOW_POLICY=1`. */
  readonly allowShadow: boolean;
  /** One line per warning, written as found (the caller escapes it for its log). */
  readonly log: (line: string) => void;
}

/**
 * Compiles every loaded policy against the catalog at start and logs its warnings, one line each
 * (policy, file, path, message): a running worker otherwise never says that a rule holds nothing back. In production, throws `PolicyRegistryError` naming the file and the warnings
 * on a top-level `mode: shadow` (unless `GATEHOUSE_ALLOW_SHADOW_POLICY=1`) and on any warning that
 * loosens the gate (`loosensTheGate`).
 */
export function reviewPolicies(loaded: readonly LoadedPolicy[], opts: PolicyReviewOptions): void {
  for (const { name, file, document } of loaded) {
    const where = `policy \`${name}\` (\`${file}\`)`;
    if (opts.production && document.mode === 'shadow' && !opts.allowShadow) {
      throw new PolicyRegistryError(`${where} has \`mode: shadow\`: it enforces no rule but the floor, which a production worker refuses; set \`${ALLOW_SHADOW_POLICY}=1\` to run it knowingly`);
    }
    const compiled = compilePolicy(document, opts.tools);
    const warnings = [...compiled.warnings, ...argumentPathWarnings(document, compiled.catalog, opts.schemas)].filter((w) => !upstreamSubject(w, opts.upstreamServers));
    for (const w of warnings) opts.log(`${where}: warning: ${w.path}: ${w.message}`);
    const loosening = warnings.filter(loosensTheGate);
    if (opts.production && loosening.length > 0) {
      // Escaped: the message is the process's last line, and a policy's names are written as found.
      throw new PolicyRegistryError(shownLine(`${where} silently loosens the gate, which a production worker refuses: ${loosening.map((w) => `${w.path}: ${w.message}`).join('; ')}`));
    }
  }
}

/** A warning about a name under a configured upstream server's prefix (its tools are not listed yet). */
function upstreamSubject(w: PolicyIssue, servers: readonly string[]): boolean {
  const subject = w.subject;
  return subject !== undefined && servers.some((s) => subject.startsWith(`${s}.`));
}

/**
 * Each tool's input as a JSON Schema, by name, for `argumentPathWarnings`: a catalog tool's zod
 * schema converted as the gateway lists it on MCP; an upstream tool's declared (top-level) arguments.
 */
export function argumentSchemasOf(tools: readonly AnyToolDefinition[]): Map<string, ArgumentSchema> {
  // Called through a plain signature: its generic options type is too deep for the checker here.
  const convert = zodToJsonSchema as unknown as (schema: z.ZodTypeAny, options: Record<string, unknown>) => Record<string, unknown>;
  const out = new Map<string, ArgumentSchema>();
  for (const tool of tools) {
    if (tool.upstream) {
      if (tool.declaredArguments) out.set(tool.name, { type: 'object', properties: Object.fromEntries(tool.declaredArguments.map((k) => [k, {}])) });
      continue;
    }
    try {
      out.set(tool.name, convert(tool.input as z.ZodTypeAny, { target: 'jsonSchema7', $refStrategy: 'none', effectStrategy: 'input' }));
    } catch {
      // A schema the converter cannot read is not judged (the bound still holds as written).
    }
  }
  return out;
}

/** Every approver the policies name in their groups, sorted (the people development keys are made for). */
export function approversOf(policies: readonly PolicyDocument[]): string[] {
  const names = new Set<string>();
  for (const p of policies) for (const members of Object.values(p.approvers.groups)) for (const m of members) names.add(m);
  return [...names].sort();
}

/**
 * The hashes of the policy documents in `paths` (files, or folders of policy files): the policies a
 * deployment ran, which `audit verify --policy` holds every session's recorded policy against.
 */
export function policyHashesOf(paths: readonly string[], cwd: string = process.cwd()): Set<string> {
  const hashes = new Set<string>();
  for (const given of paths) {
    const path = isAbsolute(given) ? given : resolve(cwd, given);
    let files: string[];
    try {
      files = statSync(path).isDirectory() ? readdirSync(path).sort().filter((e) => EXTENSIONS.has(extname(e))).map((e) => join(path, e)) : [path];
    } catch {
      throw new PolicyRegistryError(`\`${path}\` does not exist: give policy files or folders of them`);
    }
    for (const file of files) hashes.add(sha256Hex(canonicalJson(loadPolicyFile(file))));
  }
  return hashes;
}
