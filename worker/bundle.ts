/**
 * How the workflow bundle is built: the session workflow's entry point and the modules every
 * cached session shares. The policy engine, its trust checks and their libraries (zod, the curves)
 * are pure, so the reusable V8 context loads them once (`preloadModules`), frozen, instead of each
 * cached session evaluating a copy of its own: ≈ 1 MB of heap per cached session before, ≈ 0.2 MB
 * after (BENCHMARKS, "An open session costs little").
 *
 * A shared module is frozen by the SDK: a module listed here must keep no per-workflow state, and a
 * zod schema the sandbox parses must not be reachable from its exports (zod caches on the schema).
 */
import { DefaultLogger, bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** Where the workflow bundle's entry point is (bundled by the SDK at worker creation). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Loaded once per worker thread and shared by every session (with what they import). */
export const SHARED_WORKFLOW_MODULES: readonly string[] = [
  require.resolve('../policies'),
  require.resolve('../policies/trust'),
  require.resolve('../policies/admissions'),
  require.resolve('../policies/agent-id'),
  require.resolve('../policies/json-depth'),
  // Builds noble's Ed25519 table and warms both curves once per context (bench:trust's sandbox part).
  require.resolve('../workflows/crypto-preload'),
];

/** The worker's bundler options when it bundles the workflows itself. */
export const WORKFLOW_BUNDLER_OPTIONS = { preloadModules: [...SHARED_WORKFLOW_MODULES] };

/** Today's workflows, bundled as a worker bundles them (tests and benchmarks build it once per process). */
export function bundleGatehouseWorkflows(options: Partial<Omit<BundleOptions, 'workflowsPath'>> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN'), ...WORKFLOW_BUNDLER_OPTIONS, ...options });
}
