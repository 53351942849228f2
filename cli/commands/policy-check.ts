/**
 * `gatehouse policy check <file>`: a document is valid only when it says what it means. Beyond
 * the schema, it fails on a rule naming a tool the catalog lacks (with the catalog's closest name:
 * a typo must not quietly weaken a policy) and on a list that silently drops a default.
 * `--allow-unknown-tools` turns the first into warnings, for a catalog not loaded here.
 */
import { compilePolicy, describeLedgerRule, ledgerRules, parsePolicyText, type PolicyIssue, type ToolInfo } from '../../policies';
import { closestName } from '../../policies/suggest';
import type { CommandIo } from '../command-io';
import { readText, type CommonOptions } from './policy';

export interface CheckOptions extends CommonOptions {
  readonly allowUnknownTools?: boolean;
}

/** A rule naming no tool of the catalog, with the closest name when it looks like a typo. */
function unknownTool(w: PolicyIssue, names: readonly string[]): PolicyIssue {
  const near = w.subject === undefined ? undefined : closestName(w.subject, names);
  return { ...w, code: 'unknown-tool', message: `${w.message}${near ? `: did you mean \`${near}\`?` : ''}` };
}

export function runCheck(file: string, opts: CheckOptions, tools: readonly ToolInfo[], io: CommandIo): void {
  const parsed = parsePolicyText(readText(file, 'policy'), file);
  if (!parsed.success) return refuse(parsed.issues, opts, io);
  const compiled = compilePolicy(parsed.data, tools);
  const names = tools.map((t) => t.name);
  const unknown = compiled.warnings.filter((w) => w.code === 'unused').map((w) => unknownTool(w, names));
  const errors = [...parsed.notes, ...(opts.allowUnknownTools ? [] : unknown)];
  if (errors.length > 0) {
    refuse(errors, opts, io);
    if (!opts.json && unknown.length > 0 && !opts.allowUnknownTools) {
      io.err(`${unknown.length} rule(s) name tools the catalog lacks (${opts.tools ? `\`${opts.tools}\`` : 'the sample catalog'}${opts.config ? ' and the upstream servers of the configuration' : '; upstream tools need `--config <file>`'}): fix them, or pass \`--allow-unknown-tools\` when the catalog is not loaded here`);
    }
    return;
  }
  const warnings = [...compiled.warnings.filter((w) => w.code !== 'unused'), ...(opts.allowUnknownTools ? unknown : [])];
  // Cross-session rules (enforced by the agent and owner ledgers), listed when the document has any.
  const cross = { agent: ledgerRules(parsed.data.agent), owner: ledgerRules(parsed.data.owner) };
  if (opts.json) {
    io.out(JSON.stringify({ valid: true, name: parsed.data.name, hash: compiled.hash, warnings, ...(cross.agent.length + cross.owner.length > 0 ? { crossSession: cross } : {}) }, null, 2));
    return;
  }
  for (const w of warnings) io.err(`warning: ${w.path}: ${w.message}`);
  io.out(`\`${file}\` is valid: policy \`${parsed.data.name}\` (${parsed.data.mode}), hash ${compiled.hash}`);
  for (const r of cross.agent) io.out(`agent-wide ${describeLedgerRule(r)}`);
  for (const r of cross.owner) io.out(`owner-wide ${describeLedgerRule(r)}`);
}

function refuse(issues: readonly PolicyIssue[], opts: CheckOptions, io: CommandIo): void {
  if (opts.json) io.out(JSON.stringify({ valid: false, issues }, null, 2));
  else for (const issue of issues) io.err(`${issue.path}: ${issue.message}`);
  process.exitCode = 1;
}
