/**
 * Facts the docs and the help state about a deployment, checked against what builds and runs it:
 * the base image the Dockerfile uses, where `--temporal server`'s Web UI is (the console serves it),
 * and which process reads the worker's capacity knobs (`worker/main.ts` only, not `gatehouse start`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../../cli/program';
import { TEMPORAL_UI_PATH } from '../../console/temporal-ui-proxy';
import { ROOT } from '../e2e/processes';
import { pages } from './pages';

describe('deployment facts in the docs', () => {
  it('every node image the docs name is the one the Dockerfile builds on', () => {
    const images = new Set([...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM (node:\S+)/gm)].map((m) => m[1]));
    assert.equal(images.size, 1, 'one base image');
    const [image] = images;
    const named = pages().flatMap((page) => [...readFileSync(page, 'utf8').matchAll(/\bnode:\d[\w.-]*/g)].map((m) => `${page.slice(ROOT.length + 1)}: ${m[0]}`));
    assert.ok(named.length > 0, 'the production tutorial names the image');
    assert.deepEqual(named.filter((n) => !n.endsWith(`: ${image}`)), []);
  });

  it('`gatehouse start --help` says the full server\'s web ui is served by the console', () => {
    const start = buildProgram().commands.find((c) => c.name() === 'start');
    const temporal = start?.options.find((o) => o.long === '--temporal');
    assert.ok(temporal, '`gatehouse start --temporal`');
    assert.doesNotMatch(temporal.description, /no web ui/);
    assert.match(temporal.description, new RegExp(`\`server\` \\(.*web ui served by the console under ${TEMPORAL_UI_PATH}/`));
  });

  it('the capacity knobs are read by `worker/main.ts` alone, and the production tutorial says so', () => {
    const callers: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(join(ROOT, dir))) {
        const path = join(dir, name);
        if (statSync(join(ROOT, path)).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && /\bcapacityFromEnv\(/.test(readFileSync(join(ROOT, path), 'utf8'))) callers.push(path);
      }
    };
    for (const dir of ['worker', 'cli']) walk(dir);
    assert.deepEqual(callers.filter((path) => path !== join('worker', 'capacity.ts')), [join('worker', 'main.ts')]);
    const tutorial = readFileSync(join(ROOT, 'docs', 'tutorials', 'production.md'), 'utf8');
    const paragraph = tutorial.split(/\n\s*\n/).find((p) => p.includes('`GATEHOUSE_MAX_CACHED_SESSIONS` (`maxCachedWorkflows`'));
    assert.ok(paragraph, 'the tutorial\'s paragraph on the knobs');
    assert.match(paragraph, /`gatehouse start`'s worker does not read them/);
  });
});
