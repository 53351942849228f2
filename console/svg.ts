/**
 * The console's drawings, rendered on the server as inline SVG (no chart library, no script): the
 * intent score over a session's life, and the paths `policy analyze` finds (read → … → target),
 * one row per path, each step coloured by what the policy does there and the blocker named. Every
 * text that comes from a document or a trail is escaped.
 */
import type { PathAnalysis } from '../policies/analyze';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A small line chart of the intent score (0–1) over time; a dashed line at the review threshold when given. */
export function intentChart(series: readonly { at: string; score: number }[], reviewBelow?: number): string {
  const w = 320;
  const h = 90;
  const pad = 6;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="intent-chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="intent score over time">`;
  const frame = `<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" fill="#fff" stroke="#ccc"/>`;
  if (series.length === 0) return `${open}${frame}<text x="${w / 2}" y="${h / 2}" text-anchor="middle" font-size="12" fill="#777">not scored yet</text></svg>`;
  const t0 = Date.parse(series[0]!.at);
  const t1 = Date.parse(series[series.length - 1]!.at);
  const span = Math.max(1, t1 - t0);
  const x = (at: string) => (series.length === 1 ? w / 2 : pad + ((Date.parse(at) - t0) / span) * (w - 2 * pad));
  const y = (score: number) => pad + (1 - Math.min(1, Math.max(0, score))) * (h - 2 * pad);
  const points = series.map((p) => `${x(p.at).toFixed(1)},${y(p.score).toFixed(1)}`).join(' ');
  const threshold = reviewBelow === undefined ? '' : `<line x1="0" x2="${w}" y1="${y(reviewBelow).toFixed(1)}" y2="${y(reviewBelow).toFixed(1)}" stroke="#a3261b" stroke-dasharray="4 3"/>`;
  const dots = series.map((p) => `<circle class="point" cx="${x(p.at).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="2.5" fill="#1d2b36"><title>${esc(p.at)}: ${p.score.toFixed(2)}</title></circle>`).join('');
  return `${open}${frame}${threshold}<polyline fill="none" stroke="#1d2b36" stroke-width="1.5" points="${points}"/>${dots}</svg>`;
}

const STEP_FILL: Readonly<Record<string, string>> = { allow: '#e8f3ea', approve: '#fbeed0', deny: '#f6d6d3' };
const STATUS_INK: Readonly<Record<string, string>> = { blocked: '#a3261b', approval: '#8a5a00', autonomous: '#1f4f8a' };

/**
 * The paths as a graph: one row per path, a box per tool, arrows between; a step the policy holds
 * is amber, one it denies red; at the right, the path's status and its blocker (the first step
 * that does not simply run, with its rules). At most `limit` rows are drawn.
 */
export function pathsGraph(analysis: PathAnalysis, limit = 300): string {
  const paths = analysis.paths.slice(0, limit);
  const box = 150;
  const gap = 28;
  const row = 30;
  const cols = Math.max(2, analysis.maxLength);
  const left = 90;
  const right = 420;
  const w = left + cols * (box + gap) + right;
  const h = 24 + Math.max(1, paths.length) * row + 8;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="paths-graph" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="ui-monospace, monospace" font-size="11" role="img" aria-label="paths from read tools to dangerous ones">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
    `<text x="4" y="14" font-weight="bold">status</text><text x="${left}" y="14" font-weight="bold">read → … → destructive / blocked / forbidden sequence</text><text x="${left + cols * (box + gap)}" y="14" font-weight="bold">blocker</text>`,
  ];
  if (paths.length === 0) out.push(`<text x="${left}" y="40" fill="#777">no path from a read tool to a dangerous one</text>`);
  paths.forEach((p, i) => {
    const y = 24 + i * row;
    const blocker = p.steps.find((s) => s.verdict === 'deny') ?? p.steps.find((s) => s.verdict === 'approve');
    out.push(`<g class="path" data-path="${esc(p.tools.join(' → '))}" data-status="${p.status}">`);
    out.push(`<text x="4" y="${y + 16}" fill="${STATUS_INK[p.status] ?? '#333'}" font-weight="bold">${p.status}</text>`);
    p.steps.forEach((s, j) => {
      const x = left + j * (box + gap);
      const name = s.tool.length > 22 ? `${s.tool.slice(0, 21)}…` : s.tool;
      out.push(`<g class="step" data-verdict="${s.verdict}"><rect x="${x}" y="${y}" width="${box}" height="${row - 8}" rx="4" fill="${STEP_FILL[s.verdict] ?? '#eee'}" stroke="${s === blocker ? '#333' : '#bbb'}"/><text x="${x + 6}" y="${y + 15}">${esc(name)}</text><title>${esc(`${s.tool}: ${s.verdict}${s.rules.length ? ` (${s.rules.join(', ')})` : ''}`)}</title></g>`);
      if (j > 0) out.push(`<line x1="${x - gap + 1}" y1="${y + (row - 8) / 2}" x2="${x - 2}" y2="${y + (row - 8) / 2}" stroke="#555" marker-end="url(#arrow)"/>`);
    });
    const why = blocker ? `${blocker.tool}: ${blocker.rules.join(', ') || blocker.verdict}${p.unlockable ? ' (unlockable)' : ''}` : 'nothing stops it';
    out.push(`<text class="blocker" x="${left + cols * (box + gap)}" y="${y + 15}">${esc(why)}</text></g>`);
  });
  out.push('</svg>');
  return out.join('');
}
