/**
 * The demo's policies: the example production policy, with each change a scenario needs said out
 * loud. A session never carries its policy: the worker loads these as named policies (a
 * development `gatehouse start` registers {@link demoPolicies}; the resume scenario's own worker
 * gets them as files) and each scenario names one with `policyRef`, which the credential the
 * development stack issues allows.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY_FILE } from '../client/config';
import { SAMPLE_TEST_RECORDS } from '../activities/tools/sample/seed';
import { parsePolicy, parsePolicyText, type PolicyDocument } from '../policies';

/** Names of the demo's policies in the worker's registry. */
export const DEMO_POLICY = 'demo';
export const DEMO_BILLING_POLICY = 'demo-billing';
export const DEMO_BATCH_POLICY = 'demo-batch';

/**
 * The people the demo's approver plays, per approver group of the example policy. The example
 * ships these same placeholder people; should a team have emptied a group, the demo staffs it.
 */
export const DEMO_APPROVERS: Readonly<Record<string, readonly string[]>> = {
  'on-call': ['eng-007', 'eng-012'],
  'sre-leads': ['sre-ana', 'sre-raj'],
  'data-owners': ['eng-007', 'data-lee'],
};

/** Thrown when a policy the demo builds does not validate. */
export class DemoPolicyError extends Error {
  readonly type = 'DemoPolicyError';
}

function validated(doc: unknown, what: string): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new DemoPolicyError(`${what} does not validate: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The example policy, parsed (every default filled in). */
export async function examplePolicy(): Promise<PolicyDocument> {
  const text = await readFile(DEFAULT_POLICY_FILE, 'utf8');
  const parsed = parsePolicyText(text, DEFAULT_POLICY_FILE);
  if (!parsed.success) throw new DemoPolicyError(`example policy does not parse: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * The example policy, with any empty approver group staffed by the demo's people, and without its
 * agent-wide rules (`agent:`): every demo runs any number of times, and those rules would carry one
 * run's writes and deletions into the next for 30 minutes (the resume scenario's 50 writes alone are
 * past them). Each scenario's story is its session's own.
 */
export async function demoPolicy(): Promise<PolicyDocument> {
  const { agent: _acrossSessions, ...doc } = await examplePolicy();
  const groups: Record<string, string[]> = {};
  for (const [name, members] of Object.entries(doc.approvers.groups)) {
    groups[name] = members.length > 0 ? [...members] : [...(DEMO_APPROVERS[name] ?? [])];
  }
  return validated({ ...doc, approvers: { ...doc.approvers, groups } }, 'the demo policy');
}

/**
 * The resume scenario is about durability, not budgets: a batch job of 50 staging writes gets a
 * window with room for them (the example policy allows 5 writes per 30 minutes).
 */
export async function resumePolicy(): Promise<PolicyDocument> {
  const doc = await demoPolicy();
  return validated(
    {
      ...doc,
      name: `${doc.name}-batch`,
      budget: { ...doc.budget, actions: Math.max(doc.budget.actions, 120), writes: Math.max(doc.budget.writes, 120) },
    },
    'the batch policy',
  );
}

/**
 * The billing cleanup's policy: the demo policy, with the hard cap of `billing.deleteRecords`
 * lowered to `cap` rows when the example's cap is above anything the sample data can reach
 * (the scope a change ticket would give this cleanup). Returns the cap in force.
 */
export async function billingPolicy(cap: number): Promise<{ policy: PolicyDocument; denyAbove: number; tightened: boolean }> {
  const doc = await demoPolicy();
  const rule = doc.tools['billing.deleteRecords'] ?? {};
  const current = rule.blastRadius?.denyAbove;
  if (current !== undefined && current <= cap) return { policy: doc, denyAbove: current, tightened: false };
  const policy = validated(
    {
      ...doc,
      tools: { ...doc.tools, 'billing.deleteRecords': { ...rule, blastRadius: { ...rule.blastRadius, denyAbove: cap } } },
    },
    'the billing cleanup policy',
  );
  return { policy, denyAbove: cap, tightened: true };
}

/**
 * Every demo policy by its registry name. The billing cleanup's hard cap is the number of test
 * records the sample data is seeded with, so deleting every record of the month is above it.
 */
export async function demoPolicies(): Promise<Record<string, PolicyDocument>> {
  return {
    [DEMO_POLICY]: await demoPolicy(),
    [DEMO_BILLING_POLICY]: (await billingPolicy(SAMPLE_TEST_RECORDS)).policy,
    [DEMO_BATCH_POLICY]: await resumePolicy(),
  };
}
