import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../audit/migrate';
import { AuditStore } from '../audit/store';
import { buildTrace, renderTraceText } from '../audit/trace';
import { getSession, readEvents, readAlerts } from '../audit/queries';
import { startEmbeddedPostgres } from '../worker/devstack/postgres';
import { incidentSession } from '../test/audit/fixtures';
(async () => {
  const server = await startEmbeddedPostgres({ dataDir: await mkdtemp(join(tmpdir(), 'prof-')), removeDataDirOnStop: true, noFsync: true });
  await server.createDatabase('p');
  const pool = new pg.Pool({ connectionString: server.urlFor('p') });
  pool.on('error', () => undefined);
  await migrate(pool);
  const store = new AuditStore(pool);
  // realistic: 10,000 events made of incident-session-shaped proposals
  const s = incidentSession('big', '2026-11-01T10:00:00Z');
  await store.startSession(s.record);
  const per = s.events.slice(1, 11); // 10 events: 3 proposals
  const all = [] as any[];
  let seq = 0;
  for (let r = 0; all.length < 10000; r++) for (const e of per) { if (all.length >= 10000) break; seq++; all.push({ ...e, seq, proposalSeq: e.proposalSeq! + r * 3 }); }
  for (let i = 0; i < all.length; i += 900) await store.append(all.slice(i, i + 900));
  for (let run = 0; run < 3; run++) {
    let t = performance.now(); const c0 = process.cpuUsage();
    const { policy, ...session } = await getSession(pool, 'big');
    const t1 = performance.now();
    const links = await readEvents(pool, 'big');
    const t2 = performance.now(); const c2 = process.cpuUsage(c0);
    const alerts = await readAlerts(pool, 'big');
    const tr = buildTrace(session, links.map((l) => l.event), alerts);
    const t3 = performance.now(); const c3 = process.cpuUsage(c0);
    const text = renderTraceText(tr);
    const t4 = performance.now(); const c4 = process.cpuUsage(c0);
    console.log(`session ${(t1 - t).toFixed(0)} events ${(t2 - t1).toFixed(0)} build ${(t3 - t2).toFixed(0)} render ${(t4 - t3).toFixed(0)} bytes ${text.length} cpu: fetch ${((c2.user+c2.system)/1000).toFixed(0)} build ${((c3.user+c3.system-c2.user-c2.system)/1000).toFixed(0)} render ${((c4.user+c4.system-c3.user-c3.system)/1000).toFixed(0)}`);
  }
  const r = await pool.query("EXPLAIN ANALYZE SELECT * FROM events WHERE session_id = 'big' ORDER BY seq");
  console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
  await pool.end();
  await server.stop();
})();
