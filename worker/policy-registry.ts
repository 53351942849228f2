/**
 * The named policies a worker loads (the registry an agent credential's `policies` claim picks
 * from): `GATEHOUSE_POLICIES` is either `name=file,name2=file2` or a folder, whose `*.yaml`,
 * `*.yml` and `*.json` files are registered under their file name without the extension.
 * The default policy (`GATEHOUSE_POLICY`) is loaded beside them by the caller. Node-only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { parsePolicyText, type PolicyDocument } from '../policies';
import { canonicalJson, sha256Hex } from '../policies/hash';

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
