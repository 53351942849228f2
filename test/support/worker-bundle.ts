/**
 * The session workflow bundle as a file, for worker processes (`startWorkerProcess`'s
 * `workflowBundleFile`): the run's shared bundle (`shared-bundle.ts`) written once per test file, so a
 * spawned worker starts without bundling the workflows again (webpack: seconds of CPU per process).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionBundle } from '../workflows/harness';

const files = new Map<string, Promise<string>>();

/** `<dir>/workflows.js`, today's session workflow bundle (the caller's folder: removed with it). */
export function workerBundleFile(dir: string): Promise<string> {
  let file = files.get(dir);
  if (!file) {
    file = sessionBundle().then((bundle) => {
      const path = join(dir, 'workflows.js');
      writeFileSync(path, bundle.code);
      return path;
    });
    files.set(dir, file);
  }
  return file;
}
