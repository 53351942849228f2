/** Upstream MCP servers: their configuration, connections, catalog tools and the manager that ties them to the worker. */
export { isStdio, loadUpstreamConfig, parseUpstreamConfig, SERVER_NAME, UpstreamConfigError, upstreamConfigSchema } from './config';
export type { ConfigIssue, HttpUpstream, NamedUpstream, StdioUpstream, UpstreamServerConfig } from './config';
export { UpstreamConnection, type UpstreamState } from './connection';
export { UpstreamManager, type UpstreamManagerOptions } from './manager';
export { compileInputSchema, jsonSchemaDefaults, publishedTool, sensitiveMismatches, upstreamInputSchema, upstreamToolDefinition } from './tools';
export { ensureInFlight, IN_FLIGHT_DDL } from './in-flight';
export { unofferedToolName } from './tool-names';
