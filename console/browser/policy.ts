/**
 * `/policy`: the worker's default policy's paths from read tools to dangerous ones (an SVG the
 * server draws; the summary says which policy, from where), and a draft — pasted or uploaded —
 * analysed the same way or backtested over the last N days as a table of the decisions it would
 * change. `?without=<rule>` opens with that policy minus the rule as the draft, and backtests it.
 */
import { $, api, el, localTime, signedIn, svgInto } from './dom';

function changesTable(r: any): HTMLElement {
  return el(
    'section',
    { id: 'backtest' },
    el('p', { class: 'summary' }, `${r.sessionsReplayed} session(s) replayed, ${r.proposalsCompared} decision(s) compared, ${r.unchanged} unchanged; newly blocked ${r.newlyBlocked.count}, newly allowed ${r.newlyAllowed.count}, newly needing approval ${r.newlyNeedingApproval.count}`),
    el(
      'table',
      { id: 'changes' },
      el('thead', {}, el('tr', {}, ...['when', 'session', 'call', 'tool', 'recorded', 'draft', 'rules'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...r.changes.map((c: any) => el('tr', { 'data-session-id': c.sessionId, 'data-tool': c.tool, 'data-before': c.before, 'data-after': c.after },
        el('td', {}, localTime(c.at)),
        el('td', {}, el('a', { href: `/sessions/${encodeURIComponent(c.sessionId)}` }, c.sessionId.slice(0, 13))),
        el('td', {}, `#${c.proposalSeq}`),
        el('td', {}, c.tool),
        el('td', {}, c.before),
        el('td', {}, c.after),
        el('td', {}, c.rules.join(', '))))),
    ),
  );
}

export async function policyPage(): Promise<void> {
  if (!(await signedIn())) return;
  const current = el('div', { class: 'graph', id: 'graph' }, 'reading the policy…');
  const currentNote = el('p', { id: 'graph-summary' });
  const draft = el('textarea', { id: 'draft', placeholder: 'paste a policy draft (YAML or JSON)', spellcheck: 'false' }) as HTMLTextAreaElement;
  const upload = el('input', { id: 'upload', type: 'file', accept: '.yaml,.yml,.json' }) as HTMLInputElement;
  const days = el('input', { id: 'days', type: 'number', min: '1', max: '365', value: '14', size: '4' }) as HTMLInputElement;
  const analyze = el('button', { id: 'analyze' }, 'Draw its paths');
  const backtest = el('button', { id: 'run-backtest' }, 'Backtest');
  const out = el('section', { id: 'draft-out' });
  $('main').replaceChildren(
    el('h1', {}, 'Policy'),
    el('h2', {}, 'Paths from read tools to dangerous ones'), currentNote, current,
    el('h2', {}, 'A draft'),
    draft,
    el('div', { class: 'controls' }, upload, el('label', {}, 'last ', days, ' days'), analyze, backtest),
    out,
  );
  const summary = (g: any) => `${g.name} (from ${g.from}): ${g.summary.paths} paths, ${g.summary.blocked} blocked, ${g.summary.approval} need approval, ${g.summary.autonomous} autonomous${g.truncated ? ' (truncated)' : ''}`;
  const refused = (err: any) => {
    out.replaceChildren(
      el('p', { class: 'error', id: 'draft-error' }, `refused (${err.code}): ${err.message}`),
      ...(err.issues ? [el('ul', { id: 'draft-issues' }, ...err.issues.map((i: any) => el('li', {}, el('code', {}, i.path || '(root)'), ` ${i.message}`)))] : []),
    );
  };
  upload.addEventListener('change', async () => {
    const f = upload.files?.[0];
    if (f) draft.value = await f.text();
  });
  analyze.addEventListener('click', async () => {
    try {
      const g = await api('/api/policy/analyze', { draft: draft.value });
      const host = el('div', { class: 'graph', id: 'draft-graph' });
      svgInto(host, g.svg);
      out.replaceChildren(el('p', { id: 'draft-summary' }, summary(g)), host);
    } catch (err) {
      refused(err);
    }
  });
  const runBacktest = async () => {
    out.replaceChildren(el('p', {}, 'replaying…'));
    try {
      out.replaceChildren(changesTable(await api('/api/policy/backtest', { draft: draft.value, days: days.value })));
    } catch (err) {
      refused(err);
    }
  };
  backtest.addEventListener('click', () => void runBacktest());
  try {
    const g = await api('/api/policy/graph');
    currentNote.textContent = summary(g);
    svgInto(current, g.svg);
  } catch (err) {
    current.textContent = (err as Error).message;
  }
  const without = new URLSearchParams(location.search).get('without');
  if (without) {
    try {
      const w = await api(`/api/policy/without/${encodeURIComponent(without)}`);
      draft.value = w.draft;
      out.before(el('p', { id: 'without' }, `${w.from} with \`${w.rule}\` in shadow mode (recorded, not enforced):`));
      await runBacktest();
    } catch (err) {
      refused(err);
    }
  }
}
