import { list } from '../api.ts';
import { fmtNum, pick } from '../format.ts';
import { useLoad } from '../ui.tsx';
import type { LogRow } from './logs.tsx';

type Target = { virtual_key?: string; provider?: string; strategy?: { mode?: string }; targets?: Target[] };

/** One target the gateway reached on the way to the answer, in the order it tried them. */
export interface Hop {
  path: string;
  label: string;
  outcome: 'failed' | 'answered' | 'chosen';
}

/**
 * The targets a request went through, from the index path the gateway records (`config.targets[1]`)
 * and the config version that routed it: in a fallback group every target before the one that
 * answered was tried and failed; in any other group only the chosen one was tried.
 */
export function fallbackHops(config: Target | undefined, path: string): Hop[] {
  const hops: Hop[] = [];
  let node: Target | undefined = config;
  let prefix = 'config';
  const steps = [...path.matchAll(/targets\[(\d+)\]/g)].map((m) => Number(m[1]));
  steps.forEach((index, depth) => {
    const last = depth === steps.length - 1;
    const group = node?.targets ?? [];
    const describe = (i: number) => {
      const t = group[i];
      return [t?.virtual_key ?? t?.provider, t?.strategy?.mode && `${t.strategy.mode} group`].filter(Boolean).join(' · ') || 'target';
    };
    if (node?.strategy?.mode === 'fallback') {
      for (let i = 0; i < index; i++) hops.push({ path: `${prefix}.targets[${i}]`, label: describe(i), outcome: 'failed' });
    }
    hops.push({ path: `${prefix}.targets[${index}]`, label: describe(index), outcome: last ? 'answered' : 'chosen' });
    prefix = `${prefix}.targets[${index}]`;
    node = group[index];
  });
  return hops;
}

/** The config version that routed the log (the index row has its id and version; the versions API takes the slug). */
async function routedConfig(configId: string, version: number | undefined, signal: AbortSignal): Promise<Target | undefined> {
  const configs = await list<{ id: string; slug: string; config?: Target }>('/v1/configs', { signal, query: { page_size: 500 } });
  const found = configs.data.find((c) => c.id === configId || c.slug === configId);
  if (!found) return undefined;
  if (version === undefined) return found.config;
  const versions = await list<{ version: number; config: Target }>(`/v1/configs/${encodeURIComponent(found.slug)}/versions`, { signal, query: { page_size: 500 } });
  return versions.data.find((v) => v.version === version)?.config ?? found.config;
}

export function FallbackPath(props: { log: LogRow }) {
  const path = pick<string>(props.log, 'last_used_option_index');
  const configId = pick<string>(props.log, 'config_id');
  const version = pick<number>(props.log, 'config_version');
  const retries = pick<number>(props.log, 'retry_count', 'retry_attempt_count');
  const rescued = pick<string>(props.log, 'rescued_by');
  const config = useLoad((signal) => (configId && path ? routedConfig(configId, version, signal).catch(() => undefined) : Promise.resolve(undefined)), [configId, version, path]);
  const hops = path ? fallbackHops(config.data, path) : [];
  return (
    <>
      <dl class="kv">
        <dt>Retries</dt>
        <dd>{fmtNum(retries ?? 0)}</dd>
        <dt>Rescued by</dt>
        <dd>{rescued ?? 'nothing (the first attempt answered, or the request failed)'}</dd>
        <dt>Target that answered</dt>
        <dd class="mono">{path ?? 'the request named its provider directly (no config targets)'}</dd>
      </dl>
      {hops.length > 0 && (
        <ol class="timeline" aria-label="Fallback path">
          {hops.map((h) => (
            <li key={h.path} class={h.outcome === 'failed' ? 'failed' : 'used'}>
              <span class="mono">{h.path}</span> · {h.label} · <strong>{h.outcome}</strong>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

