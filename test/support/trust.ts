/**
 * Keys for tests: one operator key (agent credentials, resumes, budget raises), one approvals
 * service key (Slack votes), and an approver key for every name the test policies use, gathered
 * in a keyset the test worker loads. Generated once per process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyEntryOf, generateSigningKey, writeKeyFile, type SigningKey } from '../../client/trust/key-files';
import { issueAgentCredential } from '../../client/trust/credentials';
import type { Keyset, SlackIdentity } from '../../policies/trust';

/** Every approver name the test and example policies list. */
export const TEST_APPROVERS = [
  'alice', 'bob', 'carol', 'dave', 'eng-007', 'eng-012', 'sre-ana', 'sre-raj', 'data-lee',
  'U0ALICE', 'U0BOB', 'U0CAROL', 'U0OWNER', 'U0MALLORY', 'mallory', 'billing-bot',
] as const;

/** Slack people the approvals service may vote for in tests (team `T0TEST`). */
export const TEST_SLACK_USERS: readonly SlackIdentity[] = [
  { userId: 'U0ALICE', teamId: 'T0TEST', approver: 'U0ALICE' },
  { userId: 'U0BOB', teamId: 'T0TEST', approver: 'bob' },
  { userId: 'U0CAROL', teamId: 'T0TEST', approver: 'U0CAROL' },
  { userId: 'U0OWNER', teamId: 'T0TEST', approver: 'U0OWNER' },
  { userId: 'U0MALLORY', teamId: 'T0TEST', approver: 'mallory' },
];

export interface TestTrust {
  readonly keyset: Keyset;
  readonly operator: SigningKey;
  readonly service: SigningKey;
  /** The console's registrar key (grants enrolled passkeys). */
  readonly registrar: SigningKey;
  /** The registered approver key of `name` (one of `TEST_APPROVERS`). */
  approver(name: string): SigningKey;
  /** A fresh credential for an agent, signed by the operator key. */
  credential(agentId: string, owner: string, options?: { policies?: readonly string[]; expiresInSeconds?: number; now?: number }): Promise<string>;
}

let cached: TestTrust | undefined;

export function testTrust(): TestTrust {
  if (cached) return cached;
  const operator = generateSigningKey('test-operator', 'operator');
  const service = generateSigningKey('test-slack-approvals', 'approvals-service');
  const registrar = generateSigningKey('test-console', 'registrar');
  const approvers = new Map(TEST_APPROVERS.map((name) => [name as string, generateSigningKey(name, 'approver')]));
  const keyset: Keyset = {
    development: false,
    keys: [operator, service, registrar, ...approvers.values()].map((k) => keyEntryOf(k)),
    slackUsers: TEST_SLACK_USERS,
  };
  cached = {
    keyset,
    operator,
    service,
    registrar,
    approver(name) {
      const k = approvers.get(name);
      if (!k) throw new Error(`no test approver key for \`${name}\`: add it to TEST_APPROVERS`);
      return k;
    },
    async credential(agentId, owner, options = {}) {
      return (await issueAgentCredential(operator, { agentId, owner, ...options })).token;
    },
  };
  return cached;
}

/**
 * Writes the keys of {@link testTrust} for a worker process (`GATEHOUSE_KEYS`): `keyset.json`
 * and every private key file (mode 0600, `<principal>.<role>.key`) in `dir`. Returns the keyset path.
 */
export function writeTestKeys(dir: string): string {
  const trust = testTrust();
  mkdirSync(dir, { recursive: true });
  const keysetFile = join(dir, 'keyset.json');
  writeFileSync(keysetFile, `${JSON.stringify(trust.keyset, null, 2)}\n`);
  for (const key of [trust.operator, trust.service, ...TEST_APPROVERS.map((name) => trust.approver(name))]) writeKeyFile(dir, key);
  return keysetFile;
}
