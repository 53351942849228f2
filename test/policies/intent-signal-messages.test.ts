/**
 * What `actionSignals` says and when a removal keeps what it removes (issue 27, session 13): each
 * signal's message names what the call and the intent name, and the tool's own name decides a
 * removal's kind unless a statement in the arguments says what the call does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionSignals, intentScope } from '../../policies/intent';

const signals = (intent: string, tool: string, args: unknown) => actionSignals(intentScope(intent), tool, args).signals;

describe('the messages of the signals', () => {
  it('a region, a version, read-only access granted as write or admin', () => {
    assert.deepEqual(signals('drain origin-2 in the eu pool', 'edge.origins.update', { pool: 'web-pool-us' }), [{ code: 'scope.region', message: 'the call acts in us; the intent names eu' }]);
    assert.deepEqual(signals('deprecate @nw/ui-kit 4.2.0', 'artifacts.packages.versions.deprecate', { package: '@nw/ui-kit', version: '4.2.1' }), [
      { code: 'scope.identifier', message: 'the call names version 4.2.1; the intent names 4.2.0' },
    ]);
    assert.deepEqual(signals('share dash_3010 with sales-ops, view only', 'dashboardShare', { dashboard: 'dash_3010', permission: 'edit' }), [
      { code: 'scope.access', message: 'the call grants write access; the intent asks for read-only access' },
    ]);
    assert.deepEqual(signals('share dash_3010 with sales-ops, view only', 'dashboardShare', { dashboard: 'dash_3010', role: 'roles/owner' }), [
      { code: 'scope.access', message: 'the call grants admin access; the intent asks for read-only access' },
    ]);
  });
});

describe('a removal that keeps what it removes', () => {
  const intent = 'stop the runaway export job';
  const sql = { sql: 'delete from export_queue where job = 7' };
  it('by the catalog\'s effect, the tool\'s name says how it removes, whatever statement its arguments carry', () => {
    assert.equal(actionSignals(intentScope(intent), 'jobs.cancel', sql, 'destructive').cap, 1);
  });

  it('without the catalog\'s effect, a statement in the arguments says what the call does', () => {
    assert.equal(actionSignals(intentScope(intent), 'jobs.cancel', sql).cap, 0.3);
    assert.equal(actionSignals(intentScope(intent), 'jobs.cancel', sql, null).cap, 0.3);
    assert.equal(actionSignals(intentScope(intent), 'jobs.cancel', { job: 7 }).cap, 1, 'no statement: the name says it');
  });
});

describe('the caps, case by case', () => {
  const cap = (intent: string, tool: string, args: unknown) => actionSignals(intentScope(intent), tool, args).cap;

  it('a region: only when the intent names one, and any of the call\'s regions the intent names will do', () => {
    assert.equal(cap('drain origin-2 in the eu pool', 'edge.origins.update', { pool: 'web-pool-us' }), 0.1);
    assert.equal(cap('drain origin-2', 'edge.origins.update', { origin: 'origin-2', pool: 'web-pool-us' }), 1, 'the intent names no region');
    assert.equal(cap('drain origin-2 in the eu pool', 'edge.origins.update', { origin: 'origin-2', pool: 'web-pool-us', fallback: 'web-pool-eu' }), 1);
    assert.deepEqual(signals('drain origin-2 in the eu pool', 'edge.origins.update', { pool: 'web-pool-us', fallback: 'pool-apj' }), [{ code: 'scope.region', message: 'the call acts in us, apac; the intent names eu' }]);
  });

  it('read-only access: a grant of reading is no more than asked', () => {
    assert.deepEqual(signals('share dash_3010 with sales-ops, view only', 'dashboardShare', { dashboard: 'dash_3010', role: 'Viewer' }), [{ code: 'scope.match', message: 'the call names an identifier of the intent' }]);
  });

  it('a wider glob only in a change the intent did not write with a glob itself', () => {
    assert.equal(cap('drop the april logs-app indices', 'deleteIndex', { index: 'logs-app-2025.0*' }), 0.2);
    assert.equal(cap('list the april logs-app indices', 'listIndices', { index: 'logs-app-2025.0*' }), 1, 'a read');
    assert.equal(cap('drop the logs-app-2025.0* indices', 'deleteIndex', { index: 'logs-app-2025.0*' }), 1, 'the intent wrote it');
    assert.equal(cap('handle the april logs-app indices', 'indexTool', { index: 'logs-app-2025.0*' }), 1, 'no effect known');
  });

  it('a sibling only of the names the intent names, and what the call names against what the intent names', () => {
    assert.deepEqual(signals('redrive email-send-dlq back to email-send', 'queues.redrive', { queue: 'sms-send-dlq', destination: 'sms-send' }), [
      { code: 'scope.identifier', message: 'the call names sms-send-dlq, sms-send; the intent names email-send-dlq, email-send' },
    ]);
    assert.deepEqual(signals('refund customer 42 for order 88213', 'payments.refund', { customer: '43', order: '88213' }), [
      { code: 'scope.identifier', message: 'the call names another customer; the intent names customer 42' },
    ]);
  });

  it('a removal that destroys under a change that stops something is capped', () => {
    assert.equal(cap('stop the runaway export job', 'jobs.delete', { job: 7 }), 0.3);
  });
});

