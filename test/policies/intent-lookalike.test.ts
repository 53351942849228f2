/**
 * Near misses of session 13 (issue 27): a value that looks alike (a typo, a transposed pair), another
 * ticket of the intent's series, a phone number however spaced, another host behind a port; and a
 * read of a related record of the same shape that is not a near miss. Names that are the intent's
 * however spelled: `_` for `-`, a plural, an abbreviated typed id, a sibling the intent names too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identifierMatches } from '../../policies/intent-identifiers';
import { lookAlike, nearMisses, numbersIn, siblingMisses, ticketsIn, widerAddress } from '../../policies/intent-scope';
import { actionSignals, intentEffect, intentScope } from '../../policies/intent';

const cap = (intent: string, tool: string, args: unknown) => actionSignals(intentScope(intent), tool, args).cap;

describe('look-alike values', () => {
  it('the same length, at most a third of the characters different (two at least)', () => {
    assert.equal(lookAlike('re3f11a09c', 're3f11a1f7'), true);
    assert.equal(lookAlike('e10211', 'e10121'), true);
    assert.equal(lookAlike('e10211', 'e10211'), false, 'the same value');
    assert.equal(lookAlike('5105600231', '4500012288'), false);
    assert.equal(lookAlike('abc', 'abcd'), false);
    assert.equal(lookAlike('ab12', 'xy12'), true, 'two differences always');
    assert.equal(lookAlike('ab12', 'xyz2'), false);
  });

  it('tickets and phone numbers', () => {
    assert.deepEqual(ticketsIn('close DSR-9120 as fulfilled (see chg-4471)'), ['dsr-9120', 'chg-4471']);
    assert.deepEqual(ticketsIn('restart web'), []);
    assert.deepEqual(numbersIn('resend the sms to +1 415 555 0142'), ['14155550142']);
    assert.deepEqual(numbersIn('switch +4930120045600 to the holiday flow'), ['4930120045600']);
  });

  it('a near miss: same shape, or alike; a read only when alike', () => {
    assert.deepEqual(nearMisses(['5105600231'], ['4500012288']), [{ intended: '5105600231', named: '4500012288' }]);
    assert.deepEqual(nearMisses(['5105600231'], ['4500012288'], true), [], 'a read of a related record');
    assert.deepEqual(nearMisses(['5105600231'], ['5105600213'], true), [{ intended: '5105600231', named: '5105600213' }]);
    assert.deepEqual(nearMisses(['re3f11a09c'], ['RE3f11a1f7']), [{ intended: 're3f11a09c', named: 're3f11a1f7' }]);
    assert.deepEqual(nearMisses(['re3f11a09c'], ['RE3f11a09c', 'RE3f11a1f7']), [], 'the intent\'s own is named');
    assert.deepEqual(nearMisses(['abcdef'], ['abcdeg']), [], 'no digit: a name, not a record of a series');
  });

  it('another host behind a port', () => {
    assert.equal(widerAddress(['10.20.4.17'], ['10.20.4.71:8443']), '10.20.4.71');
    assert.equal(widerAddress(['10.20.4.17'], ['10.20.4.17:8443']), null);
  });

  it('in actionSignals', () => {
    assert.equal(cap('close DSR-9120 as fulfilled', 'Close/SubjectRequest', { requestId: 'DSR-9102', outcome: 'fulfilled' }), 0.2);
    assert.equal(cap('close DSR-9120 as fulfilled', 'Close/SubjectRequest', { requestId: 'DSR-9120', outcome: 'fulfilled' }), 1);
    assert.equal(cap('resend the password reset sms to +1 415 555 0142', 'messageSend', { channel: 'sms', to: '+14155550124' }), 0.2);
    assert.equal(cap('resend the password reset sms to +1 415 555 0142', 'messageSend', { channel: 'sms', to: '+14155550142' }), 1);
    assert.equal(cap('drain 10.20.4.17 from payments-svc', 'PUT /admin/v2/upstreams/{upstream}/targets/{target}', { upstream: 'payments-svc', target: '10.20.4.71:8443', weight: 0 }), 0.2);
    assert.equal(cap('why is 5105600231 stuck in 3-way match?', "GET /odata/v4/PurchaseOrders('{id}')", { id: '4500012288' }), 1);
    assert.equal(cap('post invoice 5105600231', "POST /odata/v4/SupplierInvoices('{id}')/Post", { id: '4500012288' }), 0.2, 'a change on another record of the series');
  });

  it('"tell me" and "let me know" ask to answer', () => {
    assert.equal(intentEffect('look at the invoice and tell me which side is off'), 'read');
    assert.equal(intentEffect('let us know who holds the lock'), 'read');
    assert.equal(intentEffect('let us email them again'), 'write');
    assert.equal(intentEffect('tell the team the deploy is done'), 'write');
  });
});

describe('the intent\'s names however spelled', () => {
  const name = (value: string) => ({ value, kind: 'name' as const });
  const typed = (value: string) => ({ value, kind: 'typed:dp' as const });

  it('`_` is `-` and a part\'s plural is the part', () => {
    assert.equal(identifierMatches(name('one_page'), name('one-page')), true);
    assert.equal(identifierMatches(name('exp_checkout_one_page'), name('one-page')), true);
    assert.equal(identifierMatches(name('geo-headers'), name('geo-header')), true);
    assert.equal(identifierMatches(name('geo-headerx'), name('geo-header')), false);
    assert.equal(identifierMatches(name('one-pager'), name('one-page')), false);
  });

  it('a typed id abbreviated: three characters after the type at least, half the id at most', () => {
    assert.equal(identifierMatches(typed('dp_1p2qlmlkdiwhu7ixq0aa'), typed('dp_1p2')), true);
    assert.equal(identifierMatches(typed('dp_1p2q'), typed('dp_1p2')), false, 'more than half: another record');
    assert.equal(identifierMatches(typed('dp_1pqlmlkdiwhu7ixq0aa'), typed('dp_1p')), false, 'two characters say too little');
    assert.equal(identifierMatches(name('orders-dbx-primary'), name('orders-db')), false, 'only a typed id');
    assert.equal(cap('cancel the trial sub for cus_Lm44', 'payments.subscriptions.cancel', { customer: 'cus_Lm4419' }), 0.2);
    assert.equal(cap('concede the chargeback on dp_1P2', 'payments.disputes.close', { dispute: 'dp_1P2qLmLkdIwHu7ixQ0aa' }), 1);
  });

  it('a sibling the intent names too is asked for', () => {
    assert.deepEqual(siblingMisses(['team-growth'], ['C01GROWTH', 'team-lifecycle'], ['team-growth', 'team-lifecycle']), []);
    assert.deepEqual(siblingMisses(['team-growth'], ['C01GROWTH', 'team-lifecycle']), [{ intended: 'team-growth', named: 'team-lifecycle' }]);
    assert.equal(cap('rename #team-growth to #team-lifecycle', 'workspace.channels.rename', { channel: 'C01GROWTH', name: 'team-lifecycle' }), 1);
    assert.equal(cap('rename #team-growth to #team-lifecycle', 'workspace.channels.rename', { channel: 'C01GROWTH', name: 'team-marketing' }), 0.2);
  });
});
