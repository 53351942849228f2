/**
 * `/sessions`: the live list (pushed by server-sent events), filtered by status, agent and owner.
 * `/sessions/<id>`: the decision-level trace as a timeline, the intent score over time (SVG drawn
 * by the server) and, for operators only, halt / pause and the passkey-signed resume / budget raise.
 */
import { startAuthentication } from '@simplewebauthn/browser';
import { shownName } from '../../approvals/shown-text';
import { $, api, el, localTime, ms, signedIn, status, svgInto } from './dom';

const STATUSES = ['', 'running', 'completed', 'halted', 'blocked', 'cancelled', 'error'];

function row(s: any): HTMLElement {
  return el(
    'tr',
    { 'data-session-id': s.sessionId, 'data-status': s.status },
    el('td', {}, el('a', { href: `/sessions/${encodeURIComponent(s.sessionId)}` }, s.sessionId.slice(0, 13))),
    el('td', { class: 'status' }, s.status + (s.mode !== 'normal' ? ` (${s.mode})` : '') + (s.flagged ? ' ⚑' : '')),
    el('td', {}, s.agentId),
    el('td', {}, s.owner),
    el('td', {}, s.intent),
    el('td', { class: 'counts' }, `${s.proposals} proposed · ${s.executed} ran · ${s.refused} refused`),
    el('td', { class: 'score' }, s.intentScore === null ? '—' : Number(s.intentScore).toFixed(2)),
    el('td', {}, localTime(s.startedAt)),
  );
}

export async function sessionsPage(): Promise<void> {
  if (!(await signedIn())) return;
  const q = new URLSearchParams(location.search);
  const statusSel = el('select', { name: 'status' }, ...STATUSES.map((s) => el('option', { value: s }, s || 'any status'))) as HTMLSelectElement;
  statusSel.value = q.get('status') ?? '';
  const agent = el('input', { name: 'agent', placeholder: 'agent', value: q.get('agent') ?? '' }) as HTMLInputElement;
  const owner = el('input', { name: 'owner', placeholder: 'owner', value: q.get('owner') ?? '' }) as HTMLInputElement;
  const form = el('form', { class: 'filters' }, statusSel, agent, owner, el('button', { type: 'submit' }, 'Filter'));
  const body = el('tbody');
  const table = el('table', { id: 'sessions' }, el('thead', {}, el('tr', {}, ...['session', 'status', 'agent', 'owner', 'intent', 'counts', 'intent score', 'started'].map((h) => el('th', {}, h)))), body);
  $('main').replaceChildren(el('h1', {}, 'Sessions ', el('small', { id: 'count' }, '')), form, table);
  let events: EventSource | undefined;
  const listen = () => {
    const params = new URLSearchParams();
    if (statusSel.value) params.set('status', statusSel.value);
    if (agent.value.trim()) params.set('agent', agent.value.trim());
    if (owner.value.trim()) params.set('owner', owner.value.trim());
    history.replaceState(null, '', `/sessions${params.size ? `?${params}` : ''}`);
    events?.close();
    events = new EventSource(`/api/sessions/events?${params}`);
    events.addEventListener('sessions', (e) => {
      const list = JSON.parse((e as MessageEvent).data) as any[];
      body.replaceChildren(...list.map(row));
      $('#count').textContent = `${list.length} shown`;
      document.body.dataset.rendered = String(performance.now());
    });
    events.onerror = () => status('the list lost its connection: reconnecting', 'error');
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    listen();
  });
  listen();
}

function entry(t: any, start: number): HTMLElement {
  const when = el('span', { class: 'when' }, `+${ms(Math.max(0, Date.parse(t.at) - start))}`);
  if (t.kind === 'note') return el('li', { class: 'note', 'data-seq': String(t.seq) }, when, t.sentence);
  const facts = [
    t.verdict ? `verdict ${t.verdict}${t.rules?.length ? ` (${t.rules.join(', ')})` : ''}` : 'not decided',
    t.approvalWaitMs !== undefined ? `approval wait ${ms(t.approvalWaitMs)}${t.approvers ? ` (${t.approvers.join(', ')})` : ''}` : undefined,
    `outcome ${t.status}`,
  ].filter(Boolean);
  return el(
    'li',
    { class: 'proposal', 'data-seq': String(t.seq), 'data-proposal': String(t.proposalSeq), 'data-tool': t.tool, 'data-status': t.status, 'data-verdict': t.verdict ?? '' },
    when,
    el('strong', {}, `#${t.proposalSeq} `, el('span', { class: 'tool' }, shownName(t.tool))),
    el('div', { class: 'facts' }, facts.join(' · ')),
    el('div', { class: 'sentence' }, t.sentence),
  );
}

