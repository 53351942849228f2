/**
 * Vitest for `npm run mutation` (scripts/mutation.ts) only: the unit tests are node:test files, so
 * `node:test` is aliased to a shim over vitest's own functions. The group's test files come in
 * GATEHOUSE_MUTATION_TESTS (comma-separated), not in Stryker's `testFiles`: with that option Stryker 10.0.0
 * activates a static mutant (module-level code, e.g. a zod schema) only after the module has loaded,
 * so every static mutant would survive.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const tests = process.env.GATEHOUSE_MUTATION_TESTS;
if (!tests) throw new Error('GATEHOUSE_MUTATION_TESTS is not set: run mutation through `npm run mutation`');

export default defineConfig({
  root: resolve(__dirname, '..', '..'),
  resolve: { alias: { 'node:test': resolve(__dirname, 'node-test.ts') } },
  test: {
    include: tests.split(','),
    // the property tests run hundreds of cases per test, on a busy machine
    testTimeout: 60_000,
  },
});
