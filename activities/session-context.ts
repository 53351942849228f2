/**
 * `loadSessionContext`: what a session snapshots when it starts — the policy document (the one
 * sent with the start input, or the worker's configured one) and the catalog's tool descriptors.
 * The document is validated here, at the edge, with the policy engine's zod schema; the workflow
 * compiles the parsed document itself, so replays re-derive every decision from the snapshot.
 */
import { ApplicationFailure } from '@temporalio/common';
import { parsePolicy } from '../policies/parse';
import type { PolicyDocument } from '../policies/document';
import type { LoadSessionContextInput, SessionContext } from './types';
import { describeCatalog, type ToolCatalog } from './tools/catalog';

export interface SessionContextDeps {
  /** The worker's configured policy (already parsed). */
  readonly policy: PolicyDocument;
  readonly catalog: ToolCatalog;
}

export function createSessionContextActivities(deps: SessionContextDeps) {
  const descriptors = describeCatalog(deps.catalog);
  return {
    async loadSessionContext(input: LoadSessionContextInput): Promise<SessionContext> {
      if (input.policy === undefined) return { policyDocument: deps.policy, descriptors };
      const parsed = parsePolicy(input.policy);
      if (!parsed.success) {
        const first = parsed.issues[0];
        // Permanent: the same document fails the same way on every attempt.
        throw ApplicationFailure.nonRetryable(
          `invalid policy in the start input${first ? `: ${first.path}: ${first.message}` : ''}`,
          'InvalidPolicyError',
          parsed.issues,
        );
      }
      return { policyDocument: parsed.data, descriptors };
    },
  };
}
