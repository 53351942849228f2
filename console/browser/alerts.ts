/**
 * `/alerts`: every alert of the last 30 days with its latest verdict, a verdict to give ("agent was
 * right" / "the rule was right", with a note; operators only), and per rule how often it was
 * overruled, linking an overruled rule to the backtest of the policy without it. Repeats of an
 * alert are one card (count, first and latest message) until it is reviewed; later ones are a new card.
 */
import { $, api, el, localTime, signedIn } from './dom';

function ruleRow(r: any): HTMLElement {
  return el(
    'tr',
    { 'data-rule': r.rule },
    el('td', {}, el('code', {}, r.rule)),
    el('td', { class: 'alerts' }, String(r.alerts)),
    el('td', { class: 'reviewed' }, String(r.reviewed)),
    el('td', { class: 'overruled' }, String(r.overruled)),
    el('td', { class: 'upheld' }, String(r.upheld)),
    el('td', {}, r.backtestWithout ? el('a', { class: 'without', href: `/policy?without=${encodeURIComponent(r.rule)}` }, 'backtest without it') : ''),
  );
}

function alertCard(a: any, canReview: boolean, reload: () => Promise<void>): HTMLElement {
  const verdict = a.review ? `${a.review.verdict === 'agent-right' ? 'agent was right' : 'the rule was right'} — ${a.review.reviewer}${a.review.note ? `: “${a.review.note}”` : ''}` : 'not reviewed';
  const card = el(
    'article',
    { class: 'alert', 'data-key': a.key, 'data-rule': a.rule, 'data-session-id': a.sessionId, 'data-count': String(a.count) },
    el('h3', {}, el('code', {}, a.rule), ' in ', el('a', { href: `/sessions/${encodeURIComponent(a.sessionId)}` }, a.sessionId.slice(0, 13))),
    el('p', {}, a.message, el('span', { class: 'when' }, a.count > 1 ? ` ${localTime(a.at)} – ${localTime(a.lastAt)}` : ` ${localTime(a.at)}`)),
    el('p', { class: 'verdict' }, verdict),
  );
  if (canReview) {
    const note = el('input', { class: 'note', placeholder: 'note' }) as HTMLInputElement;
    const out = el('p', { class: 'outcome' });
    const give = (v: 'agent-right' | 'rule-right', label: string) => {
      const b = el('button', { class: v }, label);
      b.addEventListener('click', async () => {
        try {
          // `seen`: the verdict covers the occurrences this card shows, and the server refuses it if there are more now.
          await api('/api/alerts/review', { alert: a.key, verdict: v, note: note.value, seen: a.lastAt, seenCount: a.count });
          await reload();
        } catch (err) {
          out.textContent = `refused (${(err as any).code}): ${(err as Error).message}`;
          out.className = 'outcome error';
        }
      });
      return b;
    };
    card.append(el('div', { class: 'actions' }, note, give('agent-right', 'Agent was right'), give('rule-right', 'The rule was right')), out);
  }
  return card;
}

export async function alertsPage(): Promise<void> {
  if (!(await signedIn())) return;
  const rules = el('tbody');
  const list = el('section', { id: 'alert-list' });
  $('main').replaceChildren(
    el('h1', {}, 'Alerts'),
    el('h2', {}, 'Per rule'),
    el('table', { id: 'rules' }, el('thead', {}, el('tr', {}, ...['rule', 'alerts', 'reviewed', 'overruled (agent was right)', 'upheld', ''].map((h) => el('th', {}, h)))), rules),
    el('h2', {}, 'Every alert'),
    list,
  );
  const reload = async () => {
    const r = await api('/api/alerts');
    rules.replaceChildren(...r.rules.map(ruleRow));
    list.replaceChildren(...r.alerts.map((a: any) => alertCard(a, r.canReview, reload)));
  };
  await reload();
}
