import { HttpProblem } from '../../core/errors.js';

/** The error answers of the admin API, all in Portkey's `{ status: 'failure', message }` shape. */
export const badRequest = (message: string) => new HttpProblem(400, message);
export const unauthorized = (message: string) => new HttpProblem(401, message);
export const forbidden = (message: string) => new HttpProblem(403, message);
export const notFound = (message: string) => new HttpProblem(404, message);
export const conflict = (message: string) => new HttpProblem(409, message);

/** 429 with Retry-After (login rate limiting). */
export class HttpProblemTooMany extends HttpProblem {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(429, message);
  }
}
