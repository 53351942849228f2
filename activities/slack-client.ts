/**
 * The Slack Web API client the approval activities post with.
 *
 * Its own retries are off: Temporal retries the activity, and a client still retrying after
 * the activity attempt timed out could post a second message for one approval.
 */
import { webApi } from '@slack/bolt';

export function createSlackClient(botToken: string, apiUrl?: string): webApi.WebClient {
  return new webApi.WebClient(botToken, { retryConfig: { retries: 0 }, ...(apiUrl ? { slackApiUrl: apiUrl } : {}) });
}
