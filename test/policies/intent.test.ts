/**
 * The deterministic intent signals of policies/intent.ts pinned exactly: the caps and their
 * messages word for word, the effect of a tool name in each naming style and of an intent (each
 * rewrite, the question rule, the leading verb), environments, and the session rule at its edges.
 * Behaviour on whole sessions: test/intent/signals.test.ts (some of its examples are reused here).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionSignals, argStrings, CAPS, combineSignals, environmentsOf, identifiersOf, inferToolEffect, intentEffect, intentScope, nameTokens, SESSION_RULE, sessionScore } from '../../policies/intent';

const sig = (intent: string, tool: string, args: unknown, effect?: 'read' | 'write' | 'destructive' | null) => actionSignals(intentScope(intent), tool, args, effect);
const MATCH = { code: 'scope.match', message: 'the call names an identifier of the intent' };

describe('actionSignals', () => {
  it('the caps and the floor', () => {
    assert.deepEqual(CAPS, { environment: 0.1, identifier: 0.2, effect: { read: { write: 0.2, destructive: 0.05 }, write: { destructive: 0.3 } }, irreversible: 0.3, ruledOut: 0.2, matchFloor: 0.6, unnamed: 0.7 });
  });

  it('caps a call on an environment the intent does not name, saying both', () => {
    assert.deepEqual(sig('restart the web deployment in staging', 'k8s.rollout.restart', { namespace: 'production', name: 'web' }), {
      cap: 0.1, floor: 0, effect: 'write', signals: [{ code: 'scope.environment', message: 'the call acts on production; the intent names staging' }],
    });
    assert.deepEqual(sig('restart web in staging and prod-eu', 'k8s.rollout.restart', { ns: 'production', b: 'dev' }), { cap: 1, floor: 0, effect: 'write', signals: [] });
    assert.deepEqual(sig('restart web', 'k8s.rollout.restart', { ns: 'production' }).cap, 1, 'the intent names no environment');
    assert.deepEqual(sig('restart web in staging', 'k8s.rollout.restart', { ns: 'web' }).cap, 1, 'the call names none');
  });

  it('caps a call on other identifiers, naming three of each', () => {
    assert.deepEqual(sig('resize the instances i-0a1, i-0a2, i-0a3 and i-0a4', 'vms.instance.resize', { ids: ['i-0f1', 'i-0f2', 'i-0f3', 'i-0f4'] }), {
      cap: 0.2, floor: 0, effect: 'write', signals: [{ code: 'scope.identifier', message: 'the call names i-0f1, i-0f2, i-0f3; the intent names i-0a1, i-0a2, i-0a3' }],
    });
    assert.deepEqual(sig('refund customer 42', 'payments.refund.create', { customerId: 43 }), {
      cap: 0.2, floor: 0, effect: 'write', signals: [{ code: 'scope.identifier', message: 'the call names another customer; the intent names customer 42' }],
    });
  });

  it('lifts a call on the intent\'s own identifier to the floor, only when nothing caps it', () => {
    assert.deepEqual(sig('refund customer 42', 'payments.refund.create', { customerId: 42 }), { cap: 1, floor: 0.6, effect: 'write', signals: [MATCH] });
    assert.deepEqual(sig('check the DNSSEC status of example.com', 'dns.dnssec.get', { domain: 'example.com' }), { cap: 1, floor: 0.6, effect: 'read', signals: [MATCH] });
    assert.deepEqual(sig('tidy up the preview of pr-1423', 'k8s.namespaces.delete', { name: 'pr-1423-preview' }), { cap: 1, floor: 0.6, effect: 'destructive', signals: [MATCH] });
  });

  it('caps more effect than the intent implies; the catalog\'s effect wins over the name', () => {
    const read = 'check the DNSSEC status of example.com';
    assert.deepEqual(sig(read, 'dns.dnssec.disable', { domain: 'example.com' }), { cap: 0.05, floor: 0, effect: 'destructive', signals: [{ code: 'effect', message: 'a destructive call under an intent that implies read' }] });
    assert.deepEqual(sig(read, 'dns.dnssec.get', { domain: 'example.com' }, 'write'), { cap: 0.2, floor: 0, effect: 'write', signals: [{ code: 'effect', message: 'a write call under an intent that implies read' }] });
    assert.equal(sig(read, 'dns.dnssec.disable', {}, null).effect, 'destructive', 'null: inferred from the name');
    assert.equal(sig('rotate the secret api/key', 'secrets.secret.destroy', { secret: 'api/key' }).cap, 0.3);
    assert.deepEqual(sig('rotate the secret', 'secrets.secret.get', {}), { cap: 1, floor: 0, effect: 'read', signals: [] });
    assert.deepEqual(sig('the quarterly thing', 'secrets.secret.destroy', {}), { cap: 1, floor: 0, effect: 'destructive', signals: [] });
    assert.deepEqual(sig(read, 'foo.bar', {}), { cap: 1, floor: 0, effect: null, signals: [] });
  });

  it('every environment and identifier of a message, comma-separated; only the contradicted kind named', () => {
    assert.deepEqual(sig('restart web in staging and dev', 'k8s.rollout.restart', { a: 'production', b: 'qa' }).signals, [
      { code: 'scope.environment', message: 'the call acts on production, qa; the intent names staging, development' },
    ]);
    assert.deepEqual(sig('resize i-0a1 on example.com', 'vms.instance.resize', { id: 'i-0f1', domain: 'example.com' }).signals, [
      { code: 'scope.identifier', message: 'the call names i-0f1; the intent names i-0a1' },
    ]);
    assert.deepEqual(sig('refund customer 42 and customer 43', 'payments.refund.create', { customerId: 44 }).signals, [
      { code: 'scope.identifier', message: 'the call names another customer; the intent names customer 42, 43' },
    ]);
  });

  it('an identifier spelled out across the call\'s arguments is not contradicted', () => {
    assert.deepEqual(sig('check the record status.acme.io', 'dns.record.get', { zone: 'acme.io', name: 'status' }), { cap: 1, floor: 0, effect: 'read', signals: [] });
  });

  it('the lowest cap wins, every signal said in order', () => {
    assert.deepEqual(sig('restart web in staging', 'k8s.rollout.delete', { namespace: 'production', name: 'web-1' }), {
      cap: 0.1, floor: 0, effect: 'destructive',
      signals: [{ code: 'scope.environment', message: 'the call acts on production; the intent names staging' }, { code: 'effect', message: 'a destructive call under an intent that implies write' }],
    });
  });

  it('the score: the similarity raised to the floor, held under the cap', () => {
    assert.equal(combineSignals(0.3, { cap: 1, floor: 0.6 }), 0.6);
    assert.equal(combineSignals(0.9, { cap: 1, floor: 0.6 }), 0.9);
    assert.equal(combineSignals(0.9, { cap: 0.2, floor: 0 }), 0.2);
    assert.equal(combineSignals(0.1, { cap: 0.2, floor: 0 }), 0.1);
  });
});

describe('effects', () => {
  it('tokens: camelCase, dots, dashes, underscores, lower case', () => {
    assert.deepEqual(nameTokens('getRolloutStatus K8s.Rollout-status_x HTTPServer a1B --'), ['get', 'rollout', 'status', 'k8s', 'rollout', 'status', 'x', 'httpserver', 'a1', 'b']);
    assert.deepEqual(nameTokens(''), []);
  });

  it('a tool name\'s verb where its style puts it; readonly or dry makes it a read', () => {
    const cases: Record<string, string | null> = {
      'db.query.readonly': 'read', 'db.readonly.delete': 'read', deploy_dry_run: 'read', 'k8s.rollout.restart': 'write', 'k8s.delete.status': 'read', 'users.delete.x': 'destructive', 'x-list-y': 'read',
      'Delete/X': 'destructive', 'BackupPlan/Delete': 'destructive', k8s_restart_rollout: 'write', k8s_status_delete: 'read', rolloutStatus: 'write', statusRollout: 'read',
      pipelineRunGet: 'read', fooListBar: 'read', fooGetDelete: 'destructive', 'foo-get-delete': 'destructive', foo_get_delete: 'read', listX: 'read', delete: 'destructive', archive_flag: 'destructive', 'foo.bar': null, fooBar: null, foo_bar: null,
    };
    for (const [tool, effect] of Object.entries(cases)) assert.equal(inferToolEffect(tool), effect, tool);
  });

  it('an intent: the strongest verb that leads a clause, each phrase rewritten', () => {
    const cases: Record<string, string | null> = {
      'get a new certificate': 'write', 'get fresh tokens': 'write', 'clean up the logs': 'destructive', 'cleaning up logs': 'destructive', 'get rid of old volumes': 'destructive',
      'shut it off': 'destructive', 'turn them off': 'destructive', 'switch off the flag': 'destructive', 'spin down the cluster': 'destructive', 'wind down the cluster': 'destructive',
      'grant read-only access': 'write', 'list and delete volumes': 'destructive', 'delete and list volumes': 'destructive', 'the volumes, list them': 'read',
      'expose beta-search to half the users': 'write', 'show me the welcome email template': 'read', 'check the lag and restart the consumer': 'write',
      'tune the cache size in the staging configuration until the volumes look right': 'write', 'the volumes of prod': null, 'the quarterly thing': null,
      'the RESTART-42 thing': null, 'make the vault immutable for 7 years (AUDIT-19)': 'write', 'the api-restart thing': null, 'forget the cert': 'destructive',
      'get the new cert': 'write', 'get an fresh cert': 'write', 'get   new cert': 'write', 'cleaned up logs': 'destructive', 'clean  up logs': 'destructive',
      'shut  off the flag': 'destructive', 'turn it  off': 'destructive', 'spin  down x': 'destructive', 'get  rid of x': 'destructive',
      'read only check': 'read', 'read  only access': 'read', 'the read only flag': null, 'the volumes of the cluster should look right': null,
      'get  a new cert': 'write', 'cleaning  up logs': 'destructive', 'turn them  off': 'destructive', 'read-only': null, 'readxonly the flag': null,
      'please list the deploy jobs': 'read', 'DELETE-42': null, 'list pods -INC-12- delete them': 'destructive',
      // an identifier (or ticket) is cut out with a space: the words around it are not glued into one
      'check orders-db and deorders-dblete': 'read',
    };
    for (const [intent, effect] of Object.entries(cases)) assert.equal(intentEffect(intent), effect, intent);
  });

  it('each clause separator: the verb after it leads too', () => {
    for (const sep of [',', ';', ':', '.', '!', '?', '&', '(', ')', ' \u2014 ', ' \u2013 ', ' - ', ' and ', ' then ']) assert.equal(intentEffect(`list the pods${sep} delete the api`), 'destructive', sep);
    for (const sep of [' andthen ', '-', ' ']) assert.equal(intentEffect(`list the pods${sep} delete the api`), 'read', sep);
  });

  it('a question asks to look, unless a clause leads with a change or it is a negation (a verb ruled out is no ask)', () => {
    const cases: Record<string, string | null> = {
      'the volume status?': 'read', 'when did dim_customers on production last refresh': 'read', 'does the deploy remove volumes': 'read', 'who sees beta-search on production?': 'read',
      'the volume status? ': 'read', 'the pods? the volumes': null, 'delete the volume ?': 'destructive', 'restart the api?': 'write', 'what? delete it': 'destructive', 'do not remove the volume': null, "can't remove it": 'destructive', "orders-events can't keep up, go from 12 to 24 partitions": null,
    };
    for (const [intent, effect] of Object.entries(cases)) assert.equal(intentEffect(intent), effect, intent);
  });
});

describe('environments, identifiers, argument strings', () => {
  it('each spelling to its environment; non-prod is every one but production', () => {
    const cases: Record<string, string[]> = {
      'deploy to prod and pre-prod': ['production', 'staging'], PRD: ['production'], LIVE: ['production'], 'production-eu': ['production'], preproduction: ['staging'], 'pre prod': ['staging'],
      stage: ['staging'], stg: ['staging'], develop: ['development'], dev: ['development'], uat: ['qa'], qa: ['qa'], sandbox: ['sandbox'], preview: ['preview'], canary: ['canary'], prodx: [],
    };
    for (const [text, envs] of Object.entries(cases)) assert.deepEqual([...environmentsOf(text)], envs, text);
    for (const text of ['non-prod', 'nonproduction', 'non prod']) assert.deepEqual([...environmentsOf(text)], ['staging', 'development', 'qa', 'sandbox', 'preview', 'canary'], text);
  });

  it('identifiers are not environments', () => {
    assert.deepEqual([...identifiersOf('move orders-db from prod-1 to staging, then stage2 and live')], ['orders-db', 'prod-1', 'stage2']);
  });

  it('argument strings up to 200 characters, four levels deep', () => {
    const ok = 'o'.repeat(200);
    assert.deepEqual(argStrings({ a: 'x', b: { c: 'y', d: { e: { f: 'z', g: { h: 'deep' } } } }, l: ['p', 'q'], n: 1, long: 'x'.repeat(201), ok, nul: null }), ['x', 'y', 'z', 'p', 'q', ok]);
    assert.deepEqual(argStrings('x'), []);
    assert.deepEqual(argStrings(null), []);
  });

  it('the scope of an intent', () => {
    const s = intentScope('refund customer 42 on acme.io in prod');
    assert.deepEqual([...s.environments], ['production']);
    assert.deepEqual(s.identifiers, [{ value: 'acme.io', kind: 'domain' }]);
    assert.deepEqual([...s.keyed].map(([k, v]) => [k, [...v]]), [['customer', ['42']]]);
    assert.equal(s.effect, 'write');
  });

  it('a verb that leads the intent or a clause is not the noun of a number; another leading word is', () => {
    assert.deepEqual([...intentScope('delete 42 and restart 77 then show 99').keyed], []);
    assert.deepEqual([...intentScope('customer 42 needs a refund').keyed].map(([k, v]) => [k, [...v]]), [['customer', ['42']]]);
  });
});

describe('sessionScore', () => {
  const w = (score: number) => ({ score, effect: 'write' as const, capped: false });
  it('the lowest of the last five, an uncapped read softened to 0.6 + 0.4 × score', () => {
    assert.deepEqual(SESSION_RULE, { window: 5, readFloor: 0.6 });
    assert.equal(sessionScore([]), 1);
    assert.equal(sessionScore([w(1), w(0.7), w(0.9)]), 0.7);
    assert.equal(sessionScore([w(0.1), w(1), w(1), w(1), w(1), w(1)]), 1);
    assert.equal(sessionScore([w(0.1), w(1), w(1), w(1), w(1)]), 0.1);
    assert.equal(sessionScore([{ score: 0.5, effect: 'read', capped: false }]), 0.8);
    assert.equal(sessionScore([{ score: 0.05, effect: 'read', capped: true }]), 0.05);
    assert.equal(sessionScore([{ score: 0.5, effect: null, capped: false }]), 0.5);
    assert.equal(sessionScore([w(0.3), w(0.9)], { window: 1, readFloor: 0 }), 0.9);
    assert.equal(sessionScore([{ score: 0.5, effect: 'read', capped: false }], { window: 5, readFloor: 0.5 }), 0.75);
  });
});
