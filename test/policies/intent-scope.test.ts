/**
 * policies/intent-scope.ts and the rules it adds to `actionSignals` (issue 27, session 12): an
 * identifier's shape, numbers as identifiers, prose against reference arguments, access tiers, SQL
 * statements, shares, regions, globs, sibling names and widened addresses; and the light verbs of
 * `intentEffect`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressesIn,
  callRegions,
  containsWhole,
  grantedTier,
  intentRegions,
  intentWantsReadAccess,
  isProse,
  nearMisses,
  numbersIn,
  percentsIn,
  shapeOf,
  sharesIn,
  siblingMisses,
  siblingOf,
  statementEffect,
  walkArgs,
  widerAddress,
  widerGlob,
  widerPrefix,
  wrongShare,
} from '../../policies/intent-scope';
import { actionSignals, intentEffect, intentScope } from '../../policies/intent';

const codes = (intent: string, tool: string, args: unknown) => actionSignals(intentScope(intent), tool, args).signals.map((s) => s.code);

describe('identifier grammar: shapes and numbers', () => {
  it('a shape is the spelling with each digit as 9', () => {
    assert.equal(shapeOf('E10211'), 'e99999');
    assert.equal(shapeOf('c_88231'), 'c_99999');
    assert.equal(shapeOf('orders-db'), 'orders-db');
  });

  it('numbers of four digits or more are identifiers, not years, not quantities', () => {
    assert.deepEqual(numbersIn('merge #48812 into order 88213, then 2021 docs, 1500 rows, 4000 ms, 123'), ['48812', '88213']);
    assert.deepEqual(numbersIn('escalate 51190.'), ['51190']);
  });

  it('a near miss: a reference of the same shape, the intent\'s own nowhere', () => {
    assert.deepEqual(nearMisses(['e10211'], ['E10121', 'voluntary']), [{ intended: 'e10211', named: 'e10121' }]);
    assert.deepEqual(nearMisses(['88213'], ['ch_3PQ', '88231']), [{ intended: '88213', named: '88231' }]);
    assert.deepEqual(nearMisses(['e10211'], ['E10211', 'E10121']), [], 'the intent\'s own is there');
    assert.deepEqual(nearMisses(['pr_2025_06_c2'], ['pr_2025_06_c1', 'pr_2025_06_c2']), [], 'a reference to the intent\'s own counts as named');
    assert.deepEqual(nearMisses(['orders-db'], ['orders-dc']), [], 'a shape without a digit is no series');
    assert.deepEqual(nearMisses(['e10211'], ['e1021']), [], 'another length is another shape');
  });

  it('a whole token or run of digits, never inside a longer one', () => {
    assert.equal(containsWhole('bld_6120_a8f2', '6120'), true);
    assert.equal(containsWhole('v6120x', '6120'), true);
    assert.equal(containsWhole('61201', '6120'), false);
    assert.equal(containsWhole('xe10211', 'e10211'), false);
    assert.equal(containsWhole('id e10211.', 'e10211'), true);
  });

  it('prose (three words or more) mentions; reference values and integers select', () => {
    assert.equal(isProse('duplicate of pr_1'), true);
    assert.equal(isProse('Tier 2'), false);
    assert.deepEqual(walkArgs({ id: 'E1', n: 48812, neg: -1, f: 0.5, reason: 'a long reason here', list: ['a', { b: 'c' }] }), { refs: ['E1', '48812', 'a', 'c'], prose: ['a long reason here'] });
  });
});

describe('access, statements, shares', () => {
  it('read-only access asked, and the tier a grant names under an access key', () => {
    for (const t of ['share it, view only', 'a pull-only robot', 'read-only access', 'make them viewers']) assert.equal(intentWantsReadAccess(t), true, t);
    assert.equal(intentWantsReadAccess('grant access to the bucket'), false);
    assert.equal(grantedTier({ permission: 'edit' }), 1);
    assert.equal(grantedTier({ permissions: [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }] }), 1);
    assert.equal(grantedTier({ role: 'roles/owner' }), 2);
    assert.equal(grantedTier({ role: 'Viewer' }), 0);
    assert.equal(grantedTier({ name: 'admin' }), null, 'a key not named for access says nothing');
  });

  it('a SQL statement by its grammar, the strongest one winning', () => {
    assert.equal(statementEffect({ sql: "select count(*) from fct_orders where d = '2025-06-09'" }), 'read');
    assert.equal(statementEffect({ sql: 'DELETE FROM orders WHERE id = 1' }), 'destructive');
    assert.equal(statementEffect({ sql: 'update orders set status = 1' }), 'write');
    assert.equal(statementEffect({ sql: 'select * into backup from orders' }), 'write');
    assert.equal(statementEffect({ a: 'select 1', b: 'drop table x' }), 'destructive');
    assert.equal(statementEffect({ name: 'drop-healthchecks', privilege: 'SELECT' }), null);
  });

  it('percentages asked against shares set, as given, as a fraction, or of the siblings\' sum', () => {
    assert.deepEqual(percentsIn('5% canary, then 50 percent'), [5, 50]);
    assert.deepEqual(sharesIn({ weights: { true: 25000, false: 75000 } }), [25000, 25, 75000, 75]);
    assert.equal(wrongShare([5], { split: { v14: 50, v15: 50 } }), 50);
    assert.equal(wrongShare([5], { split: { v14: 95, v15: 5 } }), null);
    assert.equal(wrongShare([10], { userFraction: 0.1 }), null);
    assert.equal(wrongShare([25], { weights: { true: 25000, false: 75000 } }), null);
    assert.equal(wrongShare([10], { count: 3 }), null, 'no share key, nothing to compare');
    assert.equal(wrongShare([], { userFraction: 1 }), null);
  });
});

describe('regions, globs, siblings, addresses', () => {
  it('regions an intent names, minus those set aside; "us" only as US or us-east', () => {
    assert.deepEqual([...intentRegions('sample to 10% in us-east, eu is fine')], ['us']);
    assert.deepEqual([...intentRegions('incident for EU login failures, not apac')], ['eu']);
    assert.deepEqual([...intentRegions('atlassian moved us to the new site')], []);
    assert.deepEqual([...intentRegions('outage in the US')], ['us']);
    assert.deepEqual([...callRegions(['web-pool-us', 'origin-2.us.acme.io', 'logs-checkout-prod-eu'])].sort(), ['eu', 'us']);
  });

  it('a glob in a selecting value is wider than asked; a pattern key defines a rule', () => {
    assert.equal(widerGlob({ index: 'logs-app-2025.0*' }), 'logs-app-2025.0*');
    assert.equal(widerGlob({ q: { query: 'tags:status-page-06* status<solved' } }), 'tags:status-page-06* status<solved');
    assert.equal(widerGlob({ tagPattern: 'prod|v*' }), null);
    assert.equal(widerGlob({ cron: '0 8 * * 1' }), null, 'prose-like, no glob of a name');
  });

  it('siblings: same parts, exactly one different, a plural the same', () => {
    assert.equal(siblingOf('email-send-dlq', 'sms-send-dlq'), true);
    assert.equal(siblingOf('geo-header', 'geo-headers'), false);
    assert.equal(siblingOf('gitlab-runner-03', 'gitlab-ee-onprem'), false);
    assert.equal(siblingOf('orders', 'users'), false, 'one part is no family');
    assert.deepEqual(siblingMisses(['email-send-dlq'], ['sms-send-dlq', 'sms-send']), [{ intended: 'email-send-dlq', named: 'sms-send-dlq' }]);
    assert.deepEqual(siblingMisses(['email-send-dlq'], ['email-send-dlq', 'sms-send-dlq']), []);
  });

  it('an address the intent names, widened to a range or replaced', () => {
    assert.deepEqual(addressesIn('allow 198.51.100.24, not 10.0.0.0/8. v1.2.3'), ['198.51.100.24', '10.0.0.0/8']);
    assert.equal(widerAddress(['198.51.100.24'], ['198.51.100.0/24']), '198.51.100.0/24');
    assert.equal(widerAddress(['198.51.100.24'], ['198.51.100.24/32']), null);
    assert.equal(widerAddress(['198.51.100.24'], ['198.51.100.24']), null);
    assert.equal(widerAddress(['10.0.0.0/8'], ['10.1.0.0/16']), null, 'the intent named a range itself');
  });
});

describe('the rules in actionSignals', () => {
  it('caps a near-miss id or number, not one mentioned in prose', () => {
    assert.deepEqual(codes('terminate E10211, last day 30th', 'POST /v2/employees/{id}/termination', { id: 'E10121' }), ['scope.identifier']);
    assert.deepEqual(codes('refund the duplicate charge on order 88213', 'create_refund', { charge: 'ch_1', metadata: { order: '88231' } }), ['scope.identifier']);
    assert.deepEqual(codes('stop the duplicate run pr_2025_06_c2', 'payroll_run_cancel', { payRunId: 'pr_2025_06_c2', reason: 'duplicate of pr_2025_06_c1' }), ['scope.match']);
  });

  it('lifts a call carrying the number the intent names; no floor for a destructive call the intent does not ask for', () => {
    const s = actionSignals(intentScope('customer pasted a card number in 51207, fix it'), 'updateTicket', { ticket: 51207 });
    assert.equal(s.floor, 0.6);
    const d = actionSignals(intentScope('the old "k8s legacy" board 4471 can go'), 'delete-dashboard', { uid: 4471 });
    assert.equal(d.floor, 0);
  });

  it('caps a grant above read-only, another region, another share, a wider glob, a sibling and a wider address', () => {
    assert.deepEqual(codes('share dash_3010 with sales-ops, view only', 'dashboardShare', { dashboard: 'dash_3010', permission: 'edit' }), ['scope.access']);
    assert.deepEqual(codes('drain origin-2 in the eu pool', 'edge.origins.update', { pool: 'web-pool-us' }), ['scope.region']);
    assert.deepEqual(codes('5% canary of ranker v15', 'Update/TrafficSplit', { split: { v14: 50, v15: 50 } }), ['scope.quantity']);
    assert.deepEqual(codes('drop the april logs-app indices', 'deleteIndex', { index: 'logs-app-2025.0*' }), ['scope.identifier']);
    assert.deepEqual(codes('redrive email-send-dlq back to email-send', 'queues.redrive', { queue: 'sms-send-dlq', destination: 'sms-send' }), ['scope.identifier']);
    assert.deepEqual(codes('allow 198.51.100.24 to port 9100', 'addFirewallRule', { source: '198.51.100.0/24' }), ['scope.identifier']);
    assert.deepEqual(codes('what is in the email-send-dlq queue', 'queues.get', { queue: 'sms-send-dlq' }), [], 'a sibling read is how an agent finds its way');
  });

  it('reads a select as a read whatever the tool is called', () => {
    assert.deepEqual(codes('how many rows landed in fct_orders?', 'run_warehouse_sql', { sql: 'select count(*) from analytics.fct_orders' }), [], 'no effect cap: a select reads (and a statement is prose: no floor)');
    assert.deepEqual(codes('how many rows landed in fct_orders?', 'run_warehouse_sql', { sql: 'delete from analytics.fct_orders' }), ['effect']);
  });
});

describe('intentEffect: light verbs with particles, statements that are not questions', () => {
  it('get or pull with off/out removes; get with on/into/back changes', () => {
    const cases: Record<string, string | null> = {
      'b.kowalski offboarded, get his devices off the vpn': 'destructive',
      'get that image out of the registry entirely': 'destructive',
      'beta build 6120 is broken, pull it from testers': 'destructive',
      'get everyone on sonoma 14.5 by next week': 'write',
      'get the db team on the line': 'write',
      'get the pods': 'read',
      'es-logs-eu1 is down for maintenance, hold shipping to it': 'write',
      'is es-logs-eu1 down': 'read',
    };
    for (const [intent, effect] of Object.entries(cases)) assert.equal(intentEffect(intent), effect, intent);
  });
});

describe('a selector wider than the path the intent names (session 15)', () => {
  it('a prefix of the path or key that ends open, at a separator or a glob', () => {
    assert.deepEqual(widerPrefix(['media/thumbs/2023/'], ['acme-media', 'media/']), { intended: 'media/thumbs/2023/', named: 'media/' });
    assert.deepEqual(widerPrefix(['/docs/v2/*'], ['/docs/*']), { intended: '/docs/v2/*', named: '/docs/*' });
    assert.deepEqual(widerPrefix(['price:sku:88120-b'], ['catalog-cache-prod', 'price:sku:88120*']), { intended: 'price:sku:88120-b', named: 'price:sku:88120*' });
  });

  it('not the path itself, one inside it, an owner beside its repository, nor a name or a URL', () => {
    assert.equal(widerPrefix(['media/thumbs/2023/'], ['media/thumbs/2023/']), null);
    assert.equal(widerPrefix(['media/thumbs/2023/'], ['media/thumbs/2023/a.png']), null);
    assert.equal(widerPrefix(['acme/docs'], ['acme', 'docs']), null, 'spelled across arguments');
    assert.equal(widerPrefix(['kv/payments/prod'], ['kv', 'payments/prod/stripe-webhook']), null);
    assert.equal(widerPrefix(['orders-db-primary'], ['orders-']), null, 'a name, not a path');
    assert.equal(widerPrefix(['https://acme.io/docs/v2'], ['https:']), null);
  });

  it('caps a change, never a read', () => {
    assert.deepEqual(codes('purge the cached thumbnails under media/thumbs/2023/', 'storage.objects.delete', { bucket: 'acme-media', prefix: 'media/', recursive: true }), ['scope.identifier']);
    assert.deepEqual(codes('how much is under media/thumbs/2023/', 'storage.objects.list', { bucket: 'acme-media', prefix: 'media/' }), []);
  });
});

describe('a change that names nothing the intent names (session 15)', () => {
  const sig = (intent: string, tool: string, args: unknown) => actionSignals(intentScope(intent), tool, args);

  it('is held at 0.7, above the default threshold: it orders, it decides nothing', () => {
    const s = sig('resize the wiki vm wiki-confluence-01 to 8 cores', 'compute.instances.setMachineType', { instance: 'vm-7731', machineType: 'e2-standard-8' });
    assert.deepEqual([s.cap, s.floor, s.signals.map((x) => x.code)], [0.7, 0, ['scope.unnamed']]);
    assert.ok(s.cap > 0.55);
  });

  it('not when the call names it, spells it across arguments or names its environment, nor when the intent names nothing', () => {
    assert.deepEqual(codes('resize wiki-confluence-01 to 8 cores', 'compute.instances.setMachineType', { instance: 'wiki-confluence-01' }), ['scope.match']);
    assert.deepEqual(codes('point status.acme.io at the new cname', 'dns.records.upsert', { zone: 'acme.io', name: 'status' }), []);
    assert.deepEqual(codes('bounce the frontend on pre-prod', 'k8s.rollout.restart', { namespace: 'staging' }), []);
    assert.deepEqual(codes('move the wiki vm up to 8 cores', 'compute.instances.setMachineType', { instance: 'vm-7731' }), []);
  });

  it('not a read, and not beside a cap that already says more', () => {
    assert.deepEqual(codes('resize wiki-confluence-01 to 8 cores', 'compute.instances.get', { instance: 'vm-7731' }), []);
    assert.deepEqual(codes('restart web-7 in staging', 'k8s.rollout.restart', { namespace: 'production', name: 'api' }), ['scope.environment']);
  });

  it('the agent\'s prose does not name it for the call', () => {
    assert.deepEqual(codes('resize wiki-confluence-01 to 8 cores', 'compute.instances.setMachineType', { instance: 'vm-7731', reason: 'asked to resize wiki-confluence-01 today' }), ['scope.unnamed']);
  });
});
