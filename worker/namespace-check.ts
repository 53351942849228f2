/**
 * Checks, before a worker bundles its workflow code and polls, that its namespace exists on the
 * Temporal server. Without it the SDK fails only after the bundle (a minute on a busy machine),
 * with a transport error; here a missing namespace is one clear sentence naming the fix.
 */
import type { NativeConnection } from '@temporalio/worker';

/** Thrown when the worker's namespace does not exist on the server it connected to. */
export class NamespaceNotFoundError extends Error {
  readonly type = 'NamespaceNotFound';
  constructor(readonly namespace: string) {
    super(
      `namespace \`${namespace}\` does not exist on this temporal server: set TEMPORAL_NAMESPACE to an existing one, ` +
        `or create it (\`temporal operator namespace create --namespace ${namespace}\`; on Temporal Cloud, in the cloud console)`,
    );
    this.name = 'NamespaceNotFoundError';
  }
}

/** Resolves when `namespace` exists; rejects with {@link NamespaceNotFoundError} when the server says it does not. */
export async function assertNamespaceExists(connection: NativeConnection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    // gRPC NOT_FOUND; any other failure (permissions on a cloud API key, say) is the SDK's to report.
    if ((err as { code?: number }).code === 5) throw new NamespaceNotFoundError(namespace);
  }
}
