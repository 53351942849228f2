/**
 * The keys the approvals service votes with: its own approvals-service key and the keyset the
 * worker trusts (which maps Slack user id + team id to approvers in `slackUsers`).
 *
 * | source | key | keyset |
 * | --- | --- | --- |
 * | a deployment | `GATEHOUSE_SLACK_SIGNING_KEY` (a key file, mode 0600) | `GATEHOUSE_KEYS` |
 * | `gatehouse start` | `dev-slack-approvals` in the stack's key folder | the stack's keyset file |
 *
 * Node-only.
 */
import { findKeyFile, readKeyFile, type SigningKey } from '../../client/trust/key-files';
import { loadKeysetFile } from '../../client/trust/keyset-file';
import type { StackFile } from '../../client/config';
import type { Keyset } from '../../policies/trust';

/** Principal of the approvals-service key `gatehouse start` makes for a development stack. */
export const DEV_SLACK_APPROVALS_PRINCIPAL = 'dev-slack-approvals';

/** Thrown when the approvals service has no key or no keyset to vote with. */
export class ApprovalsTrustError extends Error {
  readonly type = 'ApprovalsTrustError';
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalsTrustError';
  }
}

export interface ApprovalsTrust {
  readonly signingKey: SigningKey;
  readonly keyset: Keyset;
}

/** Loads the service key and the keyset from the environment, else from a development stack's keys. */
export function loadApprovalsTrust(env: NodeJS.ProcessEnv, keys?: StackFile['keys'], options: { readonly production?: boolean } = {}): ApprovalsTrust {
  const keysetFile = env.GATEHOUSE_KEYS || keys?.keysetFile;
  if (!keysetFile) throw new ApprovalsTrustError('the approvals service needs the keyset: set `GATEHOUSE_KEYS` (or run `gatehouse start`)');
  const keyset = loadKeysetFile(keysetFile, options.production ? { production: true } : {});
  let signingKey: SigningKey;
  if (env.GATEHOUSE_SLACK_SIGNING_KEY) signingKey = readKeyFile(env.GATEHOUSE_SLACK_SIGNING_KEY);
  else if (keys?.keyDir) signingKey = findKeyFile(DEV_SLACK_APPROVALS_PRINCIPAL, 'approvals-service', [keys.keyDir]);
  else {
    throw new ApprovalsTrustError('the approvals service needs its signing key: set `GATEHOUSE_SLACK_SIGNING_KEY` to its key file (`gatehouse keys create --service <name>`)');
  }
  return { signingKey, keyset };
}
