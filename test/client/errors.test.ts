/** The client's typed errors: how Temporal client errors map to them (no server needed). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { InvalidProposalError, SessionClosedError, SessionNotFoundError, mapSessionError } from '../../client/errors';

function mapped(err: unknown): unknown {
  try {
    mapSessionError('s1', err);
  } catch (e) {
    return e;
  }
  throw new Error('mapSessionError returned');
}

describe('mapSessionError', () => {
  it('maps validator rejections to InvalidProposalError and closed sessions to SessionClosedError', () => {
    const invalid = mapped(new WorkflowUpdateFailedError('update failed', ApplicationFailure.nonRetryable('invalid proposal: `args` must be an object', 'InvalidProposalError')));
    assert.ok(invalid instanceof InvalidProposalError);
    assert.equal(invalid.type, 'InvalidProposalError');
    assert.equal(invalid.message, 'invalid proposal: `args` must be an object');
    const closed = mapped(new WorkflowUpdateFailedError('update failed', ApplicationFailure.nonRetryable('session `s1` has ended', 'SessionClosedError')));
    assert.ok(closed instanceof SessionClosedError);
    assert.equal(closed.type, 'SessionClosedError');
  });

  it('maps a missing workflow to SessionNotFoundError and a completed one to SessionClosedError', () => {
    const missing = mapped(new WorkflowNotFoundError('workflow not found for ID: session-s1', 'session-s1', undefined));
    assert.ok(missing instanceof SessionNotFoundError);
    assert.equal(missing.message, 'no session `s1`');
    const done = mapped(new WorkflowNotFoundError('workflow execution already completed', 'session-s1', undefined));
    assert.ok(done instanceof SessionClosedError);
  });

  it('rethrows what it does not know', () => {
    const other = new Error('boom');
    assert.equal(mapped(other), other);
  });
});
