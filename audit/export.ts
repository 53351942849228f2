/**
 * Evidence export: one self-contained JSON document per session — the session, its policy
 * snapshot and hash, every event with its chain links, the alerts — that `gatehouse audit verify
 * --file` checks offline, with no database.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import type { AuditEventInput } from './types';
import { CHAIN_ALGORITHM, GENESIS_HASH } from './chain';
import { AuditUsageError } from './errors';
import { getSession, readAlerts, readEvents } from './queries';
import type { AlertView } from './queries';
import type { SessionView } from './rows';

export const EXPORT_FORMAT = 'gatehouse-audit-export';
export const EXPORT_VERSION = 1;

/** An event in an export: the recorded event and the hashes that chain it. */
export type ExportedEvent = AuditEventInput & { readonly prevHash: string; readonly hash: string };

/** The export document. */
export interface AuditExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  readonly exportedAt: string;
  readonly session: SessionView;
  /** `tools`: the catalog the session compiled its policy against (absent for sessions started before it was recorded). */
  readonly policy: { readonly hash: string; readonly document: unknown; readonly tools?: unknown };
  readonly chain: { readonly algorithm: string; readonly genesis: string; readonly length: number; readonly head: string };
  readonly events: readonly ExportedEvent[];
  readonly alerts: readonly AlertView[];
}

/** Builds the export of one session (`UnknownSessionError` when it is not recorded). */
export async function exportSession(pool: Pool, sessionId: string, now: Date = new Date()): Promise<AuditExport> {
  const { policy, tools, ...session } = await getSession(pool, sessionId);
  const links = await readEvents(pool, sessionId);
  const alerts = await readAlerts(pool, sessionId);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: now.toISOString(),
    session,
    policy: { hash: session.policyHash, document: policy, ...(tools !== undefined ? { tools } : {}) },
    chain: {
      algorithm: CHAIN_ALGORITHM,
      genesis: GENESIS_HASH,
      length: links.length,
      head: links[links.length - 1]?.hash ?? GENESIS_HASH,
    },
    events: links.map((l) => ({ ...l.event, prevHash: l.prevHash, hash: l.hash })),
    alerts,
  };
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a 64-digit hex sha256');
const exportSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.string(),
  session: z.object({ sessionId: z.string().min(1), policyHash: z.string() }).passthrough(),
  policy: z.object({ hash: z.string(), document: z.unknown(), tools: z.array(z.unknown()).optional() }),
  chain: z.object({ algorithm: z.literal(CHAIN_ALGORITHM), genesis: z.literal(GENESIS_HASH), length: z.number().int().nonnegative(), head: hex64 }),
  events: z.array(z.object({
    sessionId: z.string(),
    seq: z.number().int().positive(),
    kind: z.string(),
    at: z.string(),
    prevHash: hex64,
    hash: hex64,
  }).passthrough()),
  alerts: z.array(z.object({ kind: z.string(), message: z.string(), at: z.string() })),
});

/** Parses an export file's text; `AuditUsageError` naming the first problem when it is not one. */
export function parseExport(text: string, filename: string): AuditExport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AuditUsageError(`file \`${filename}\` is not JSON: ${(err as Error).message}`);
  }
  const parsed = exportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    throw new AuditUsageError(`file \`${filename}\` is not a gatehouse audit export: at \`${path}\`: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as unknown as AuditExport;
}
