import { z } from 'zod';

/**
 * Portkey's gateway config, as accepted in `x-portkey-config` and stored by `/v1/configs`.
 * The control plane validates with this same schema, so a config that saves is a config the gateway runs.
 */

const statusCodes = z.array(z.number().int().min(100).max(599));

export const retrySchema = z
  .object({
    attempts: z.number().int().min(0).max(5),
    on_status_codes: statusCodes.optional(),
    use_retry_after_header: z.boolean().optional(),
  })
  .strict();

export const cacheSchema = z
  .object({
    mode: z.enum(['simple', 'semantic']),
    max_age: z.number().int().positive().optional(),
  })
  .strict();

export const strategySchema = z
  .object({
    mode: z.enum(['single', 'fallback', 'loadbalance', 'conditional']),
    on_status_codes: statusCodes.optional(),
    conditions: z
      .array(z.object({ query: z.record(z.string(), z.unknown()), then: z.string() }).strict())
      .optional(),
    default: z.string().optional(),
    /** loadbalance: the same values of these fields (e.g. `metadata.user_id`) always reach the same target. */
    sticky_session: z.object({ hash_fields: z.array(z.string().min(1)).min(1), ttl: z.number().int().positive().optional() }).strict().optional(),
  })
  .strict();

/** A per-target circuit breaker: opens after failures, skips the target while open, half-opens after the cooldown. */
export const circuitBreakerSchema = z
  .object({
    failure_threshold: z.number().int().positive().optional(),
    failure_threshold_percentage: z.number().min(1).max(100).optional(),
    minimum_requests: z.number().int().positive().optional(),
    /** Milliseconds the circuit stays open before one trial request is let through. */
    cooldown_interval: z.number().int().positive().optional(),
    failure_status_codes: statusCodes.optional(),
  })
  .strict()
  .refine((c) => c.failure_threshold !== undefined || c.failure_threshold_percentage !== undefined, { message: 'needs failure_threshold or failure_threshold_percentage' });

const hookList = z.array(z.union([z.string(), z.record(z.string(), z.unknown())]));

/** Fields a target may carry; a config's top level may carry them too (a single-target config). */
const targetFields = {
  provider: z.string().min(1).optional(),
  api_key: z.string().min(1).optional(),
  virtual_key: z.string().min(1).optional(),
  custom_host: z.string().url().optional(),
  override_params: z.record(z.string(), z.unknown()).optional(),
  weight: z.number().min(0).optional(),
  on_status_codes: statusCodes.optional(),
  retry: retrySchema.optional(),
  cache: cacheSchema.optional(),
  request_timeout: z.number().int().positive().optional(),
  forward_headers: z.array(z.string()).optional(),
  name: z.string().optional(),
  index: z.number().int().optional(),
  // Provider-specific options (azure resource, aws region, ...) pass through to the provider module.
  azure_resource_name: z.string().optional(),
  azure_deployment_id: z.string().optional(),
  azure_api_version: z.string().optional(),
  aws_region: z.string().optional(),
  aws_access_key_id: z.string().optional(),
  aws_secret_access_key: z.string().optional(),
  aws_session_token: z.string().optional(),
  aws_role_arn: z.string().optional(),
  aws_external_id: z.string().optional(),
  vertex_project_id: z.string().optional(),
  vertex_region: z.string().optional(),
  vertex_service_account_json: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  azure_auth_mode: z.enum(['api_key', 'entra', 'ad']).optional(),
  azure_ad_token: z.string().optional(),
  openai_organization: z.string().optional(),
  openai_project: z.string().optional(),
  cb_config: circuitBreakerSchema.optional(),
  strict_open_ai_compliance: z.boolean().optional(),
  before_request_hooks: hookList.optional(),
  after_request_hooks: hookList.optional(),
  input_guardrails: hookList.optional(),
  output_guardrails: hookList.optional(),
};

export interface GatewayConfig {
  strategy?: z.infer<typeof strategySchema>;
  targets?: GatewayConfig[];
  provider?: string;
  api_key?: string;
  virtual_key?: string;
  custom_host?: string;
  override_params?: Record<string, unknown>;
  weight?: number;
  on_status_codes?: number[];
  retry?: z.infer<typeof retrySchema>;
  cache?: z.infer<typeof cacheSchema>;
  request_timeout?: number;
  forward_headers?: string[];
  name?: string;
  index?: number;
  azure_resource_name?: string;
  azure_deployment_id?: string;
  azure_api_version?: string;
  aws_region?: string;
  aws_access_key_id?: string;
  aws_secret_access_key?: string;
  aws_session_token?: string;
  aws_role_arn?: string;
  aws_external_id?: string;
  vertex_project_id?: string;
  vertex_region?: string;
  vertex_service_account_json?: string | Record<string, unknown>;
  azure_auth_mode?: 'api_key' | 'entra' | 'ad';
  azure_ad_token?: string;
  openai_organization?: string;
  openai_project?: string;
  cb_config?: z.infer<typeof circuitBreakerSchema>;
  strict_open_ai_compliance?: boolean;
  before_request_hooks?: unknown[];
  after_request_hooks?: unknown[];
  input_guardrails?: unknown[];
  output_guardrails?: unknown[];
}

export const gatewayConfigSchema: z.ZodType<GatewayConfig> = z.lazy(() =>
  z
    .object({
      ...targetFields,
      strategy: strategySchema.optional(),
      targets: z.array(gatewayConfigSchema).min(1).optional(),
    })
    .strict()
    .superRefine((cfg, ctx) => {
      const mode = cfg.strategy?.mode;
      if (mode && mode !== 'single' && !cfg.targets) {
        ctx.addIssue({ code: 'custom', path: ['targets'], message: `strategy.mode "${mode}" needs a "targets" array` });
      }
      if (mode === 'conditional' && !cfg.strategy?.conditions?.length) {
        ctx.addIssue({ code: 'custom', path: ['strategy', 'conditions'], message: 'conditional mode needs "conditions"' });
      }
      if (mode === 'conditional' && cfg.targets) {
        const names = new Set(cfg.targets.map((t) => t.name).filter(Boolean));
        cfg.strategy?.conditions?.forEach((c, i) => {
          if (!names.has(c.then)) ctx.addIssue({ code: 'custom', path: ['strategy', 'conditions', i, 'then'], message: `no target is named "${c.then}"` });
        });
        const fallbackName = cfg.strategy?.default;
        if (fallbackName !== undefined && !names.has(fallbackName)) ctx.addIssue({ code: 'custom', path: ['strategy', 'default'], message: `no target is named "${fallbackName}"` });
      }
      if (!cfg.targets && !cfg.provider && !cfg.virtual_key) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'a config needs "targets", a "provider" or a "virtual_key"',
        });
      }
    }),
);

/** Turns zod issues into one line that names each failing field, e.g. `targets.1.weight: expected number`. */
export function describeIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseGatewayConfig(input: unknown, root = 'config'): ParseResult<GatewayConfig> {
  const result = gatewayConfigSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, message: describeIssues(result.error, root) };
}
