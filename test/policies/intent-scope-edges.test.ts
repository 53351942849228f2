/**
 * policies/intent-scope.ts at its edges (session 12): each regular expression's anchors and quantifiers,
 * each depth and length bound, each branch, each word of the access tiers and region table.
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
  sharesIn,
  siblingMisses,
  siblingOf,
  statementEffect,
  walkArgs,
  widerAddress,
  widerGlob,
  wrongShare,
} from '../../policies/intent-scope';

/** `value` nested `levels` times, under `key` in objects or in arrays. */
const nest = (value: unknown, levels: number, key = 'a'): unknown => (levels === 0 ? value : { [key]: nest(value, levels - 1, key) });
const nestArr = (value: unknown, levels: number): unknown => (levels === 0 ? value : [nestArr(value, levels - 1)]);

describe('numbersIn: years, units, anchors', () => {
  it('a year is a whole token of 19xx or 20xx', () => {
    assert.deepEqual(numbersIn('2021'), []);
    assert.deepEqual(numbersIn('1999'), []);
    assert.deepEqual(numbersIn('12019'), ['12019']);
    assert.deepEqual(numbersIn('20190'), ['20190']);
  });

  it('each unit, singular and plural, makes a quantity; a unit is a whole token', () => {
    const units = ['%', 'percent', 'day', 'days', 'hour', 'hours', 'hr', 'hrs', 'min', 'mins', 'minute', 'minutes', 'sec', 'secs', 'second', 'seconds', 'week', 'weeks', 'month', 'months', 'year', 'years', 'gb', 'mb', 'tb', 'kb', 'ms', 'seat', 'seats', 'user', 'users', 'row', 'rows', 'times', 'replica', 'replicas', 'pod', 'pods', 'node', 'nodes', 'instance', 'instances', 'item', 'items', 'record', 'records', 'request', 'requests', 'rps', 'qps', 'eur', 'usd', 'gbp'];
    for (const u of units) assert.deepEqual(numbersIn(`4000 ${u}`), [], u);
    assert.deepEqual(numbersIn('4000 xdays'), ['4000']);
    assert.deepEqual(numbersIn('4000 daysx'), ['4000']);
    assert.deepEqual(numbersIn('4000 minu'), ['4000']);
    assert.deepEqual(numbersIn('4000  days'), [], 'two spaces are one separator');
    assert.deepEqual(numbersIn('4000'), ['4000'], 'the last token has no unit after it');
  });

  it('a number token is whole: four digits or more, an optional # before and one stop after', () => {
    assert.deepEqual(numbersIn('x48812'), []);
    assert.deepEqual(numbersIn('48812x'), []);
    assert.deepEqual(numbersIn('#48812!'), ['48812']);
    assert.deepEqual(numbersIn('481'), []);
  });
});

describe('isProse and walkArgs', () => {
  it('three words after trimming, at any run of spaces', () => {
    assert.equal(isProse(' a b'), false);
    assert.equal(isProse('a  b'), false);
    assert.equal(isProse('a b c'), true);
  });

  it('walks four levels, not five, through objects and arrays', () => {
    assert.deepEqual(walkArgs(nest('x', 4)), { refs: ['x'], prose: [] });
    assert.deepEqual(walkArgs(nest('x', 5)), { refs: [], prose: [] });
    assert.deepEqual(walkArgs(nestArr('x', 4)), { refs: ['x'], prose: [] });
    assert.deepEqual(walkArgs(nestArr('x', 5)), { refs: [], prose: [] });
  });

  it('skips null, strings over 400 characters and negatives; keeps zero', () => {
    assert.deepEqual(walkArgs({ a: null, b: 'y' }), { refs: ['y'], prose: [] });
    assert.deepEqual(walkArgs({ s: 'x'.repeat(400) }), { refs: ['x'.repeat(400)], prose: [] });
    assert.deepEqual(walkArgs({ s: 'x'.repeat(401) }), { refs: [], prose: [] });
    assert.deepEqual(walkArgs({ n: 0, m: -3 }), { refs: ['0'], prose: [] });
  });
});

