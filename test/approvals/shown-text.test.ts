/**
 * What a person is shown of an agent's text: every character that draws nothing, reorders text,
 * moves a terminal's cursor or looks like a space is an escape, and shown JSON is the same value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hiddenCount, hiddenCountIn, shownJson, shownLine, shownQuoted, shownText } from '../../approvals/shown-text';

/** Characters no shown text may hold raw (ASCII space and, where kept, the newline aside), and runs of three combining marks. */
const RAW_HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Default_Ignorable_Code_Point}\p{Zs}\u115F\u1160\u2800\u3164\uFFA0]/u;
const rawHidden = (text: string) => [...text.replace(/[ \n]/g, '')].some((ch) => RAW_HIDDEN.test(ch)) || /[\p{Mn}\p{Me}]{3}/u.test(text);

const TRICKS = {
  rtlOverride: '\u202e', isolate: '\u2067', zeroWidthSpace: '\u200b', softHyphen: '\u00ad', noBreakSpace: '\u00a0',
  lineSeparator: '\u2028', csiC1: '\u009b', escape: '\u001b', del: '\u007f', tag: '\u{e0041}', hangulFiller: '\u3164',
  privateUse: '\uf8ff', loneSurrogate: '\ud800', carriageReturn: '\r', tab: '\t',
  // Letters and symbols that draw a blank: `vol-1` and `vol-1\u2800` look the same.
  brailleBlank: '\u2800', halfwidthHangulFiller: '\uffa0', choseongFiller: '\u115f', jungseongFiller: '\u1160',
};

describe('shown text', () => {
  test('each kind of hidden character is an escape in every form', () => {
    for (const [name, ch] of Object.entries(TRICKS)) {
      const text = `DROP${ch}TABLE`;
      for (const [form, shown] of [['json', shownJson({ q: text })], ['line', shownLine(text)], ['quoted', shownQuoted(text)], ['text', shownText(text)]] as const) {
        assert.equal(rawHidden(shown), false, `${name} in ${form}: ${JSON.stringify(shown)}`);
        assert.ok(shown.includes('DROP\\u') || shown.includes('DROP\\r') || shown.includes('DROP\\t'), `${name} in ${form} is shown where it was: ${shown}`);
      }
      assert.equal(hiddenCount(text), 1, name);
    }
  });

  test('a run of three or more combining marks is escaped mark by mark; one or two on a letter stay as written', () => {
    const stacked = `vol-1${'\u0336\u0489\u035b'.repeat(4)}`;
    for (const shown of [shownJson({ q: stacked }), shownLine(stacked), shownQuoted(stacked), shownText(stacked)]) {
      assert.equal(rawHidden(shown), false, JSON.stringify(shown));
      assert.ok(shown.includes('vol-1\\u0336\\u0489\\u035b\\u0336'), shown);
    }
    assert.equal(hiddenCount(stacked), 12);
    assert.equal(JSON.parse(shownJson({ q: stacked })).q, stacked);
    // Vietnamese stacks two marks on a letter (decomposed); a decomposed `é` has one.
    for (const written of ['Vie\u0323\u0302t', 'caf\u0065\u0301']) {
      assert.equal(shownText(written), written);
      assert.equal(hiddenCount(written), 0);
    }
  });

  test('the escapes are JSON\'s: shown JSON parses to the value, however the strings are made', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, key) => {
        const v = { [key]: value, s: key };
        const shown = shownJson(v);
        assert.deepEqual(JSON.parse(shown), JSON.parse(JSON.stringify(v)));
        assert.equal(rawHidden(shown), false);
        assert.equal(JSON.parse(shownQuoted(key)), key);
        assert.equal(shownLine(key).includes('\n'), false);
      }),
      { numRuns: 500 },
    );
  });

  test('prose keeps its line breaks, spaces and visible letters of any script', () => {
    const prose = 'Löschen: 14 200 Zeilen\nthen ✓ 請求 😀';
    assert.equal(shownText(prose), prose);
    assert.equal(hiddenCount(prose), 0);
    assert.equal(shownLine(prose), 'Löschen: 14 200 Zeilen\\u000athen ✓ 請求 😀');
    assert.equal(shownJson({ a: [1, 'x'] }), '{\n  "a": [\n    1,\n    "x"\n  ]\n}');
    // Counted on the strings themselves: JSON's own escapes (of controls, lone surrogates) hide none.
    assert.equal(hiddenCountIn({ a: '\u0000\u001b', '\u202e': ['\ud800', 1] }), 4);
  });
});
