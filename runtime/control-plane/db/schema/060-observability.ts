import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/**
 * Observability (issue 6): one row per gateway request (the metrics store's default and the log
 * index), feedback joined by trace id, where each data plane can be reached for customer-mode
 * logs, and control-plane-mode log bodies when no object store is configured. Ids 60-69 are
 * reserved for observability so parallel work on other tables never collides on an id.
 */
export const m060: Migration = {
  id: 60,
  name: 'observability: request metrics, feedback, data-plane endpoints, log bodies',
  statements: [
    `CREATE TABLE request_metrics (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      id text NOT NULL,
      workspace_id text,
      created_at timestamptz NOT NULL,
      ingested_at timestamptz NOT NULL DEFAULT now(),
      source_id text,
      api_key_id text,
      virtual_key text,
      config_id text,
      config_version integer,
      prompt_id text,
      prompt_version integer,
      provider text,
      model text,
      endpoint text NOT NULL,
      method text NOT NULL,
      stream boolean NOT NULL,
      status integer NOT NULL,
      success boolean NOT NULL,
      cache_status text,
      retry_count integer NOT NULL,
      last_used_option_index text,
      rescued_by text,
      req_units integer NOT NULL,
      res_units integer NOT NULL,
      total_units integer NOT NULL,
      units_estimated boolean NOT NULL,
      cost double precision NOT NULL,
      currency text NOT NULL,
      cost_unknown boolean NOT NULL,
      total_ms integer NOT NULL,
      upstream_ms integer NOT NULL,
      gateway_ms integer NOT NULL,
      trace_id text,
      span_id text,
      parent_span_id text,
      span_name text,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      end_user text,
      client_runtime text,
      client_runtime_version text,
      client_sdk text,
      client_sdk_version text,
      log_location text,
      log_key text,
      log_token text,
      PRIMARY KEY (organisation_id, id)
    )`,
    `CREATE INDEX request_metrics_time ON request_metrics (organisation_id, created_at DESC)`,
    `CREATE INDEX request_metrics_trace ON request_metrics (organisation_id, trace_id) WHERE trace_id IS NOT NULL`,
    `CREATE INDEX request_metrics_metadata ON request_metrics USING gin (metadata jsonb_path_ops)`,
    ...tenantTable('request_metrics', { workspaceColumn: 'workspace_id' }),

    `CREATE TABLE feedback (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      id text NOT NULL,
      workspace_id text,
      trace_id text NOT NULL,
      value integer NOT NULL CHECK (value BETWEEN -10 AND 10),
      weight double precision NOT NULL DEFAULT 1,
      metadata jsonb,
      api_key_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, id)
    )`,
    `CREATE INDEX feedback_trace ON feedback (organisation_id, trace_id)`,
    `CREATE INDEX feedback_time ON feedback (organisation_id, created_at DESC)`,
    ...tenantTable('feedback', { workspaceColumn: 'workspace_id' }),

    `CREATE TABLE data_plane_endpoints (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      credential_id text NOT NULL,
      gateway_url text NOT NULL,
      gateway_version text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, credential_id)
    )`,
    ...tenantTable('data_plane_endpoints'),

    `CREATE TABLE log_bodies (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      key text NOT NULL,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, key)
    )`,
    ...tenantTable('log_bodies'),
  ],
};
