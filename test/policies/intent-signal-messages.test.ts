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
