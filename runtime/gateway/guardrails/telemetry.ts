import type { ServerResponse } from 'node:http';
import { guardrailResults } from './index.js';

/**
 * What a request log records of its guardrails: every hook's result, including the ones a client
 * never sees (async hooks, after-hooks on a stream, and any hook under strict OpenAI compliance).
 * The log is built after the response, off its path; async hooks still running then are left out.
 */
export function guardrailLogFields(res: ServerResponse | undefined): { hook_results?: Record<string, unknown> } {
  const record = res ? guardrailResults(res) : undefined;
  if (!record) return {};
  return {
    hook_results: {
      before_request_hooks: record.before_request_hooks,
      after_request_hooks: record.after_request_hooks,
      verdict: record.verdict,
      denied: record.denied,
      status: record.status ?? null,
      transformed: record.transformed,
    },
  };
}
