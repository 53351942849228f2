import { createHarness } from '/work/main/test/workflows/harness';
(async () => {
  const h = await createHarness('dbg');
  const worker = await h.worker();
  await worker.runUntil(async () => {
    const s = await h.gh.startSession({ agentId: 'pause-bot', owner: 'eng-007', intent: 'list volumes' });
    console.log('started');
    await s.workflow.signal('pause', { by: 'oncall', reason: 'incident' });
    console.log('paused sent');
    const held = [1, 2, 3].map((n) => s.propose({ tool: 'test.slowWrite', args: { n }, reasoning: 'write' }).then((r) => { console.log('done', n, r.status); return r; }, (e) => { console.log('err', n, e); throw e; }));
    for (let i = 0; i < 20; i++) { const st = await s.state(); console.log('state', st.paused, st.counters.proposals); if (st.paused) break; await new Promise((r) => setTimeout(r, 200)); }
    await s.workflow.signal('resume', { by: 'oncall' });
    console.log('resumed');
    await Promise.race([Promise.all(held), new Promise((r) => setTimeout(r, 15000))]);
    console.log((await h.events(s.sessionId)).map((e) => `${e.seq}:${e.kind}`).join(' '));
    console.log(await s.state());
  });
  await h.close();
})();
