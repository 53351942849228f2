/**
 * `gatehouse policy check <file>`: a document is valid only when it says what it means. Beyond
 * the schema, it fails on a rule naming a tool the catalog lacks (with the catalog's closest name:
 * a typo must not quietly weaken a policy), on a tier-table environment no tool has and a bound on
 * an argument path the tool does not declare (each with the closest name), and on a list that
 * silently drops a default. `--allow-unknown-tools` turns the first three into warnings, for a
 * catalog not loaded here. A destructive tool that runs autonomously is a warning.
 */
import { SAMPLE_TOOLS } from '../../activities/tools/sample';
import { compilePolicy, describeLedgerRule, ledgerRules, parsePolicyText, type PolicyIssue, type ToolInfo } from '../../policies';
import { argumentPathWarnings, UNKNOWN_ARGUMENT, UNKNOWN_ENVIRONMENT, WITHIN_ZERO } from '../../policies/loosening-warnings';
import { closestName } from '../../policies/suggest';
import { argumentSchemasOf } from '../../worker/policy-registry';
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
  // Bound paths are judged against the sample catalog's input schemas; a `--tools` list carries none.
  const schemas = opts.tools === undefined ? argumentSchemasOf(SAMPLE_TOOLS) : new Map();
  const all = [...compiled.warnings, ...argumentPathWarnings(parsed.data, compiled.catalog, schemas)];
  const names = tools.map((t) => t.name);
  // What names something the catalog lacks, in the order found; the rest are warnings.
  const lacking = all.filter(namesWhatTheCatalogLacks).map((w) => (w.code === 'unused' ? unknownTool(w, names) : w));
  // A rule switched off by its own window is an error whatever the catalog.
  const errors = [...parsed.notes, ...all.filter((w) => w.code === WITHIN_ZERO), ...(opts.allowUnknownTools ? [] : lacking)];
  if (errors.length > 0) {
    refuse(errors, opts, io);
    const unknownTools = lacking.filter((w) => w.code === 'unknown-tool').length;
    const others = lacking.length - unknownTools;
    if (!opts.json && unknownTools > 0 && !opts.allowUnknownTools) {
      io.err(`${unknownTools} rule(s) name tools the catalog lacks (${opts.tools ? `\`${opts.tools}\`` : 'the sample catalog'}${opts.config ? ' and the upstream servers of the configuration' : '; upstream tools need `--config <file>`'}): fix them, or pass \`--allow-unknown-tools\` when the catalog is not loaded here`);
    }
    if (!opts.json && others > 0 && !opts.allowUnknownTools) {
      io.err(`${others} rule(s) name environments or argument paths the catalog lacks: fix them, or pass \`--allow-unknown-tools\` when the catalog is not loaded here`);
    }
    return;
  }
  const warnings = [...all.filter((w) => !namesWhatTheCatalogLacks(w) && w.code !== WITHIN_ZERO), ...(opts.allowUnknownTools ? lacking : [])];
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

/** A rule naming a tool, an environment or an argument path the catalog lacks. */
function namesWhatTheCatalogLacks(w: PolicyIssue): boolean {
  return w.code === 'unused' || w.code === UNKNOWN_ENVIRONMENT || w.code === UNKNOWN_ARGUMENT;
}

function refuse(issues: readonly PolicyIssue[], opts: CheckOptions, io: CommandIo): void {
  if (opts.json) io.out(JSON.stringify({ valid: false, issues }, null, 2));
  else for (const issue of issues) io.err(`${issue.path}: ${issue.message}`);
  process.exitCode = 1;
}
