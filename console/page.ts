/**
 * The page shell and the browser bundle. The bundle is built by esbuild (installed with tsx) from
 * `console/browser/` when the console starts — from the repository's sources only: no CDN, no
 * remote fonts, nothing fetched at run time. The shell's content security policy allows only this
 * origin's script and styles.
 */
import { join } from 'node:path';
import { build } from 'esbuild';

/** Builds the browser bundle in memory (one file, minified). */
export async function buildBundle(): Promise<string> {
  const out = await build({
    entryPoints: [join(__dirname, 'browser', 'app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f6f6f4; }
header { display: flex; justify-content: space-between; padding: .6rem 1.2rem; background: #1d2b36; color: #fff; }
header a { color: #fff; }
main { max-width: 60rem; margin: 1rem auto; padding: 0 1rem; }
article.approval { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 1rem 1.2rem; margin: 1rem 0; }
article h2 { margin: 0 0 .3rem; font-size: 1.15rem; }
.tool { font-family: ui-monospace, monospace; color: #a3261b; }
dl { display: grid; grid-template-columns: 12rem 1fr; gap: .25rem .8rem; }
dt { color: #555; } dd { margin: 0; }
pre.args { margin: 0; background: #f2f2ef; padding: .4rem; white-space: pre-wrap; overflow-wrap: anywhere; }
code { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
.actions { display: flex; gap: .5rem; margin-top: .8rem; }
.actions input { flex: 1; padding: .35rem; }
button { padding: .4rem .9rem; border-radius: 4px; border: 1px solid #888; background: #fff; cursor: pointer; }
button.approve { background: #1f7a3a; color: #fff; border-color: #1f7a3a; }
button.deny { background: #a3261b; color: #fff; border-color: #a3261b; }
.error { color: #a3261b; } .ok { color: #1f7a3a; }
.unseen-note { color: #7a4b00; font-weight: 600; margin: .6rem 0 0; }
#status { min-height: 1.4em; }
header nav a { margin: 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e2e2de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
form.filters, .controls { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .6rem 0; }
ol.timeline { list-style: none; padding: 0; border-left: 3px solid #1d2b36; }
ol.timeline li { margin: 0 0 .6rem; padding: .3rem .8rem; background: #fff; border: 1px solid #ddd; border-radius: 4px; margin-left: .6rem; }
ol.timeline li.note { background: #f2f2ef; }
li[data-status="executed"] { border-left: 4px solid #1f7a3a; } li[data-status="pending"] { border-left: 4px solid #c98a00; }
li[data-status="denied"], li[data-status="expired"] { border-left: 4px solid #a3261b; }
.when { color: #666; font-family: ui-monospace, monospace; font-size: .85em; margin-right: .5rem; }
article.alert { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; margin: .6rem 0; }
textarea#draft { width: 100%; min-height: 14rem; font-family: ui-monospace, monospace; }
.graph { overflow: auto; max-height: 36rem; background: #fff; border: 1px solid #ddd; }
`;

/** The one HTML page; the bundle routes by path. */
export function shell(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse console</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>Gatehouse</strong><nav><a href="/">Approvals</a> <a href="/sessions">Sessions</a> <a href="/alerts">Alerts</a> <a href="/policy">Policy</a></nav><span id="me"></span></header>
<main></main>
<p id="status" role="status"></p>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
}
