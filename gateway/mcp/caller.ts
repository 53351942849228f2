/** Who is calling: what a verified agent credential says (identity never comes from the request body). */
export interface McpCaller {
  readonly agentId: string;
  readonly owner: string;
  readonly policies: readonly string[];
  /** The bearer token itself: the session starts with it as its `credential`. */
  readonly token: string;
}
