/**
 * Leases of the cross-session ledger (`policies/ledger.ts`): a reservation that takes a block of
 * further calls, spent by its session without asking, handed back with the times spent. The
 * property: over random sessions, spends, returns, lost answers (retries) and clock steps, no
 * sliding window ever holds more than `max` calls that ran, and once every lease is back the
 * ledger counts exactly the calls that ran — none lost, none twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { emptyLedger, ledgerRequestProblem, leaseReturnProblem, pruneLedger, reserve, returnLeases, LEASE_MARGIN_MS, LEASE_MAX, type LedgerRequest, type LedgerRule, type LedgerState } from '../../policies';
import { MINUTE, T0 } from './fixtures';

const TOOL = 'volumes.list';
const budget = (max: number, windowMs = 60 * MINUTE): LedgerRule => ({ kind: 'budget', id: 'b', tools: ['volumes.*'], max, windowMs });
/** The worker's secret for a lease, and the key the ledger holds (its sha256). */
const token = (leaseId: string) => `token-of-${leaseId}`;
const keyOf = (leaseId: string) => createHash('sha256').update(token(leaseId)).digest('hex');
const counted = (s: LedgerState) => Object.values(s.budgets).reduce((n, b) => n + b.times.length, 0);

test('a reservation leases at most 1/64 of what is left (2 or more), only for enforced budgets, and none near the limit', () => {
  const ask = (rules: readonly LedgerRule[], lease = LEASE_MAX) => reserve(emptyLedger(), { reservationId: 's:p1', sessionId: 's', tool: TOOL, rules, lease, leaseKey: keyOf('s:p1') }, 'agent', T0).result.lease;
  assert.deepEqual(ask([budget(10_000)]), { units: LEASE_MAX, until: T0 + 60_000, key: keyOf('s:p1') });
  assert.equal(ask([budget(10_000)], 3)?.units, 3, 'never more than asked');
  assert.equal(ask([budget(64 * 5 + 1)])?.units, 5, '(max - 1) / 64');
  assert.equal(ask([budget(64 * 2)]), undefined, 'near the limit (a lease of 1): one call at a time');
  assert.equal(ask([{ ...budget(10_000), mode: 'shadow' }]), undefined, 'a shadow budget counts past max: no lease');
  assert.equal(ask([budget(10_000), { kind: 'transition', id: 't', from: TOOL, to: 'volumes.unmount', withinMs: MINUTE }]), undefined, 'a transition needs every call in order');
  assert.equal(ask([budget(10_000, 2 * MINUTE)])?.until, T0 + 30_000, 'a quarter of the shortest window');
  const granted = reserve(emptyLedger(), { reservationId: 's:p1', sessionId: 's', tool: TOOL, rules: [budget(10_000)], lease: 4, leaseKey: keyOf('s:p1') }, 'agent', T0).state;
  assert.equal(counted(granted), 5, 'the call and its four leased calls count at once');
});

test('a lease handed back with its secret keeps only the calls spent, at their times; without it, twice, or by another session nothing changes', () => {
  const rules = [budget(10_000)];
  const first = reserve(emptyLedger(), { reservationId: 's:p1', sessionId: 's', tool: TOOL, rules, lease: 8, leaseKey: keyOf('s:p1') }, 'agent', T0).state;
  assert.equal(counted(first), 9);
  assert.equal(counted(returnLeases(first, 'intruder', [{ leaseId: 's:p1', used: [], token: token('s:p1') }])), 9, 'only the session that took it returns it');
  // Ids are guessable: a return without the worker's secret (or with the key the ledger shows) frees nothing.
  for (const forged of [undefined, 'guess', keyOf('s:p1')]) assert.equal(counted(returnLeases(first, 's', [{ leaseId: 's:p1', used: [], ...(forged ? { token: forged } : {}) }])), 9);
  const back = returnLeases(first, 's', [{ leaseId: 's:p1', used: [T0 + 1_000, T0 + 2_000, T0 - 99 * MINUTE], token: token('s:p1') }]);
  assert.deepEqual(Object.values(back.budgets)[0]?.times, [T0, T0, T0 + 1_000, T0 + 2_000], 'three spent, a time before the lease is clamped to its start');
  assert.deepEqual(returnLeases(back, 's', [{ leaseId: 's:p1', used: [], token: token('s:p1') }]), { ...back, leases: {} }, 'returned once');
  // Piggybacked on the next reservation, and not applied again when that reservation is retried.
  const next: LedgerRequest = { reservationId: 's:p5', sessionId: 's', tool: TOOL, rules, returns: [{ leaseId: 's:p1', used: [T0 + 1_000], token: token('s:p1') }] };
  const once = reserve(first, next, 'agent', T0 + 5_000);
  assert.equal(counted(once.state), 3);
  assert.deepEqual(reserve(once.state, next, 'agent', T0 + 6_000).state, once.state);
  // Never handed back (its session terminated): counted in full until it leaves the window, then forgotten.
  assert.equal(counted(pruneLedger(first, T0 + 60 * MINUTE + 59_000)), 8);
  assert.deepEqual(pruneLedger(first, T0 + 61 * MINUTE + 1).leases, {});
});

