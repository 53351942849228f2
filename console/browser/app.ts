/**
 * The console's page code (bundled by esbuild from this folder; no CDN). Routes by path:
 * `/enrol#<secret>` enrols a passkey, `/signin` signs in, `/` is the approvals inbox, kept live
 * by server-sent events; `/sessions`, `/sessions/<id>`, `/alerts` and `/policy` are in their own files. Approve / deny asks the server for the decision payload, shows its
 * digest, and has the passkey sign exactly that digest.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';

import { hiddenValuesWarning, redactedCountIn } from '../../approvals/redaction';
import { hiddenCount, hiddenCountIn, shownJson, shownName } from '../../approvals/shown-text';
import { $, api, el, signedIn, status } from './dom';
import { alertsPage } from './alerts';
import { policyPage } from './policy';
import { sessionPage, sessionsPage } from './sessions';

async function enrolPage(): Promise<void> {
  const secret = location.hash.slice(1);
  const main = $('main');
  main.replaceChildren(el('h1', {}, 'Enrol a passkey'), el('p', { id: 'who' }, 'checking the invite…'));
  try {
    const { challengeId, options, principal, role } = await api('/api/enrol/options', { invite: secret });
    $('#who').textContent = `You are enrolling as ${principal} (${role}). Your passkey's public key will be granted to that name.`;
    const button = el('button', { id: 'enrol' }, 'Create passkey');
    main.append(button);
    button.addEventListener('click', async () => {
      try {
        const response = await startRegistration({ optionsJSON: options });
        const me = await api('/api/enrol/verify', { invite: secret, challengeId, response });
        status(`enrolled: ${me.principal} (${me.role}), key ${me.keyId}`);
        location.assign('/');
      } catch (err) {
        status(`enrolment refused: ${(err as Error).message}`, 'error');
      }
    });
  } catch (err) {
    status((err as Error).message, 'error');
  }
}

async function signInPage(): Promise<void> {
  const button = el('button', { id: 'signin' }, 'Sign in with your passkey');
  $('main').replaceChildren(el('h1', {}, 'Sign in'), button);
  button.addEventListener('click', async () => {
    try {
      const { challengeId, options } = await api('/api/signin/options', {});
      const response = await startAuthentication({ optionsJSON: options });
      await api('/api/signin/verify', { challengeId, response });
      location.assign('/');
    } catch (err) {
      status(`sign-in refused: ${(err as Error).message}`, 'error');
    }
  });
}

function countdown(deadline: string): string {
  const s = Math.max(0, Math.round((Date.parse(deadline) - Date.now()) / 1000));
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** A warning when the agent's text holds characters shown as escapes (each is drawn as `\uXXXX`). */
function hiddenNote(a: any): HTMLElement[] {
  const n = hiddenCountIn(a.redactedArgs) + hiddenCount(a.intent) + hiddenCount(a.reasoning);
  return n === 0 ? [] : [el('p', { class: 'hidden-note' }, `${n} hidden character${n === 1 ? '' : 's'} (drawing nothing, reordering text or looking like a space) ${n === 1 ? 'is' : 'are'} shown as \\uXXXX escapes.`)];
}

/** Right above Approve: how many values of the call are redacted (shown by their length only), which the person approves unseen. */
function unseenNote(a: any): HTMLElement[] {
  const warning = hiddenValuesWarning(redactedCountIn(a.redactedArgs));
  return warning === undefined ? [] : [el('p', { class: 'unseen-note' }, warning)];
}

