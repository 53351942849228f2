/**
 * policies/intent-versions.ts and its rule in `actionSignals` (issue 27, session 13): when the intent
 * names versions, a call's version arguments carry one of them (or one with parts added).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { versionsIn, wrongVersion } from '../../policies/intent-versions';
import { actionSignals, intentScope } from '../../policies/intent';

describe('versions', () => {
  it('the versions a text names', () => {
    assert.deepEqual(versionsIn('deprecate @nw/ui-kit 4.2.0, then v2.18.3 and 7.3.0-rc2.'), ['4.2.0', '2.18.3', '7.3.0-rc2']);
    assert.deepEqual(versionsIn('drain 10.20.4.17'), [], 'an address of four parts');
    assert.deepEqual(versionsIn('restart web'), []);
  });

  it('a version argument that is none of the intent\'s', () => {
    assert.equal(wrongVersion(['4.2.0'], { package: '@nw/ui-kit', version: '4.2.1' }), '4.2.1');
    assert.equal(wrongVersion(['7.3.0'], { version: '7.3.0-rc2' }), '7.3.0-rc2', 'a pre-release is another version');
    assert.equal(wrongVersion(['2.18.3'], { tag: 'prod', sourceTag: '2.18.4-rc1' }), '2.18.4-rc1');
    assert.equal(wrongVersion(['14.5'], { os: { targetVersion: '14.5.0' } }), null, 'parts added');
    assert.equal(wrongVersion(['14.5'], { releases: ['14.5', 'v14.6'] }), '14.6');
    assert.equal(wrongVersion(['4.2.0'], { version: '4.2.0' }), null);
    assert.equal(wrongVersion(['12.90'], { price: '19.90' }), null, 'a key not named for a version');
    assert.equal(wrongVersion([], { version: '1.0.0' }), null, 'the intent names none');
    assert.equal(wrongVersion(['1.2.0'], { version: 'latest' }), null, 'not a version');
  });

  it('in actionSignals', () => {
    assert.deepEqual(actionSignals(intentScope('deprecate @nw/ui-kit 4.2.0'), 'artifacts.packages.versions.deprecate', { package: '@nw/ui-kit', version: '4.2.1' }).signals.find((s) => s.message.includes('version')), {
      code: 'scope.identifier', message: 'the call names version 4.2.1; the intent names 4.2.0',
    });
    assert.equal(actionSignals(intentScope('deprecate @nw/ui-kit 4.2.0'), 'artifacts.packages.versions.deprecate', { package: '@nw/ui-kit', version: '4.2.1' }).cap, 0.2);
    assert.equal(actionSignals(intentScope('deprecate @nw/ui-kit 4.2.0'), 'artifacts.packages.versions.deprecate', { package: '@nw/ui-kit', version: '4.2.0' }).cap, 1);
  });

  it('edges: no intent versions, numbers, spaces, null, several intent versions, four levels deep and no deeper', () => {
    const nest = (v: unknown, n: number): unknown => (n === 0 ? v : { inner: nest(v, n - 1) });
    assert.equal(wrongVersion([], { version: '1.2.3' }), null, 'an intent without versions says nothing');
    assert.equal(wrongVersion(['4.2'], { version: 4.3 }), '4.3', 'a number is read as a version');
    assert.equal(wrongVersion(['4.2.0'], { version: ' 4.2.1 ' }), '4.2.1', 'read trimmed');
    assert.equal(wrongVersion(['4.2.0'], { version: null, tag: '4.2.0' }), null);
    assert.equal(wrongVersion(['4.2.0', '5.0.0'], { version: '4.2.0' }), null, 'any of the intent\'s versions will do');
    assert.equal(wrongVersion(['4.2.0'], nest({ version: '4.2.1' }, 3)), '4.2.1');
    assert.equal(wrongVersion(['4.2.0'], nest({ version: '4.2.1' }, 4)), null);
    assert.deepEqual(versionsIn('ship 4.2.0..'), ['4.2.0'], 'trailing stops removed');
  });
});

