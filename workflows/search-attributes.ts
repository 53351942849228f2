/**
 * Typed keys of the search attributes every session carries (names in `contract.ts`), so fleet
 * controls can find sessions by agent, owner, mode and tools used. Workflow-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './contract';

export const AGENT_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.agentId, SearchAttributeType.KEYWORD);
export const OWNER_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.owner, SearchAttributeType.KEYWORD);
export const MODE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.mode, SearchAttributeType.KEYWORD);
export const TOOLS_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.tools, SearchAttributeType.KEYWORD_LIST);
