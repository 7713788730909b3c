import type { z } from 'zod';
import { describeIssues } from '../../core/config-schema.js';
import { badRequest } from './problems.js';

/** Parses a request body (or query) with zod; a failure is a 400 whose message names each bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw badRequest(describeIssues(result.error, root));
  return result.data;
}
