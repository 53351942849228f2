/**
 * `node:test` under vitest, for mutation runs only: test/mutation/vitest.config.ts aliases `node:test` to
 * this file, so the unit tests run unchanged under `npm test` (node:test) and under Stryker's vitest runner
 * (in process, per-test coverage, no process per mutant). Only what those unit tests use.
 */
export { test, describe, it, beforeAll as before, afterAll as after, beforeEach, afterEach } from 'vitest';
