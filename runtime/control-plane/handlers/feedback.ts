import { z } from 'zod';
import { newId } from '../../core/secrets.js';
import { withCaller } from '../analytics/access.js';
import { jsonParam } from '../db/json-param.js';
import { controlPlaneHandler } from '../http/handler.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';

const value = z.number().int().min(-10).max(10);
const weight = z.number().min(0).max(1);
const metadata = z.record(z.string(), z.unknown());

/** Portkey documents `trace_id`; its JS SDK's type says `traceID`. Both are accepted. */
const createItem = z
  .object({
    trace_id: z.string().min(1).max(255).optional(),
    traceID: z.string().min(1).max(255).optional(),
    value,
    weight: weight.optional(),
    metadata: metadata.optional(),
  })
  .refine((b) => b.trace_id || b.traceID, { message: 'trace_id: required', path: ['trace_id'] });
const updateBody = z.object({ value, weight: weight.optional(), metadata: metadata.optional(), feedbackID: z.string().optional() });

const SCOPES = ['logs.write', 'completions.write', 'feedback.write'];

/**
 * Feedback on a request, joined to it by trace id: `POST /v1/feedback` (one object or an array),
 * `PUT /v1/feedback/:id`. Shows in log details and in the feedback analytics graphs.
 */
export const handler = controlPlaneHandler('feedback', {
  'POST /v1/feedback': withCaller(SCOPES, async ({ ctx, event, body }, caller) => {
    let raw: unknown = body;
    // A JSON array body (several feedbacks) arrives here unparsed: parseJsonBody accepts objects only.
    if (event.body && event.body.trimStart().startsWith('[')) {
      try {
        raw = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
      } catch {
        throw badRequest('request body is not valid JSON');
      }
    }
    const items = validate(z.union([createItem, z.array(createItem).min(1).max(100)]), raw);
    const list = Array.isArray(items) ? items : [items];
    const ids: string[] = [];
    for (const item of list) {
      const traceId = (item.trace_id ?? item.traceID)!;
      const { rows } = await ctx.db.query<{ workspace_id: string | null }>(
        'SELECT workspace_id FROM request_metrics WHERE organisation_id = $1 AND trace_id = $2 ORDER BY created_at DESC LIMIT 1',
        [caller.organisationId, traceId],
      );
      const id = newId('fb-');
      await ctx.db.query(
        `INSERT INTO feedback (organisation_id, id, workspace_id, trace_id, value, weight, metadata, api_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`,
        [caller.organisationId, id, rows[0]?.workspace_id ?? caller.workspaceId, traceId, item.value, item.weight ?? 1, item.metadata ? jsonParam(item.metadata) : null, caller.apiKeyId],
      );
      ids.push(id);
    }
    return json(200, { status: 'success', message: 'feedback saved', feedback_ids: ids, feedback_id: ids });
  }),

  'PUT /v1/feedback/{id}': withCaller(SCOPES, async ({ ctx, params, body }, caller) => {
    const input = validate(updateBody, body);
    const { rows } = await ctx.db.query<{ id: string }>(
      `UPDATE feedback SET value = $3, weight = coalesce($4, weight), metadata = coalesce($5::jsonb, metadata), updated_at = now()
       WHERE organisation_id = $1 AND id = $2 RETURNING id`,
      [caller.organisationId, params.id ?? '', input.value, input.weight ?? null, input.metadata ? jsonParam(input.metadata) : null],
    );
    if (!rows[0]) throw notFound(`feedback "${params.id}" not found`);
    return json(200, { status: 'success', message: 'feedback updated', feedback_ids: [rows[0].id], feedback_id: [rows[0].id] });
  }),
});
