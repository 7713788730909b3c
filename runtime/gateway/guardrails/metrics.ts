import type { LimitsStats } from '../limits/index.js';
import type { GuardrailStats } from './index.js';

/** Prometheus text for the guardrail and limit counters (append to GET /metrics). */
export function guardrailMetrics(g: GuardrailStats | undefined, l: LimitsStats | undefined): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
  if (g) {
    counter('tollgate_guardrail_requests_total', 'Requests whose route ran guardrail hooks.', g.requests);
    counter('tollgate_guardrail_checks_total', 'Guardrail checks run.', g.checks);
    counter('tollgate_guardrail_failed_hooks_total', 'Hooks that failed (246 or 446).', g.failed_hooks);
    counter('tollgate_guardrail_denied_total', 'Requests denied by a guardrail (446).', g.denied);
    counter('tollgate_guardrail_transformed_total', 'Requests or answers rewritten by a guardrail (redaction).', g.transformed);
  }
  if (l) {
    counter('tollgate_rate_limit_admitted_total', 'Requests admitted by rate limits and budgets.', l.admitted);
    counter('tollgate_rate_limited_total', 'Requests refused by a rate limit (429, or 503 when failing closed).', l.limited);
    counter('tollgate_budget_exhausted_total', 'Requests refused by an exhausted budget (412).', l.budget_exhausted);
    counter('tollgate_rate_limit_degraded_total', 'Rate-limit decisions made without the shared store.', l.degraded);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