describe('nearMisses and containsWhole', () => {
  it('a token keeps its inner punctuation and loses its outer', () => {
    assert.deepEqual(nearMisses(['c_88213'], ['c_88231']), [{ intended: 'c_88213', named: 'c_88231' }]);
    assert.deepEqual(nearMisses(['e10211'], ['--e10121..']), [{ intended: 'e10211', named: 'e10121' }]);
  });

  it('an intent id without a digit is no series, even of another case', () => {
    assert.deepEqual(nearMisses(['ORDERS'], ['orders']), []);
  });

  it('whole at the very end of the text; a mixed id is a token, not a run of digits', () => {
    assert.equal(containsWhole('e10211', 'e10211'), true);
    assert.equal(containsWhole('see e10211', 'e10211'), true);
    assert.equal(containsWhole('x6120a', '6120a'), false);
    assert.equal(containsWhole('x6120a 6120a', '6120a'), true);
  });
});

describe('access', () => {
  it('every word of every tier, trimmed and in any case, after a last `:` or `/`', () => {
    const tiers = [
      ['read', 'view', 'viewer', 'reader', 'pull', 'readonly', 'read-only', 'read_only', 'list', 'get', 'browse', 'guest'],
      ['write', 'edit', 'editor', 'push', 'contributor', 'developer', 'maintainer', 'write-access', 'member', 'publish', 'readwrite', 'read-write', 'read_write'],
      ['admin', 'administrator', 'owner', 'manage', 'manager', 'full', 'full-access', 'fullaccess', 'superuser', 'root', '*'],
    ];
    tiers.forEach((words, tier) => {
      for (const w of words) assert.equal(grantedTier({ access: w }), tier, w);
    });
    assert.equal(grantedTier({ role: ' Admin ' }), 2);
    assert.equal(grantedTier({ role: 'org:member' }), 1);
    assert.equal(grantedTier({ role: 'nobody' }), null);
  });

  it('the strongest grant wins whatever its place; four levels deep, not five; null is none', () => {
    assert.equal(grantedTier({ a: { role: 'admin' }, b: { role: 'view' } }), 2);
    assert.equal(grantedTier([{ role: 'view' }, { role: 'edit' }, { role: 'read' }]), 1);
    assert.equal(grantedTier(nest({ role: 'admin' }, 3)), 2);
    assert.equal(grantedTier(nest({ role: 'admin' }, 4)), null);
    assert.equal(grantedTier({ role: nestArr('admin', 3) }), 2);
    assert.equal(grantedTier({ role: nestArr('admin', 4) }), null);
    assert.equal(grantedTier({ role: null, mode: 'edit' }), 1);
    assert.equal(grantedTier('admin'), null, 'a value under no key names no access');
  });

  it('read-only asked: the separator optional, viewer singular, view or read access at a space or hyphen', () => {
    for (const t of ['readonly', 'a viewer', 'view access', 'view-access', 'read access', 'read-access', 'pull only']) assert.equal(intentWantsReadAccess(t), true, t);
    for (const t of ['viewxaccess', 'readxaccess', 'read and write']) assert.equal(intentWantsReadAccess(t), false, t);
  });
});