function card(a: any): HTMLElement {
  const reason = el('input', { type: 'text', class: 'reason', placeholder: 'reason (required to deny)' }) as HTMLInputElement;
  const digest = el('code', { class: 'digest' }, '');
  const approve = el('button', { class: 'approve' }, 'Approve');
  const deny = el('button', { class: 'deny' }, 'Deny');
  const outcome = el('p', { class: 'outcome' });
  const vote = async (verdict: 'approve' | 'deny') => {
    outcome.textContent = '';
    outcome.className = 'outcome';
    try {
      const prepared = await api(`/api/approvals/${encodeURIComponent(a.approvalId)}/prepare`, { verdict, reason: reason.value });
      digest.textContent = `signing digest ${prepared.digest}`;
      const assertion = await startAuthentication({ optionsJSON: prepared.options });
      const r = await api(`/api/approvals/${encodeURIComponent(a.approvalId)}/decide`, { payload: prepared.payload, assertion });
      outcome.textContent = `${verdict === 'approve' ? 'approved' : 'denied'} by ${r.approver}: ${r.status}`;
    } catch (err) {
      const code = (err as any).code;
      // Not answered is not refused: the session has the vote and counts or refuses it when it runs.
      if (code === 'not-answered') {
        outcome.textContent = `sent, not answered yet (${code}): ${(err as Error).message}`;
        // A second vote now would be the person's twice (refused by the session, an alert against them).
        (approve as HTMLButtonElement).disabled = true;
        (deny as HTMLButtonElement).disabled = true;
        return;
      }
      outcome.textContent = `refused (${code}): ${(err as Error).message}`;
      outcome.className = 'outcome error';
    }
  };
  approve.addEventListener('click', () => void vote('approve'));
  deny.addEventListener('click', () => void vote('deny'));
  const who = a.groupsNow.map((g: any) => `${g.group}: ${g.members.join(', ') || 'nobody'}`).join('; ');
  // A recent call's tool is the agent's text (a denied call names any tool): its own element, quoted unless a tool name.
  const recent = el('ol', { class: 'recent' }, ...a.recentCalls.map((c: any) => el('li', {}, `#${c.sequence} `, el('code', { class: 'recent-tool' }, shownName(c.tool)), ` ${c.verdict} → ${c.status}`)));
  return el(
    'article',
    { class: 'approval', 'data-approval-id': a.approvalId, 'data-view': JSON.stringify(a) },
    el('h2', {}, el('span', { class: 'tool' }, shownName(a.tool)), ` in session ${a.sessionId}`),
    el('p', { class: 'deadline' }, 'decide within ', el('strong', { 'data-deadline': a.deadline }, countdown(a.deadline)), ` (escalation level ${a.escalationLevel})`),
    el('dl', {},
      el('dt', {}, 'agent / owner'), el('dd', {}, `${a.agentId} for ${a.owner}`),
      el('dt', {}, 'intent'), el('dd', {}, a.intent),
      el('dt', {}, 'reasoning'), el('dd', { class: 'reasoning' }, a.reasoning || '—'),
      el('dt', {}, 'arguments (redacted)'), el('dd', {}, el('pre', { class: 'args' }, shownJson(a.redactedArgs)), ...hiddenNote(a)),
      el('dt', {}, 'blast radius'), el('dd', { class: 'blast' }, a.blastRadius === undefined ? 'not measured' : `${a.blastRadius} rows`),
      el('dt', {}, 'why held'), el('dd', { class: 'reasons' }, ...a.reasons.map((r: any) => el('div', {}, el('code', {}, r.rule), ` ${r.message}`))),
      el('dt', {}, 'who may decide now'), el('dd', { class: 'who' }, `${who}; ${a.approversRequired} approval(s) needed, approved so far: ${a.approvedBy.join(', ') || 'none'}${a.fourEyes ? `; four eyes: not ${a.owner}` : ''}`),
      el('dt', {}, 'recent calls'), el('dd', {}, recent),
      el('dt', {}, 'call digest'), el('dd', {}, el('code', { class: 'call-digest' }, a.callDigest)),
    ),
    ...unseenNote(a),
    el('div', { class: 'actions' }, reason, approve, deny),
    digest,
    outcome,
  );
}

function renderInbox(view: { items: any[]; silent: number }): void {
  const items = view.items;
  const list = $('#inbox');
  const byId = new Map(items.map((a) => [a.approvalId as string, a]));
  // A card being acted on (an outcome shown, or its reason being typed) stays as it is; the others follow the push.
  const busy = (c: HTMLElement) => Boolean(c.querySelector('.outcome')?.textContent) || c.contains(document.activeElement);
  for (const c of [...list.querySelectorAll<HTMLElement>('article.approval')]) {
    const a = byId.get(c.dataset.approvalId!);
    if (busy(c)) continue;
    if (!a) c.remove();
    else if (c.dataset.view !== JSON.stringify(a)) c.replaceWith(card(a));
  }
  for (const a of items) if (!list.querySelector(`article[data-approval-id="${CSS.escape(a.approvalId)}"]`)) list.append(card(a));
  // Cards left out because their session did not answer in time: said, so nobody takes the list as complete.
  const silent = view.silent > 0 ? ` · ${view.silent} more waiting on a session that does not answer; shown once it does` : '';
  $('#count').textContent = `${items.length} pending${silent}`;
  // When the first push with cards was drawn (bench:console's inbox part reads it).
  if (items.length > 0 && !document.body.dataset.rendered) document.body.dataset.rendered = String(performance.now());
}

async function inboxPage(): Promise<void> {
  if (!(await signedIn())) return;
  $('main').replaceChildren(el('h1', {}, 'Approvals ', el('small', { id: 'count' }, '')), el('section', { id: 'inbox' }));
  const events = new EventSource('/api/events');
  events.addEventListener('inbox', (e) => renderInbox(JSON.parse((e as MessageEvent).data)));
  setInterval(() => {
    for (const s of document.querySelectorAll<HTMLElement>('[data-deadline]')) s.textContent = countdown(s.dataset.deadline!);
  }, 1000);
}

const routes: Record<string, () => Promise<void>> = { '/enrol': enrolPage, '/signin': signInPage, '/sessions': sessionsPage, '/alerts': alertsPage, '/policy': policyPage };
const page = location.pathname.startsWith('/sessions/') ? sessionPage : routes[location.pathname] ?? inboxPage;
void page();
