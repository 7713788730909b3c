/**
 * The two error shapes clients already parse (see docs/api-errors.md):
 * - inference routes answer OpenAI's `{ error: { message, type, param, code } }`;
 * - gateway validation answers Portkey's `{ status: 'failure', message }`.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface PortkeyFailureBody {
  status: 'failure';
  message: string;
}

export function openAIError(message: string, type = 'invalid_request_error', code: string | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export function portkeyFailure(message: string): PortkeyFailureBody {
  return { status: 'failure', message };
}

/** An error that already knows its HTTP status and the body to send. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = portkeyFailure(message),
  ) {
    super(message);
  }
}