test('lease requests and returns are validated', () => {
  const base = { reservationId: 's:p1', sessionId: 's', tool: TOOL, rules: [budget(5)] };
  assert.equal(ledgerRequestProblem({ ...base, lease: 0 }), `expected \`lease\` between 1 and ${LEASE_MAX}`);
  assert.equal(ledgerRequestProblem({ ...base, lease: 2 }), 'expected `leaseKey` to be a sha256 in hex');
  assert.equal(ledgerRequestProblem({ ...base, returns: [{ leaseId: 's:p0', used: ['x'] }] }), `expected \`used\` to be at most ${LEASE_MAX} times`);
  assert.equal(leaseReturnProblem({ returnId: '', sessionId: 's', returns: [] }), 'expected `returnId` to be a non-empty string');
  assert.equal(leaseReturnProblem({ returnId: 's:r1', sessionId: 's', returns: [] }), undefined);
});

/** One step of the model: session `s` makes a call (or ends), the clock moves `dt`, an answer may be lost. */
const stepArb = fc.record({ s: fc.integer({ min: 0, max: 5 }), end: fc.integer({ min: 0, max: 11 }).map((x) => x === 0), lose: fc.boolean(), dt: fc.integer({ min: 0, max: 40_000 }) });

test('property: leased calls never exceed a budget in any window, and once returned count exactly once', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 2, max: 30 }), fc.array(stepArb, { maxLength: 120 }), (max, windowMin, steps) => {
      const windowMs = windowMin * MINUTE;
      const rule = budget(max, windowMs);
      let state = emptyLedger();
      let now = T0;
      const ran: number[] = [];
      let seq = 0;
      const held = new Map<number, { leaseId: string; until: number; left: number; used: number[] }>();
      const apply = (r: LedgerRequest, lose: boolean) => {
        let out = reserve(state, r, 'agent', now);
        // A lost answer (a worker crash): the activity retries the same update.
        if (lose) out = reserve(out.state, r, 'agent', now);
        state = out.state;
        return out.result;
      };
      for (const step of steps) {
        now += step.dt;
        const lease = held.get(step.s);
        const usable = lease && lease.left > 0 && now <= lease.until - LEASE_MARGIN_MS;
        if (step.end) {
          if (lease) state = returnLeases(state, `s${step.s}`, [{ leaseId: lease.leaseId, used: lease.used, token: token(lease.leaseId) }]);
          held.delete(step.s);
          continue;
        }
        if (lease && usable) {
          lease.left -= 1;
          lease.used.push(now);
          ran.push(now);
        } else {
          const returns = lease ? [{ leaseId: lease.leaseId, used: lease.used, token: token(lease.leaseId) }] : [];
          held.delete(step.s);
          const id = `s${step.s}:p${++seq}`;
          const r = apply({ reservationId: id, sessionId: `s${step.s}`, tool: TOOL, rules: [rule], lease: LEASE_MAX, leaseKey: keyOf(id), ...(returns.length ? { returns } : {}) }, step.lose);
          if (r.verdict === 'allow') {
            ran.push(now);
            if (r.lease) held.set(step.s, { leaseId: r.reservationId, until: r.lease.until, left: r.lease.units, used: [] });
          }
        }
        // No window of the rule's length ever holds more than `max` calls that ran.
        const inWindow = ran.filter((t) => now - t < windowMs).length;
        assert.ok(inWindow <= max, `${inWindow} calls in the window, max ${max}`);
      }
      for (const [s, lease] of held) state = returnLeases(state, `s${s}`, [{ leaseId: lease.leaseId, used: lease.used, token: token(lease.leaseId) }]);
      // Everything back: the ledger counts exactly the calls that ran (those still inside the window).
      const live = pruneLedger(state, now);
      assert.equal(counted(live), ran.filter((t) => now - t < windowMs).length);
      assert.deepEqual(live.leases ?? {}, {});
    }),
    { numRuns: 300 },
  );
});
