/**
 * Which of a call's arguments select what it acts on (activities/intent/declared-args): the ones its
 * tool declares, minus those named for the agent's own words. The scorer's second view of a call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNoteArgument, selectingArgs } from '../../activities/intent/declared-args';

describe('note arguments', () => {
  it('are named for words by their last word, in any case style', () => {
    for (const key of ['reason', 'note', 'notes', 'changeNote', 'commit_message', 'Change-Reason', 'auditComment', 'justification', 'summary']) assert.equal(isNoteArgument(key), true, key);
  });

  it('are not arguments that select, even when a note word is part of their name', () => {
    for (const key of ['id', 'noteId', 'reasonCode', 'messageId', 'query', 'name', 'title', 'text', '', '_']) assert.equal(isNoteArgument(key), false, key);
  });
});

describe('the selecting view of a call', () => {
  it('keeps declared arguments that are not notes, and is undefined when that is all of them', () => {
    assert.deepEqual(selectingArgs({ user: 'a', role: 'admin', reason: '1423', ticket: '1423' }, ['user', 'role', 'reason']), { user: 'a', role: 'admin' });
    assert.equal(selectingArgs({ user: 'a', role: 'admin' }, ['user', 'role', 'reason']), undefined);
  });

  it('drops notes when the tool declares nothing', () => {
    assert.deepEqual(selectingArgs({ id: 'E10121', changeNote: 'E10211' }, undefined), { id: 'E10121' });
    assert.equal(selectingArgs({ id: 'E10121' }, undefined), undefined);
  });
});
