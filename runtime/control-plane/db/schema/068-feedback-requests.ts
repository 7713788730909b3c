import type { Migration } from '../migrations.js';
import { ROLLUP_ROLE } from './064-rollup-watermark.js';
import { ROLLUP_LOCK_KEY } from './065-daily-rollups.js';
import { tenantTable } from './rls.js';

/**
 * The request columns feedback analytics filter and group on: the same names as in
 * `request_metrics`, so a filter's SQL applies to `feedback_requests` unchanged.
 */
export const FEEDBACK_REQUEST_COLUMNS = [
  'organisation_id', 'id', 'trace_id', 'created_at', 'workspace_id', 'provider', 'model', 'status', 'success', 'cache_status',
  'api_key_id', 'virtual_key', 'config_id', 'prompt_id', 'span_id', 'cost', 'total_units', 'req_units', 'res_units', 'total_ms', 'metadata',
] as const;

const cols = FEEDBACK_REQUEST_COLUMNS.join(', ');
const colsOf = (alias: string) => FEEDBACK_REQUEST_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/**
 * Links every request below the roll-up watermark to the traces of existing feedback (this
 * migration's backfill; the 10M-row bench runs it after generating feedback). Existing feedback
 * keeps a NULL `link_xid`, which counts as already linked.
 */
export function feedbackLinkBackfillSql(where = 'true'): string {
  return `INSERT INTO feedback_requests (${cols})
    SELECT ${colsOf('r')} FROM (SELECT DISTINCT organisation_id, trace_id FROM feedback WHERE ${where}) t
    JOIN request_metrics r ON r.organisation_id = t.organisation_id AND r.trace_id = t.trace_id
    WHERE r.ingest_xid IS NULL OR r.ingest_xid < (SELECT rolled_to FROM metric_rollup_state WHERE id = 1)
    ON CONFLICT DO NOTHING`;
}

/**
 * Feedback joined to requests without a lookup per feedback (issue 6: feedback graphs under a
 * request filter, feedback by model and the groups' feedback columns looked up the request of each
 * of ~100,000 feedback rows in a month by trace id in the 10M-row table: 0.6–2.8 s).
 * `feedback_requests` holds a copy of the filter and group columns of every request whose trace has
 * feedback (a trace may hold several requests, so this is per request, not a column set on the
 * feedback row). The background roll-up fills it from both sides past the same xid watermark as the
 * metric rollups: new requests whose trace has feedback, and the requests of new feedback's traces
 * (feedback may come before its request). A request is linked once some feedback of its trace and
 * the request are both below the watermark; analytics read the few pairs past it from the raw tables
 * (analytics/feedback.ts). Feedback's own columns (value, weight) stay on `feedback`, so
 * `PUT /v1/feedback/:id` needs no change here.
 */
export const m068: Migration = {
  id: 68,
  name: 'observability: requests of traces with feedback',
  statements: [
    `SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`,
    `ALTER TABLE feedback ADD COLUMN link_xid xid8`,
    `ALTER TABLE feedback ALTER COLUMN link_xid SET DEFAULT pg_current_xact_id()`,
    `CREATE INDEX feedback_link_xid ON feedback (link_xid)`,
    `CREATE TABLE feedback_requests (
      organisation_id text NOT NULL,
      id text NOT NULL,
      trace_id text NOT NULL,
      created_at timestamptz NOT NULL,
      workspace_id text,
      provider text,
      model text,
      status integer NOT NULL,
      success boolean NOT NULL,
      cache_status text,
      api_key_id text,
      virtual_key text,
      config_id text,
      prompt_id text,
      span_id text,
      cost double precision NOT NULL,
      total_units integer NOT NULL,
      req_units integer NOT NULL,
      res_units integer NOT NULL,
      total_ms integer NOT NULL,
      metadata jsonb NOT NULL,
      PRIMARY KEY (organisation_id, id)
    )`,
    `CREATE INDEX feedback_requests_trace ON feedback_requests (organisation_id, trace_id, created_at DESC)`,
    `CREATE INDEX feedback_requests_time ON feedback_requests (organisation_id, created_at)`,
    ...tenantTable('feedback_requests', { workspaceColumn: 'workspace_id' }),
    `GRANT SELECT, INSERT ON feedback_requests TO ${ROLLUP_ROLE}`,
    `CREATE POLICY rollup_write ON feedback_requests TO ${ROLLUP_ROLE} USING (true) WITH CHECK (true)`,
    `GRANT SELECT ON feedback TO ${ROLLUP_ROLE}`,
    `CREATE POLICY rollup_read ON feedback FOR SELECT TO ${ROLLUP_ROLE} USING (true)`,
    ...['request_metrics', 'feedback', 'feedback_requests'].map((t) => `ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`),
    feedbackLinkBackfillSql(),
    ...['request_metrics', 'feedback', 'feedback_requests'].map((t) => `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`),
    `ANALYZE feedback`,
    `ANALYZE feedback_requests`,
  ],
};