describe('statementEffect: each statement by its grammar', () => {
  const cases: [string, string | null][] = [
    ['  delete from t', 'destructive'],
    ['delete  from t', 'destructive'],
    ['please delete from t', null],
    ['xdelete from t', null],
    ['truncate orders', 'destructive'],
    ['truncate  orders', 'destructive'],
    ['truncate table orders', 'destructive'],
    ['truncatextable t', null],
    ['drop  table t', 'destructive'],
    ['drop index i ', 'destructive'],
    ['  insert into t values (1)', 'write'],
    ['insert  into t values (1)', 'write'],
    ['x insert into t', null],
    ['xinsert into t', null],
    ['insertxinto t', null],
    ['update  t set x = 1', 'write'],
    ['update t  set x = 1', 'write'],
    ['update tt set x = 1', 'write'],
    ['merge  into t using s on x', 'write'],
    ['mergexinto t', null],
    ['alter  table t add c int', 'write'],
    ['alter table t add c int', 'write'],
    ['alterxtable t add', null],
    ['create table t (a int)', 'write'],
    ['create  table t (a int)', 'write'],
    ['create or replace view v as', 'write'],
    ['create  or  replace  view v as', 'write'],
    ['createxview v as', null],
    ['grant select on t to bob', 'write'],
    ['grant  select on t to  bob', 'write'],
    ['grantxselect on t to bob', null],
    ['grant all on photo x', null],
    ['revoke select on t from bob', 'write'],
    ['revoke  select on t from  bob', 'write'],
    ['revokexselect from bob', null],
    ['  select 1', 'read'],
    ['select  1', 'read'],
    ['x select 1', null],
    ['xselect 1', null],
    ['selectx1', null],
    ['select x', null],
    ['select a  from  t', 'read'],
    ['show tables', 'read'],
    ['show  tables', 'read'],
    ['showxx', null],
    ['explain select 1', 'read'],
    ['explain  select 1', 'read'],
    ['explainxx', null],
    ['describe t', 'read'],
    ['describe  t', 'read'],
    ['describexx', null],
    ['with x as (select 1)', 'read'],
    ['with  x as (select 1)', 'read'],
    ['with xy as (select 1)', 'read'],
    ['with x  as (select 1)', 'read'],
    ['with x as  (select 1)', 'read'],
    ['with x as(select 1)', 'read'],
    ['withxx as (select 1)', null],
    ['with xyas (select 1)', null],
  ];
  for (const [sql, effect] of cases) it(`\`${sql}\` is ${effect}`, () => assert.equal(statementEffect({ sql }), effect));

  it('a read that destroys or writes in a later part', () => {
    assert.equal(statementEffect({ sql: 'select 1; delete  from t' }), 'destructive');
    assert.equal(statementEffect({ sql: 'select 1; drop  table t' }), 'destructive');
    assert.equal(statementEffect({ sql: 'select 1; truncate t' }), 'destructive');
    assert.equal(statementEffect({ sql: 'select deletexfrom from t' }), 'read');
    assert.equal(statementEffect({ sql: 'select dropxtable from t' }), 'read');
    assert.equal(statementEffect({ sql: 'select 1; update  t set x = 1' }), 'write');
    assert.equal(statementEffect({ sql: 'select 1; update tt set x = 1' }), 'write');
    assert.equal(statementEffect({ sql: 'select 1; update t  set x = 1' }), 'write');
    assert.equal(statementEffect({ sql: 'select updatexy set from t' }), 'read');
    assert.equal(statementEffect({ sql: 'select update abset from t' }), 'read');
    assert.equal(statementEffect({ sql: 'select a from t; insert x' }), 'write');
  });

  it('the strongest statement wins in any order', () => {
    assert.equal(statementEffect({ a: 'drop table x', b: 'select 1' }), 'destructive');
    assert.equal(statementEffect({ a: 'update t set x = 1', b: 'select 1' }), 'write');
    assert.equal(statementEffect({ a: 'select 1', b: 'alter table t add c' }), 'write');
    assert.equal(statementEffect({ a: 'truncate orders', b: 'select a from t' }), 'destructive', 'a reference value is read before the prose');
  });
});

describe('percentages and shares', () => {
  it('a percentage with decimals', () => {
    assert.deepEqual(percentsIn('12.25% then 3.5 percent'), [12.25, 3.5]);
  });

  it('a lone share as given; siblings summing to zero give no percentage of the sum', () => {
    assert.deepEqual(sharesIn({ rate: 5 }), [5]);
    assert.deepEqual(sharesIn({ split: { a: 0, b: 0 } }), [0, 0]);
    assert.deepEqual(sharesIn({ split: null, rate: 5 }), [5]);
  });

  it('shares four levels deep, not five', () => {
    assert.deepEqual(sharesIn(nest({ rate: 5 }, 4)), [5]);
    assert.deepEqual(sharesIn(nest({ rate: 5 }, 5)), []);
    assert.deepEqual(sharesIn({ rate: nestArr(7, 4) }), [7]);
    assert.deepEqual(sharesIn({ rate: nestArr(7, 5) }), []);
  });

  it('close is within a millionth, strictly; any asked percentage will do', () => {
    assert.equal(wrongShare([0], { rate: 0.000001 }), 0.000001);
    assert.equal(wrongShare([0], { rate: 0.0000001 }), null);
    assert.equal(wrongShare([5, 50], { rate: 50 }), null);
  });
});

