/** The tool catalog: define tools, build catalogs, and the activities that run them. */
export { defineTool } from './define';
export type { AnyToolDefinition, EstimateContext, ToolContext, ToolDefinition, ToolRetry, ToolSpec } from './define';
export { catalogInfo, createCatalog, describeCatalog, redactArgs, ToolCatalog } from './catalog';
export type { ToolDescriptor } from './catalog';
export { CatalogError, classifyError, ToolArgumentsError, ToolError, ToolOutputError, UnknownToolError } from './errors';
export type { ToolIssue } from './errors';
export { REDACTED, redactAllStrings, redactPaths } from './redact';
export { MAX_ARGS_BYTES } from './validate';
export { ensureLedger, LEDGER_DDL } from './ledger';
export { createToolActivities } from './activities';
export type { AuditSink, PrepareCallInput, PrepareCallResult, RunToolInput, RunToolResult, ToolActivities, ToolFailureInfo } from './activities';
export { createSampleCatalog, seedSampleProduction, SAMPLE_TOOLS } from './sample';
