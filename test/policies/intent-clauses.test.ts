/**
 * policies/intent-clauses.ts and the phrases `intentEffect` rewrites in session 13 (issue 27): the
 * subject before a modal and a word before an auxiliary lead no clause; an identifier is a name, not
 * the start of a clause; "pull up" shows, "shut … down" stops; "read-only" qualifies access, it asks no look.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clauseLeads } from '../../policies/intent-clauses';
import { intentEffect, nameTokens } from '../../policies/intent';

const leads = (text: string) => clauseLeads(text, { tokens: nameTokens, isRead: (w) => ['look', 'show', 'search', 'history', 'list'].includes(w) });

describe('clause leads', () => {
  it('the first word that is not filler, per clause', () => {
    assert.deepEqual(leads('please list the pods, then delete the api; and go restart it'), ['list', 'delete', 'restart']);
    assert.deepEqual(leads(''), []);
  });

  it('after a modal a change leads and the subject does not; a read there describes a state', () => {
    assert.deepEqual(leads('search pods that throw errors should get removed'), ['get']);
    assert.deepEqual(leads('the banners must also be expire'), ['expire']);
    assert.deepEqual(leads('the volumes should look right'), []);
    assert.deepEqual(leads('the volumes shall'), []);
  });

  it('a word before an auxiliary is a subject', () => {
    assert.deepEqual(leads('history is eating the db, keep 3 days'), ['keep']);
    assert.deepEqual(leads('status was red'), []);
    assert.deepEqual(leads('history'), ['history'], 'alone it may still lead');
  });
});

describe('intentEffect, session 13', () => {
  it('reads what is asked, not the subject', () => {
    const cases: Record<string, string | null> = {
      'orders-staging history is eating the db, keep 3 days instead of 30': null,
      'search pods that throw 5xx should get kicked out of the pool faster': 'destructive',
      'the old promo banners should age out in a day': 'write',
      'the volumes of the cluster should look right': null,
      'demo-shop-pr-2210 preview env — PR is merged': null,
      'preview rows of stg_events': 'read',
      'pull up the fluentd-legacy-k8s pipeline config, we plan to retire it next quarter': 'read',
      'pulling up the contact record': 'read',
      'shut the sftp server down for the night': 'write',
      'shut down the vm': 'write',
      'pull it from testers': 'destructive',
      // read-only qualifies access (scope.access checks it), it asks for no look
      'need a bind account for the new jenkins, read-only, in service-accounts': null,
      'a token for the migration script (view only)': null,
      'read only check of the pods': 'read',
      // "whats" is "what's" as typed in chat; "grab" fetches
      'whats the rollout % for 6.12 on android right now': 'read',
      'whos on call for payments': 'read',
      'grab the output of last nights run, they say the file was empty': 'read',
    };
    for (const [intent, effect] of Object.entries(cases)) assert.equal(intentEffect(intent), effect, intent);
  });

  it('a phrase reads the same however its words are spaced', () => {
    const cases: Record<string, string> = {
      'free up disk on build-7': 'destructive',
      'get his devices off the vpn': 'destructive',
      'get that image out of the registry': 'destructive',
      'pull it from testers': 'destructive',
      'get everyone on sonoma 14.5': 'write',
      'pull up the checkout dashboard': 'read',
      'pulls up the checkout dashboard': 'read',
      'tell me which side is off': 'read',
      'let me know who holds the lock': 'read',
      'shut the old runner down': 'write',
    };
    for (const [intent, effect] of Object.entries(cases)) {
      assert.equal(intentEffect(intent), effect, intent);
      assert.equal(intentEffect(intent.replace(/ /g, '  ')), effect, `${intent}, two spaces`);
      assert.equal(intentEffect(intent.replace(/ /g, '\t')), effect, `${intent}, tabs`);
    }
  });
});

