import { redisOptionsFromEnv } from '../../adapters/redis-cache-env.js';
import { redisBudgetStore } from './budget-store.js';
import type { LimitsOptions } from './index.js';
import { redisRateLimiter } from './redis-rate-limiter.js';

/**
 * Limits settings from the gateway's environment (for runtime/gateway/main.ts):
 * - with `TOLLGATE_CACHE=redis`, rate limits and budgets are shared through `TOLLGATE_REDIS_URL`
 *   with the cache's connection settings (AUTH token, ACL user, IAM, cluster mode, CA); otherwise they are per task, in memory;
 * - `TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN` = `local` (default) | `open` | `closed`;
 * - `TOLLGATE_RATE_LIMIT_LOCAL_FRACTION` (0-1, default 1): each task's share of a limit while Redis is down;
 * - `TOLLGATE_BUDGET_ALERT_WEBHOOK`: budget alert and exhaustion events are POSTed there.
 */
export function limitsOptionsFromEnv(env: NodeJS.ProcessEnv): LimitsOptions {
  const out: LimitsOptions = {};
  const webhook = env.TOLLGATE_BUDGET_ALERT_WEBHOOK?.trim();
  if (webhook) out.alertWebhook = webhook;
  const url = env.TOLLGATE_REDIS_URL?.trim();
  if (env.TOLLGATE_CACHE?.trim() !== 'redis' || !url) return out;
  const connection = redisOptionsFromEnv(url, env);
  const mode = env.TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN?.trim() || 'local';
  if (mode !== 'local' && mode !== 'open' && mode !== 'closed') {
    throw new Error(`TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN must be "local", "open" or "closed", got "${mode}"`);
  }
  const fraction = env.TOLLGATE_RATE_LIMIT_LOCAL_FRACTION ? Number(env.TOLLGATE_RATE_LIMIT_LOCAL_FRACTION) : 1;
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`TOLLGATE_RATE_LIMIT_LOCAL_FRACTION must be in (0, 1], got "${env.TOLLGATE_RATE_LIMIT_LOCAL_FRACTION}"`);
  out.limiter = redisRateLimiter({ ...connection, onRedisDown: mode, localFraction: fraction });
  out.budgets = redisBudgetStore(connection);
  return out;
}
