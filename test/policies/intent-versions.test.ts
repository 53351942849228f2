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
});
