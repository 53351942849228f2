/**
 * The `propose` and `spawnChild` update validators: they reject only what is not a proposal at
 * all (so nothing is recorded and nothing changes). Everything else reaches the handler and is
 * audited, unknown tools and invalid arguments included. Workflow-safe.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { MAX_PROPOSAL_BYTES, SESSION_ERROR_TYPES, type SessionProposal, type SpawnChildInput } from './contract';
import { canonicalSize } from './canonical-size';
import { describePath, MAX_ARGS_DEPTH, tooDeepAt } from '../policies/json-depth';


function reject(message: string): never {
  throw ApplicationFailure.nonRetryable(message, SESSION_ERROR_TYPES.invalidProposal);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws an `InvalidProposalError` failure with a one-sentence message when `p` is not a proposal. */
/** Control characters and unpaired UTF-16 surrogates. */
const UNSTORABLE_KEY = /[\u0000-\u001f\u007f]|\p{Surrogate}/u;

export function assertProposal(p: unknown): asserts p is SessionProposal {
  if (!isPlainObject(p)) reject('invalid proposal: expected an object with `tool`, `args` and `reasoning`');
  if (typeof p.tool !== 'string' || p.tool.length === 0) reject('invalid proposal: `tool` must be a non-empty string');
  if (p.tool.length > 200) reject('invalid proposal: `tool` is longer than 200 characters');
  if (!isPlainObject(p.args)) reject('invalid proposal: `args` must be an object');
  // Before anything walks the arguments: a deep value is refused here, at its path, not deeper in the gate.
  const deep = tooDeepAt(p.args, MAX_ARGS_DEPTH);
  if (deep) reject(`invalid proposal: \`args.${describePath(deep)}\` nests deeper than ${MAX_ARGS_DEPTH} levels`);
  if (p.reasoning !== undefined && typeof p.reasoning !== 'string') reject('invalid proposal: `reasoning` must be a string');
  if (p.tokenCost !== undefined && !(typeof p.tokenCost === 'number' && Number.isFinite(p.tokenCost) && p.tokenCost >= 0)) {
    reject('invalid proposal: `tokenCost` must be a non-negative number');
  }
  if (p.idempotencyKey !== undefined && (typeof p.idempotencyKey !== 'string' || p.idempotencyKey.length > 200)) {
    reject('invalid proposal: `idempotencyKey` must be a string of at most 200 characters');
  }
  // A key the ledger cannot store as text (NUL, a lone surrogate) would fail the call after it was accepted.
  if (typeof p.idempotencyKey === 'string' && UNSTORABLE_KEY.test(p.idempotencyKey)) {
    reject('invalid proposal: `idempotencyKey` must not contain control characters or lone surrogates');
  }
  if (p.requestUnlock !== undefined && typeof p.requestUnlock !== 'boolean') reject('invalid proposal: `requestUnlock` must be a boolean');
  let size: number;
  try {
    size = canonicalSize(p);
  } catch {
    reject('invalid proposal: not serialisable as JSON');
  }
  if (size > MAX_PROPOSAL_BYTES) reject(`invalid proposal: ${size} bytes is over the limit of ${MAX_PROPOSAL_BYTES} bytes`);
}

export function assertSpawnChild(c: unknown): asserts c is SpawnChildInput {
  if (!isPlainObject(c)) reject('invalid sub-agent: expected an object with `agentId` and `intent`');
  if (typeof c.agentId !== 'string' || c.agentId.length === 0) reject('invalid sub-agent: `agentId` must be a non-empty string');
  if (typeof c.intent !== 'string' || c.intent.trim().length === 0) reject('invalid sub-agent: `intent` must be a non-empty string');
  if (c.sessionId !== undefined) reject('invalid sub-agent: `sessionId` is chosen by the parent session (`<session id>.<n>`)');
  const deep = tooDeepAt(c, MAX_ARGS_DEPTH);
  if (deep) reject(`invalid sub-agent: \`${describePath(deep)}\` nests deeper than ${MAX_ARGS_DEPTH} levels`);
  let size: number;
  try {
    size = canonicalSize(c);
  } catch {
    reject('invalid sub-agent: not serialisable as JSON');
  }
  if (size > MAX_PROPOSAL_BYTES) reject(`invalid sub-agent: over the limit of ${MAX_PROPOSAL_BYTES} bytes`);
}
