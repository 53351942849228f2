/**
 * `audit.modify`: in the catalog so the policy has something to block (and `policy analyze` a
 * path to show), but it can never do anything: the policy always blocks it, and its handler
 * refuses too, in case a misconfigured policy ever lets it through.
 */
import { z } from 'zod';
import { defineTool } from '../define';
import { ToolError } from '../errors';

export const auditModify = defineTool({
  name: 'audit.modify',
  description: 'Modify the audit log (always blocked)',
  effect: 'destructive',
  environment: 'production',
  resource: 'audit',
  input: z.object({ sessionId: z.string().max(128).optional(), seq: z.number().int().min(1).optional(), change: z.string().max(1000) }).strict(),
  output: z.never(),
  timeoutMs: 5_000,
  retry: { maxAttempts: 1, nonRetryable: ['AuditImmutable'] },
  idempotent: false,
  async handler(): Promise<never> {
    throw new ToolError('AuditImmutable', 'the audit log is append-only: `audit.modify` never runs');
  },
});