function controls(id: string, refresh: () => Promise<void>): HTMLElement {
  const reason = el('input', { id: 'op-reason', placeholder: 'reason' }) as HTMLInputElement;
  const out = el('p', { id: 'op-outcome' });
  const digest = el('code', { id: 'op-digest' });
  const budget = Object.fromEntries(['actions', 'writes', 'critical', 'tokens'].map((k) => [k, el('input', { id: `budget-${k}`, type: 'number', min: '0', placeholder: k, size: '6' }) as HTMLInputElement]));
  const run = async (what: string, work: () => Promise<string>) => {
    out.textContent = '';
    out.className = '';
    try {
      out.textContent = await work();
      out.className = 'ok';
    } catch (err) {
      out.textContent = `refused (${(err as any).code}): ${(err as Error).message}`;
      out.className = 'error';
    }
    await refresh();
    void what;
  };
  const path = `/api/sessions/${encodeURIComponent(id)}`;
  const signed = async (kind: 'resume' | 'budget-raise', extra: Record<string, unknown>) => {
    const prepared = await api(`${path}/sign/prepare`, { kind, reason: reason.value, ...extra });
    digest.textContent = `signing digest ${prepared.digest}`;
    const assertion = await startAuthentication({ optionsJSON: prepared.options });
    const r = await api(`${path}/sign/submit`, { kind, payload: prepared.payload, assertion });
    if (!r.recorded) return `${r.applied} signed by ${r.by} and sent: the session applies it once the call it is deciding is done`;
    return `${r.applied === 'resume' ? 'resumed' : 'budget raised'} by ${r.by}`;
  };
  const button = (id2: string, label: string, work: () => Promise<string>) => {
    const b = el('button', { id: id2 }, label);
    b.addEventListener('click', () => void run(label, work));
    return b;
  };
  return el(
    'section',
    { id: 'operator' },
    el('h2', {}, 'Operator'),
    el('div', { class: 'controls' }, reason,
      button('halt', 'Halt', async () => (await api(`${path}/halt`, { reason: reason.value }), 'halted')),
      button('pause', 'Pause', async () => (await api(`${path}/pause`, { reason: reason.value }), 'paused')),
      button('resume', 'Resume (passkey)', () => signed('resume', {}))),
    el('div', { class: 'controls' }, ...Object.values(budget),
      button('raise', 'Raise budget (passkey)', () => {
        const b: Record<string, number> = {};
        for (const [k, input] of Object.entries(budget)) if (input.value !== '') b[k] = Number(input.value);
        return signed('budget-raise', { budget: b });
      })),
    digest,
    out,
  );
}

export async function sessionPage(): Promise<void> {
  if (!(await signedIn())) return;
  const id = decodeURIComponent(location.pathname.slice('/sessions/'.length));
  const head = el('dl', { id: 'summary' });
  const chart = el('div', { class: 'intent' });
  const timeline = el('ol', { class: 'timeline', id: 'timeline' });
  const alerts = el('ul', { id: 'alerts' });
  let drawn = false;
  const refresh = async () => {
    let p: any;
    try {
      p = await api(`/api/sessions/${encodeURIComponent(id)}`);
    } catch (err) {
      status((err as Error).message, 'error');
      return;
    }
    const s = p.session;
    const live = p.live ? `${p.live.halted ? 'halted' : p.live.ended ? 'ended' : p.live.paused ? `paused${p.live.pausedTools?.length ? ` (tools: ${p.live.pausedTools.join(', ')})` : ''}` : 'running'} · mode ${p.live.mode} · ${p.live.pending} pending · left: ${p.live.budgetLeft.actions} actions, ${p.live.budgetLeft.writes} writes, ${p.live.budgetLeft.critical} critical` : `ended${s.finalState ? `: ${s.finalState}` : ''}`;
    head.replaceChildren(
      el('dt', {}, 'agent / owner'), el('dd', {}, `${s.agentId} for ${s.owner}`),
      el('dt', {}, 'intent'), el('dd', {}, s.intent),
      el('dt', {}, 'state'), el('dd', { id: 'state' }, live),
      el('dt', {}, 'intent score'), el('dd', {}, s.intentScore === undefined ? 'not scored' : Number(s.intentScore).toFixed(2)),
    );
    svgInto(chart, p.intentSvg);
    const start = Date.parse(s.startedAt);
    const earlier = p.omitted > 0 ? [el('li', { class: 'omitted' }, `${p.omitted} earlier entries: \`gatehouse trace ${id}\` has them all`)] : [];
    timeline.replaceChildren(...earlier, ...p.timeline.map((t: any) => entry(t, start)));
    alerts.replaceChildren(...p.alerts.map((a: any) => el('li', {}, el('code', {}, a.kind), ` ${a.message}`)));
    if (!drawn) {
      drawn = true;
      $('main').replaceChildren(
        el('h1', {}, 'Session ', el('code', {}, id)),
        head,
        el('h2', {}, 'Intent score over time'), chart,
        ...(p.canOperate ? [controls(id, refresh)] : []),
        el('h2', {}, 'Timeline'), timeline,
        el('h2', {}, 'Alerts'), alerts,
      );
    }
  };
  await refresh();
  setInterval(() => void refresh(), 2000);
}
