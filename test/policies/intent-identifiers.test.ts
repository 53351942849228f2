/**
 * policies/intent-identifiers.ts pinned exactly: what is an identifier and of which kind (each
 * exclusion at its edge), when a call's identifier is the intent's, which kinds a call contradicts,
 * and the values an intent names after a noun against the call's keyed arguments.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyMatch, contradictedKeyed, contradictedKinds, identifierMatches, identifiersIn, keyedArgs, keyedIn, keyedMatches, partsOf, type Identifier, type IdentifierKind } from '../../policies/intent-identifiers';

const isEnv = (w: string) => ['production', 'prod', 'staging'].includes(w);
const ids = (text: string) => identifiersIn(text, isEnv).map((i) => `${i.kind} ${i.value}`);
const id = (value: string, kind: IdentifierKind = 'name'): Identifier => ({ value, kind });
const keyed = (m: Map<string, Set<string>>) => [...m].map(([k, v]) => [k, [...v]]);

describe('identifiersIn', () => {
  it('takes words with an inner separator or letters and digits, by kind', () => {
    assert.deepEqual(ids('reboot i-0a1b2c, orders-db and vol0a1b on *.acme.io for ops@acme.io in kv/payments/prod arn:aws:s3:::b cus_T0ny sg-01.acme.io 10.0.0.1/24 10.0.0.1/240 web.frontend a.b1 x_y i-0a1b.x'), [
      'typed:i i-0a1b2c', 'name orders-db', 'name vol0a1b', 'domain acme.io', 'email ops@acme.io', 'path kv/payments/prod', 'path arn:aws:s3:::b', 'typed:cus cus_t0ny',
      'domain sg-01.acme.io', 'ip 10.0.0.1/24', 'path 10.0.0.1/240', 'domain web.frontend', 'name a.b1', 'name x_y', 'typed:i i-0a1b.x',
    ]);
  });

  it('a typed id is a 1 to 4 letter type, a separator and an id with a digit', () => {
    assert.deepEqual(ids('abcd-01 abcde-01 i-abc a-42 x1-01 i-0a1b!x i-0a1b.x.y'), ['typed:abcd abcd-01', 'name abcde-01', 'name i-abc', 'typed:a a-42', 'name x1-01', 'name i-0a1b!x', 'typed:i i-0a1b.x.y']);
  });

  it('a domain ends in a label of two letters or more', () => {
    assert.deepEqual(ids('acme.io acme.i acme.i0 -x.io x-.io'), ['domain acme.io', 'name acme.i', 'name acme.i0', 'domain x.io']);
  });

  it('strips surrounding punctuation, keeps a leading wildcard, counts each value once', () => {
    assert.deepEqual(ids('...abc1... [orders-db] {orders-db} <x_y>=|x_y| "web.frontend" \'a-b\' `c-d`'), ['name abc1', 'name orders-db', 'name x_y', 'domain web.frontend', 'name a-b', 'name c-d']);
    assert.deepEqual(ids('*.acme.io **x-1 *x'), ['domain acme.io', 'name **x-1']);
  });

  it('skips versions, regions, tickets, quantities, times, English words, environments and short words', () => {
    assert.deepEqual(ids('1.2.3 v1.2 10.0.0.1 us-east-1 FINOPS-42 AB-1 40min 9am 20th 100gb 3x 12:00 9:30 12:00:00 on-call read-only prod staging a1 ab abc 123 ---'), []);
  });

  it('every quantity unit, every English hyphenated word', () => {
    for (const unit of 'st nd rd th am pm ms s m h d w k x min mins hr hrs gb mb tb kb gib mib rps qps'.split(' ')) assert.deepEqual(ids(`40${unit}`), [], unit);
    const english = 'heads-up on-call follow-up read-only re-enroll e-mail opt-in opt-out roll-out set-up log-in sign-in check-in built-in add-on one-off long-running right-size up-to-date end-to-end self-serve third-party last-minute kill-switch all-hands';
    for (const w of english.split(' ')) assert.deepEqual(ids(w), [], w);
  });

  it('each pattern anchored at both ends, each repeat wide enough', () => {
    assert.deepEqual(ids('1.22.3 xFINOPS-42 a_b.io acme.io_x x10.0.0.1/24 10.0.0.12/24 a*.b1'), ['name xfinops-42', 'name a_b.io', 'name acme.io_x', 'path x10.0.0.1/24', 'ip 10.0.0.12/24', 'name a*.b1']);
  });

  it('each exclusion at its edge: a near miss is an identifier', () => {
    assert.deepEqual(ids('x1.2 1.2x v10 us-east-12 xus-east-1 us-east-1a finops-42 A-42 FINOPS-42x 40minx x40min 123:00 12:000 ab1 on-callx a-b'), [
      'name x1.2', 'name 1.2x', 'name v10', 'name us-east-12', 'name xus-east-1', 'name us-east-1a', 'name finops-42', 'typed:a a-42', 'name finops-42x', 'name 40minx', 'name x40min', 'name 123:00', 'name 12:000', 'name ab1', 'name on-callx', 'name a-b',
    ]);
  });
});

describe('identifierMatches', () => {
  it('the same value always', () => {
    for (const kind of ['domain', 'path', 'ip', 'name', 'typed:i'] as const) assert.equal(identifierMatches(id('x-1', kind), id('x-1', kind)), true);
  });

  it('a domain: its subdomains, and an email at it', () => {
    assert.equal(identifierMatches(id('status.acme.io', 'domain'), id('acme.io', 'domain')), true);
    assert.equal(identifierMatches(id('xacme.io', 'domain'), id('acme.io', 'domain')), false);
    assert.equal(identifierMatches(id('acme.io.evil', 'domain'), id('acme.io', 'domain')), false);
    assert.equal(identifierMatches(id('acme.io', 'domain'), id('staging.acme.io', 'domain')), false);
    assert.equal(identifierMatches(id('ops@acme.io', 'email'), id('acme.io', 'domain')), true);
    assert.equal(identifierMatches(id('ops@acme.io', 'name'), id('acme.io', 'domain')), false);
    assert.equal(identifierMatches(id('ops@xacme.io', 'email'), id('acme.io', 'domain')), false);
  });

  it('a path: two of its segments in a row (one when it has one)', () => {
    const p = id('kv/payments/prod', 'path');
    assert.equal(identifierMatches(id('payments/prod/stripe', 'path'), p), true);
    assert.equal(identifierMatches(id('kv/payments', 'path'), p), true);
    assert.equal(identifierMatches(id('kv/other/prod', 'path'), p), false);
    assert.equal(identifierMatches(id('prod/payments', 'path'), p), false);
    assert.equal(identifierMatches(id('x/a/b', 'path'), id('a/b', 'path')), true);
    assert.equal(identifierMatches(id('a/b/', 'path'), id('a/b', 'path')), true);
    assert.equal(identifierMatches(id('a:b', 'path'), id('a/b', 'path')), true);
    assert.equal(identifierMatches(id('a/c/b', 'path'), id('a/b', 'path')), false);
    assert.equal(identifierMatches(id('x/kv', 'path'), id('kv/', 'path')), true);
    assert.equal(identifierMatches(id('x/kvx', 'path'), id('kv/', 'path')), false);
  });

  it('an ip: its address as a prefix', () => {
    assert.equal(identifierMatches(id('10.0.0.1/32', 'ip'), id('10.0.0.1/24', 'ip')), true);
    assert.equal(identifierMatches(id('10.0.0.2', 'ip'), id('10.0.0.1/24', 'ip')), false);
    assert.equal(identifierMatches(id('10.0.0.1', 'ip'), id('10.0.0.1', 'ip')), true);
  });

  it('a name: extended at a separator or a whole part, never a look-alike', () => {
    const n = id('orders-db');
    for (const yes of ['orders-db-primary', 'my.orders-db', 'a/orders-db:x', 'x@orders-db', 'x_orders-db']) assert.equal(identifierMatches(id(yes), n), true, yes);
    for (const no of ['orders-dbx', 'xorders-db', 'orders', 'orders-d', 'my orders-db']) assert.equal(identifierMatches(id(no), n), false, no);
    assert.equal(identifierMatches(id('4471'), id('447')), false);
    assert.equal(identifierMatches(id('cus_00000042'), id('42')), false);
    assert.equal(identifierMatches(id('i-0a1b.x', 'typed:i'), id('i-0a1b', 'typed:i')), true);
  });
});

describe('partsOf and anyMatch', () => {
  it('splits at . / : @ and spaces, lower case, no empty parts', () => {
    assert.deepEqual(partsOf('A.b/c:d@e f..g'), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.deepEqual(partsOf('./x-y_z/'), ['x-y_z']);
  });

  it('any call identifier matching any intent identifier', () => {
    assert.equal(anyMatch([id('a-1'), id('b-2')], [id('c-3'), id('b-2-x')]), true);
    assert.equal(anyMatch([id('a-1')], [id('c-3')]), false);
    assert.equal(anyMatch([], [id('c-3')]), false);
  });
});

describe('contradictedKinds', () => {
  const none = new Set<string>();
  it('a kind the call names and none of it is the intent\'s', () => {
    assert.deepEqual(contradictedKinds([id('acme.io', 'domain')], [id('other.io', 'domain')], none), ['domain']);
    assert.deepEqual(contradictedKinds([id('acme.io', 'domain')], [id('status.acme.io', 'domain'), id('other.io', 'domain')], none), []);
    assert.deepEqual(contradictedKinds([id('acme.io', 'domain')], [id('kv/x', 'path')], none), []);
    assert.deepEqual(contradictedKinds([id('acme.io', 'domain'), id('kv/a', 'path')], [id('x.io', 'domain'), id('kv/b', 'path')], none), ['domain', 'path']);
  });

  it('each kind against the intent\'s identifiers of that kind, any of them', () => {
    assert.deepEqual(contradictedKinds([id('payments-staging'), id('billing.acme.io', 'domain')], [id('billing-prod')], none), []);
    assert.deepEqual(contradictedKinds([id('payments-staging'), id('orders-db')], [id('payments-prod')], none), ['name']);
    assert.deepEqual(contradictedKinds([id('acme.io', 'domain'), id('x.io', 'domain')], [id('status.acme.io', 'domain')], none), []);
    assert.deepEqual(contradictedKinds([id('status.acme.io', 'domain'), id('other.io', 'domain')], [id('acme.io', 'domain')], new Set(['acme', 'io', 'status'])), []);
  });

  it('plain names only against their siblings', () => {
    assert.deepEqual(contradictedKinds([id('payments-staging')], [id('payments-prod')], none), ['name']);
    assert.deepEqual(contradictedKinds([id('payments-staging')], [id('billing-prod')], none), []);
    assert.deepEqual(contradictedKinds([id('payments.staging')], [id('payments_prod')], none), ['name']);
  });

  it('a typed id only when every one the call names is the intent\'s', () => {
    assert.deepEqual(contradictedKinds([id('i-0a1', 'typed:i')], [id('i-0a1', 'typed:i'), id('i-0b2', 'typed:i')], none), ['typed:i']);
    assert.deepEqual(contradictedKinds([id('i-0a1', 'typed:i')], [id('i-0a1', 'typed:i')], none), []);
  });

  it('not when the intent\'s identifier of several parts is spelled across the call\'s arguments', () => {
    const intent = [id('status.acme.io', 'domain')];
    assert.deepEqual(contradictedKinds(intent, [id('acme.io', 'domain')], new Set(['acme', 'io', 'status'])), []);
    assert.deepEqual(contradictedKinds(intent, [id('acme.io', 'domain')], new Set(['acme', 'io'])), ['domain']);
    assert.deepEqual(contradictedKinds([id('i-0a1b', 'typed:i')], [id('i-0c2d', 'typed:i')], new Set(['i-0a1b'])), ['typed:i']);
  });
});

describe('keyedIn', () => {
  const isVerb = (w: string) => ['deploy', 'alert', 'silence'].includes(w);
  const of = (t: string) => keyed(keyedIn(t, identifiersIn(t, isEnv), isVerb));

  it('a number or an identifier after a noun, the noun singular', () => {
    assert.deepEqual(of('refund customer #0042, customers 43 and customer: "44"'), [['customer', ['42', '43', '44']]]);
    assert.deepEqual(of('delete branches feat/x-1 on zone *.acme.io'), [['branch', ['feat/x-1']], ['zone', ['acme.io']]]);
    assert.deepEqual(of('silence alert high-latency-api'), [['alert', ['high-latency-api']]]);
    assert.deepEqual(of('the deploy 42'), [['deploy', ['42']]]);
  });

  it('not after a verb that leads the sentence or a clause', () => {
    for (const t of ['deploy 42', 'please deploy 42', 'x and deploy 42', 'x then deploy 42', 'x to deploy 42', 'pls deploy 42']) assert.deepEqual(of(t), [], t);
  });

  it('not after a word that is no noun, a participle, or before a quantity or a lone digit', () => {
    for (const t of ['x 42', 'v2 42', 'to 42', 'for 42', 'affected 42', 'running 42', 'customer 4', 'customer 42 days', 'customer 42 hrs', 'customer 42x', 'customer', 'alerts on-call']) assert.deepEqual(of(t), [], t);
    assert.deepEqual(of('customer 42 daysx'), [['customer', ['42']]]);
    assert.deepEqual(of('customer 42 xdays'), [['customer', ['42']]]);
  });

  it('each pattern anchored: the noun, the number, the clause word, the participle, the wildcard', () => {
    for (const t of ['x2ab 42', 'ab2 42']) assert.deepEqual(of(t), [], t);
    assert.deepEqual(keyed(keyedIn('customer ab42', [], isVerb)), []);
    assert.deepEqual(of('customer --42!!'), [['customer', ['42']]]);
    assert.deepEqual(of('band deploy 42'), [['deploy', ['42']]]);
    assert.deepEqual(of('top deploy 42'), [['deploy', ['42']]]);
    assert.deepEqual(of('editor 42'), [['editor', ['42']]]);
    assert.deepEqual(of('zone a*.b1'), [['zone', ['a*.b1']]]);
  });

  it('every word that is no noun, every unit', () => {
    const notNouns = 'to from by than last over under at of for the and or in on with about after before within every each top first next past around until since port ports version an this that our my its their new old all only into onto as is are be it';
    for (const w of notNouns.split(' ')) assert.deepEqual(keyed(keyedIn(`${w} 42`, [], () => false)), [], w);
    assert.deepEqual(keyed(keyedIn('ticket 42', [], () => false)), [['ticket', ['42']]]);
    const units = 'percent day days hour hours hr hrs min mins minute minutes sec secs second seconds week weeks month months year years gb mb tb seat seats user users row rows times replica replicas pod pods node nodes instance instances item items record records call calls request requests';
    for (const u of units.split(' ')) assert.deepEqual(of(`customer 42 ${u}`), [], u);
    for (const u of ['minu', 'minutess', 'tim', 'secondss']) assert.deepEqual(of(`customer 42 ${u}`), [['customer', ['42']]], u);
  });
});

describe('keyedArgs', () => {
  it('strings (lower case, up to 200) and integers under their key, three levels deep, arrays keeping the key', () => {
    assert.deepEqual(keyedArgs({ CustomerId: 42, name: 'Web', list: ['A', 1.5, 3, true], deep: { a: { b: 'in', c: { d: 'out' } } }, n: null, u: undefined, ok: 'x'.repeat(200), long: 'x'.repeat(201) }), [
      ['customerid', '42'], ['name', 'web'], ['list', 'a'], ['list', '3'], ['b', 'in'], ['ok', 'x'.repeat(200)],
    ]);
    assert.deepEqual(keyedArgs('ABC'), [['', 'abc']]);
    assert.deepEqual(keyedArgs({ a: [['x']], b: [[['y']]] }), [['a', 'x']]);
    assert.deepEqual(keyedArgs(null), []);
  });
});

describe('contradictedKeyed and keyedMatches', () => {
  const customer = new Map([['customer', new Set(['42'])]]);

  it('an argument named for the noun with another value contradicts; the value anywhere else agrees', () => {
    for (const key of ['customer', 'customers', 'customerid', 'customer_id', 'customer-ids', 'customername', 'customerno', 'customernum', 'customerkey', 'customernumber']) {
      assert.deepEqual(contradictedKeyed(customer, [[key, '43']]), ['customer'], key);
      assert.equal(keyedMatches(customer, [[key, 'cus_00000042']]), true, key);
    }
    for (const key of ['customerx', 'xcustomer', 'client', 'idcustomer']) {
      assert.deepEqual(contradictedKeyed(customer, [[key, '43']]), [], key);
      assert.equal(keyedMatches(customer, [[key, '42']]), false, key);
    }
    assert.deepEqual(contradictedKeyed(customer, [['customerid', '43'], ['description', 'customer 42']]), []);
    assert.deepEqual(contradictedKeyed(customer, [['customerid', '4242']]), ['customer']);
    assert.equal(keyedMatches(customer, [['customerid', 'a42b']]), true);
    assert.equal(keyedMatches(customer, [['customerid', 'a41b42']]), true);
    assert.equal(keyedMatches(customer, [['customerid', '43'], ['note', 'x']]), false);
    assert.equal(keyedMatches(customer, [['customerid', '42'], ['note', 'x']]), true);
    const two = new Map([['customer', new Set(['42', '43'])]]);
    assert.deepEqual(contradictedKeyed(two, [['customerid', '42']]), []);
    assert.equal(keyedMatches(two, [['customerid', '42']]), true);
  });

  it('a number or a name wanted is compared as what it is', () => {
    for (const want of ['ab42', '42ab']) assert.equal(keyedMatches(new Map([['host', new Set([want])]]), [['host', want]]), true, want);
    for (const want of ['v3-5', '3-5x']) assert.equal(keyedMatches(new Map([['version', new Set([want])]]), [['version', '4']]), false, want);
    assert.equal(keyedMatches(new Map([['version', new Set(['10-20'])]]), [['version', '14']]), true);
  });

  it('a range holds every number inside it, ends included', () => {
    const versions = new Map([['version', new Set(['3-5'])]]);
    for (const v of ['3', '4', '5', 'v4']) assert.equal(keyedMatches(versions, [['versions', v]]), true, v);
    for (const v of ['2', '6', 'x']) assert.deepEqual(contradictedKeyed(versions, [['versions', v]]), ['version'], v);
  });

  it('a name: the same, extended at a separator, or the last part of a path', () => {
    const branch = new Map([['branch', new Set(['feat-x'])]]);
    for (const v of ['feat-x', 'feat-x-2', 'origin/feat-x']) assert.equal(keyedMatches(branch, [['branch', v]]), true, v);
    for (const v of ['feat-xy', 'main']) assert.deepEqual(contradictedKeyed(branch, [['branch', v]]), ['branch'], v);
    assert.deepEqual(contradictedKeyed(new Map([['repo', new Set(['web'])]]), [['repo', 'acme/web']]), []);
  });
});
