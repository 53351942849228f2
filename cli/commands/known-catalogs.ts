/**
 * The tools of the catalogs a deployment ran, for `gatehouse audit verify --catalog`: `sample`
 * (the sample catalog) or a module exporting `createCatalog` (as `gatehouse start --catalog` and
 * the worker's `GATEHOUSE_CATALOG` take), every version the deployment ran.
 */
import pg from 'pg';
import { catalogInfo } from '../../activities/tools/catalog';
import type { ToolInfo } from '../../policies/types';
import { loadCatalog } from '../../worker/catalog-module';

export async function knownToolsOf(specs: readonly string[]): Promise<ToolInfo[]> {
  // The command runs under tsx's require hook only; a catalog module is imported, as the worker (run with `--import tsx`) imports it.
  // (Its types need a newer module resolution than this project's, hence require.)
  if (specs.some((s) => s !== 'sample')) (require('tsx/esm/api') as { register(): unknown }).register();
  // A catalog is built around a production pool; only its definitions are read here. A pool to nowhere
  // (not PG* variables' defaults): a module that queries at construction fails instead of reaching a database.
  const pool = new pg.Pool({ connectionString: 'postgres://catalog-definitions-only@127.0.0.1:1/none', max: 1 });
  pool.on('error', () => undefined);
  try {
    const tools: ToolInfo[] = [];
    for (const spec of specs) tools.push(...catalogInfo(await loadCatalog(spec === 'sample' ? undefined : spec, pool)));
    return tools;
  } finally {
    await pool.end();
  }
}
