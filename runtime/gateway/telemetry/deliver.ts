import { Agent, request } from 'undici';
import { TOLLGATE_VERSION } from '../../core/version.js';

/**
 * Posts telemetry batches to the control plane over kept-alive connections. undici's `request`
 * writes the body string to the socket as it is; `fetch` turned each ~0.5 MB batch into a web
 * stream, cloned it and copied it again, which cost more CPU than encoding the batch.
 */
export class ControlPlanePoster {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 4 });

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async post(path: string, body: string, timeoutMs = 10_000): Promise<void> {
    const res = await request(`${this.baseUrl}${path}`, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, 'x-tollgate-gateway-version': TOLLGATE_VERSION },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text().catch(() => '');
    // 4xx other than 408/429 will not get better by retrying, but dropping silently loses data:
    // treat everything non-2xx as a failure; the spool bounds the cost.
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`control plane answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
