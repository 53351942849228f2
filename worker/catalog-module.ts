/**
 * A tool catalog of your own, from a module (`gatehouse start --catalog <module>`, the worker's
 * `GATEHOUSE_CATALOG`): it exports `createCatalog({ productionPool })`, returning the catalog (or a
 * promise of it). Without one, the sample catalog.
 */
import { isAbsolute, resolve } from 'node:path';
import type pg from 'pg';
import type { ToolCatalog } from '../activities/tools/catalog';
import { createSampleCatalog } from '../activities/tools/sample';

/** Thrown for a catalog module that cannot be loaded or exports no `createCatalog`. */
export class CatalogModuleError extends Error {
  readonly type = 'CatalogModuleError';
}

/** Loads the catalog module at `modulePath` (relative to the working folder), or the sample catalog when none is given. */
export async function loadCatalog(modulePath: string | undefined, productionPool: pg.Pool): Promise<ToolCatalog> {
  if (!modulePath) return createSampleCatalog({ productionPool });
  const full = isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath);
  let mod: { createCatalog?: unknown };
  try {
    mod = (await import(full)) as { createCatalog?: unknown };
  } catch (err) {
    throw new CatalogModuleError(`cannot load catalog module \`${modulePath}\`: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (typeof mod.createCatalog !== 'function') throw new CatalogModuleError(`catalog module \`${modulePath}\` does not export \`createCatalog\``);
  return (mod.createCatalog as (o: { productionPool: pg.Pool }) => ToolCatalog | Promise<ToolCatalog>)({ productionPool });
}
