/**
 * Checking a client out of a pg pool safely: every store and activity that holds a client uses this.
 *
 * A connection that drops while a client is checked out makes pg emit `'error'` on that
 * client; with no listener Node turns it into an uncaught exception and the worker dies.
 * The listener keeps the error, so the caller's failing query reports it instead.
 */
import type { Pool, PoolClient } from 'pg';

export interface CheckedOutClient {
  readonly client: PoolClient;
  /** Returns the client to the pool; a connection that failed is destroyed, not reused. */
  release(failure?: Error): void;
}

export async function checkout(pool: Pool): Promise<CheckedOutClient> {
  const client = await pool.connect();
  let dropped: Error | undefined;
  const onError = (err: Error): void => {
    dropped = err;
  };
  client.on('error', onError);
  return {
    client,
    release(failure?: Error): void {
      client.off('error', onError);
      client.release(dropped ?? failure);
    },
  };
}