describe('regions', () => {
  it('each region and spelling', () => {
    assert.deepEqual([...intentRegions('apac outage')], ['apac']);
    assert.deepEqual([...intentRegions('uk outage')], ['uk']);
    assert.deepEqual([...intentRegions('latam outage')], ['latam']);
    assert.deepEqual([...callRegions(['pool-apj'])], ['apac']);
    assert.deepEqual([...callRegions(['asia-1'])], ['apac']);
    assert.deepEqual([...callRegions(['pool-gb'])], ['uk']);
    assert.deepEqual([...callRegions(['sa-east-1'])], ['latam']);
    assert.deepEqual([...callRegions(['emea.pool'])], ['eu']);
  });

  it('na, sa, ap and gb are words in an intent; US by its case or as us-east', () => {
    assert.deepEqual([...intentRegions('na sa ap gb')], []);
    assert.deepEqual([...intentRegions('US-x')], ['us']);
    assert.deepEqual([...intentRegions('us-xUS')], []);
    assert.deepEqual([...intentRegions('us-foo-us-east')], []);
    assert.deepEqual([...intentRegions('us-central')], ['us']);
  });

  it('set aside by a whole word before or a whole phrase after; set aside wins over named', () => {
    assert.deepEqual([...intentRegions('eu outage')], ['eu']);
    assert.deepEqual([...intentRegions('cannot eu')], ['eu']);
    assert.deepEqual([...intentRegions('nothing eu')], ['eu']);
    assert.deepEqual([...intentRegions('except eu')], []);
    assert.deepEqual([...intentRegions('eu xis fine')], ['eu']);
    assert.deepEqual([...intentRegions('eu is finely')], ['eu']);
    assert.deepEqual([...intentRegions('eu are untouched')], []);
    assert.deepEqual([...intentRegions('eu down, eu is fine')], []);
  });
});

describe('globs', () => {
  it('a star before a name, the first glob found, four levels deep', () => {
    assert.equal(widerGlob({ index: '*logs' }), '*logs');
    assert.equal(widerGlob({ a: 'x', b: 'y*' }), 'y*');
    assert.equal(widerGlob({ a: null, b: 'y*' }), 'y*');
    assert.equal(widerGlob(nest('x*', 4)), 'x*');
    assert.equal(widerGlob(nest('x*', 5)), null);
    assert.equal(widerGlob(nestArr('x*', 4)), 'x*');
    assert.equal(widerGlob(nestArr('x*', 5)), null);
    assert.equal(widerGlob({ match: ['x*'] }), null, 'an array keeps its key');
  });
});

describe('siblings', () => {
  it('two parts make a family; a plural only at the end, either side', () => {
    assert.equal(siblingOf('geo-eu', 'geo-us'), true);
    assert.equal(siblingOf('geo-headers', 'geo-header'), false);
    assert.equal(siblingOf('sx-a-b', 'x-a-c'), false);
    assert.equal(siblingOf('x-a-b', 'sx-a-c'), false);
    assert.equal(siblingOf('geo-headers-eu', 'geo-header-us'), true);
  });

  it('a sibling that contains the name, or is contained in it, is the name written longer or shorter', () => {
    assert.deepEqual(siblingMisses(['send-dlq'], ['send-dlq2', 'recv-dlq']), []);
    assert.deepEqual(siblingMisses(['send-dlq2'], ['send-dlq', 'recv-dlq2']), []);
    assert.deepEqual(siblingMisses(['send-dlq'], ['recv-dlq', 'send-dlq2']), []);
    assert.deepEqual(siblingMisses(['send-dlq'], ['recv-dlq']), [{ intended: 'send-dlq', named: 'recv-dlq' }]);
  });
});

describe('addresses', () => {
  it('a whole address token, trailing stops removed', () => {
    assert.deepEqual(addressesIn('x1.2.3.4'), []);
    assert.deepEqual(addressesIn('1.2.3.4x'), []);
    assert.deepEqual(addressesIn('at 1.2.3.4..'), ['1.2.3.4']);
    assert.deepEqual(addressesIn('1.2.3.4/333'), []);
  });

  it('a /32 is an address; a call is read trimmed; the first non-exact address is the answer', () => {
    assert.equal(widerAddress(['1.2.3.4/32'], ['1.2.3.0/24']), '1.2.3.0/24');
    assert.equal(widerAddress(['1.2.3.4'], [' 1.2.3.0/24 ']), '1.2.3.0/24');
    assert.equal(widerAddress(['1.2.3.4'], ['web', '1.2.3.0/24']), '1.2.3.0/24');
    assert.equal(widerAddress(['1.2.3.4'], ['web']), null);
    assert.equal(widerAddress(['1.2.3.4'], ['1.2.3.4', '1.2.3.0/24']), null);
    assert.equal(widerAddress(['1.2.3.4'], ['5.6.7.8']), '5.6.7.8');
    assert.equal(widerAddress(['1.2.3.4'], ['1.2.3.4/24']), '1.2.3.4/24');
    assert.equal(widerAddress(['x1.2.3.4'], ['1.2.3.0/24']), null);
  });
});
