/**
 * The check that runs before any vote is signed (`approvals/shown-call.ts`): an approval row
 * against its session's own pending approval, the digest recomputed from the tool and arguments
 * shown. Pure: made-up rows and views, no servers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkShownCall, isRedactionOf } from '../../approvals/shown-call';
import type { ApprovalRecord } from '../../approvals/types';
import { callDigestOver } from '../../policies';
import { approvalRequest, pendingViewOf, recordOf, sessionViewOf } from './fixtures';

const req = approvalRequest('session-shown-1', { firstRunId: 'run-1' });
const view = sessionViewOf(req, [pendingViewOf(req)]);
const codeOf = (record: ApprovalRecord, v = view) => {
  const r = checkShownCall(record, v);
  return r.ok ? 'ok' : r.code;
};

describe('isRedactionOf', () => {
  test('only `[REDACTED]` values may differ; keys, lengths and every other value must match', () => {
    const raw = { filter: { month: '2026-10', ids: [1, 2] }, apiKey: 'sk-live' };
    assert.equal(isRedactionOf(raw, raw), true);
    assert.equal(isRedactionOf({ filter: { month: '2026-10', ids: [1, 2] }, apiKey: '[REDACTED]' }, raw), true);
    assert.equal(isRedactionOf({ filter: '[REDACTED]', apiKey: '[REDACTED]' }, raw), true);
    assert.equal(isRedactionOf({ filter: { month: '2020-01', ids: [1, 2] }, apiKey: '[REDACTED]' }, raw), false);
    assert.equal(isRedactionOf({ filter: { month: '2026-10', ids: [1] }, apiKey: '[REDACTED]' }, raw), false);
    assert.equal(isRedactionOf({ filter: { month: '2026-10', ids: [1, 2] } }, raw), false, 'a key left out');
    assert.equal(isRedactionOf({ ...raw, extra: 1 }, raw), false, 'a key added');
    assert.equal(isRedactionOf([1, 2], { 0: 1, 1: 2 }), false);
  });
});

describe('checkShownCall', () => {
  test('the row the session asked for passes', () => {
    const r = checkShownCall(recordOf(req), view);
    assert.equal(r.ok, true);
  });

  test('every field a person reads, or the digest covers, is compared with the session', () => {
    const row = recordOf(req);
    assert.equal(codeOf({ ...row, tool: 'billing.query' }), 'call-mismatch');
    assert.equal(codeOf({ ...row, callDigest: 'f'.repeat(64) }), 'call-mismatch');
    assert.equal(codeOf({ ...row, redactedArgs: { filter: { test: true, month: '2020-01' }, apiKey: '[REDACTED]' } }), 'call-mismatch');
    assert.equal(codeOf({ ...row, intent: 'look up one invoice' }), 'call-mismatch');
    assert.equal(codeOf({ ...row, owner: 'someone-else' }), 'call-mismatch');
    assert.equal(codeOf({ ...row, firstRunId: 'run-2' }), 'call-mismatch');
    assert.equal(codeOf({ ...row, blastRadius: 3 }), 'call-mismatch');
    assert.equal(codeOf({ ...row, decision: { ...row.decision, policyHash: 'b'.repeat(64) } }), 'call-mismatch');
    assert.equal(codeOf({ ...row, workflowId: 'session-other' }), 'call-mismatch');
  });

  test('a row and a view that agree with each other but not with the digest recomputed from what they show', () => {
    // A session view that lies about its arguments (or a row shown with them) does not recompute to the digest.
    const pending = { ...pendingViewOf(req), args: { filter: { test: true, month: '2020-01' }, apiKey: 'sk-live-secret' }, redactedArgs: { filter: { test: true, month: '2020-01' }, apiKey: '[REDACTED]' } };
    const row = recordOf(req, { redactedArgs: pending.redactedArgs });
    const r = checkShownCall(row, sessionViewOf(req, [pending]));
    assert.equal(r.ok === false && r.message.includes('digest recomputed'), true, JSON.stringify(r));
    // With the digest recomputed over those arguments, the same row passes: the digest is what binds them.
    const digest = callDigestOver(req.proposal.tool, pending.args, req.decision.policyHash, pending.stateHash!);
    assert.equal(codeOf({ ...row, callDigest: digest }, sessionViewOf(req, [{ ...pending, callDigest: digest }])), 'ok');
  });

  test('no such pending approval, a gone session, a view without what the digest covers', () => {
    const row = recordOf(req);
    assert.equal(codeOf(row, sessionViewOf(req, [])), 'not-pending');
    assert.equal(checkShownCall(row, undefined).ok === false && (checkShownCall(row, undefined) as { code: string }).code, 'session-gone');
    const { stateHash: _s, ...older } = pendingViewOf(req);
    assert.equal(codeOf(row, sessionViewOf(req, [older])), 'call-mismatch');
  });
});
