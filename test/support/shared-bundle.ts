/**
 * Workflow bundles shared by every test file of one `npm test` run. Bundling the workflows with
 * webpack costs about 1.5 s and 2 s of CPU; without this, each of a dozen files built the same
 * bundle again. Under the runner (`test/run.ts` sets `GATEHOUSE_TEST_BUNDLE_DIR` to a folder of
 * its own run) the first file that needs a bundle builds it and writes it there, and the others
 * read it: one build per kind and run, from the code as it is when the run starts, so a bundle is
 * never stale. A file run alone, or anything going wrong with the shared copy (a builder that
 * died, an unreadable file), falls back to building in this process: sharing is only ever faster.
 */
import { appendFileSync, existsSync, openSync, closeSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { eventually } from './eventually';

/** The environment variable through which the runner names the run's bundle folder. */
export const BUNDLE_DIR_ENV = 'GATEHOUSE_TEST_BUNDLE_DIR';

/** A bundler logger that shows only errors: what every test that bundles workflows passes. */
export function quietBundleLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta), log: noop };
}

/** Longest a file waits for another file's build before building itself. */
const WAIT_MS = 120_000;

/**
 * The bundle named `kind` (one name per set of bundle options: the caller's `build` must always
 * build the same bundle for the same `kind`), built at most once per run across test files.
 */
export async function sharedBundle(kind: string, build: () => Promise<WorkflowBundleWithSourceMap>): Promise<WorkflowBundleWithSourceMap> {
  const dir = process.env[BUNDLE_DIR_ENV];
  if (!dir || !existsSync(dir)) return build();
  const file = join(dir, `${kind}.json`);
  const note = (what: 'built' | 'shared') => {
    try {
      appendFileSync(join(dir, 'bundles.log'), `${kind} ${what}\n`);
    } catch {
      // only for the runner's summary
    }
  };
  const lock = `${file}.lock`;
  for (;;) {
    const ready = read(file);
    if (!ready && existsSync(file)) return build(); // unreadable: never loop on it
    if (ready) {
      note('shared');
      return ready;
    }
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return build();
      // Another file is building it: wait for its result, or take over if that builder is gone.
      const outcome = await eventually(() => (existsSync(file) ? 'ready' : builderGone(lock) ? 'gone' : undefined), {
        what: `the shared workflow bundle \`${kind}\` from another test file`,
        timeoutMs: WAIT_MS,
        everyMs: 50,
      }).catch(() => 'timeout' as const);
      if (outcome === 'ready') continue;
      if (outcome === 'timeout') return build();
      try {
        unlinkSync(lock);
      } catch {
        // Someone else took over first; the loop sees their lock.
      }
      continue;
    }
    try {
      writeFileSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    try {
      const bundle = await build();
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(bundle));
      renameSync(tmp, file);
      note('built');
      return bundle;
    } catch (err) {
      // Leave the next file a chance to build it; this one reports its own failure.
      try {
        unlinkSync(lock);
      } catch {
        // gone already
      }
      throw err;
    }
  }
}

function read(file: string): WorkflowBundleWithSourceMap | undefined {
  try {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
    return typeof bundle.code === 'string' && bundle.code.length > 0 ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** True once the process that holds `lock` has exited without writing the bundle. */
function builderGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return !existsSync(lock);
  }
  if (!Number.isInteger(pid) || pid <= 0) return false; // written a moment later
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
