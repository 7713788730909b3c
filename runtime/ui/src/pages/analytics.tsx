import { useState } from 'preact/hooks';
import { api, ApiError, asList } from '../api.ts';
import { TimeChart, type Series } from '../chart.tsx';
import { apiQuery, FilterBar, useFilters } from '../filters.tsx';
import { fmtCost, fmtMs, fmtNum, pick } from '../format.ts';
import { Async, Empty, ErrorState, Field, PageHeader, useLoad, val } from '../ui.tsx';

/** Portkey's analytics graphs: `{ summary: {...}, data_points: [{ timestamp, ...numbers }] }`. */
interface Graph {
  summary?: Record<string, unknown>;
  data_points?: Record<string, unknown>[];
}

type Unit = 'count' | 'cost' | 'ms' | 'pct';

const GRAPHS: { id: string; title: string; unit: Unit; series: string[]; summary: string[] }[] = [
  { id: 'requests', title: 'Requests', unit: 'count', series: ['total', 'requests', 'count'], summary: ['total', 'requests'] },
  { id: 'cost', title: 'Cost', unit: 'cost', series: ['total', 'cost'], summary: ['total', 'cost'] },
  { id: 'tokens', title: 'Tokens', unit: 'count', series: ['total', 'tokens'], summary: ['total', 'tokens'] },
  { id: 'latency', title: 'Latency', unit: 'ms', series: ['p50', 'p95', 'p99'], summary: ['p50', 'p95', 'p99'] },
  { id: 'errors', title: 'Errors', unit: 'count', series: ['total', 'errors'], summary: ['total', 'errors'] },
  { id: 'cache-hit-rate', title: 'Cache hit rate', unit: 'pct', series: ['rate', 'hit_rate'], summary: ['rate', 'hit_rate'] },
];

function fmt(unit: Unit, v: unknown): string {
  if (unit === 'cost') return fmtCost(v, true);
  if (unit === 'ms') return fmtMs(v);
  // The API's rates are percentages already (0–100).
  if (unit === 'pct') return v === undefined || v === null ? '—' : `${fmtNum(v, 1)}%`;
  return fmtNum(v);
}

function toSeries(g: Graph, keys: string[]): { times: number[]; series: Series[] } {
  const points = g.data_points ?? [];
  const times = points.map((p) => new Date(String(pick(p, 'timestamp', 'time', 'bucket'))).getTime() / 1000);
  let present = keys.filter((k) => points.some((p) => typeof p[k] === 'number'));
  if (!present.length && points[0]) present = Object.keys(points[0]).filter((k) => typeof points[0][k] === 'number').slice(0, 4);
  // A series that is only the total when p-values exist would dwarf them; keep the first-listed match for single series.
  if (keys.length > 1 && !keys.slice(1).some((k) => present.includes(k))) present = present.slice(0, 1);
  if (keys[0] === 'total' || keys[0] === 'rate') present = present.slice(0, 1);
  return { times, series: present.map((k) => ({ label: k, values: points.map((p) => (typeof p[k] === 'number' ? (p[k] as number) : null)) })) };
}

function GraphCard(props: { def: (typeof GRAPHS)[number]; graph: Graph }) {
  const { def, graph } = props;
  const { times, series } = toSeries(graph, def.series);
  const summaryKeys = def.summary.filter((k) => graph.summary?.[k] !== undefined);
  return (
    <section class="chart" aria-labelledby={`g-${def.id}`}>
      <h2 id={`g-${def.id}`}>
        {def.title}
        {summaryKeys.length > 0 && (
          <span class="muted small">
            {' '}
            · {summaryKeys.map((k) => (summaryKeys.length > 1 ? `${k} ${fmt(def.unit, graph.summary![k])}` : fmt(def.unit, graph.summary![k]))).join(' · ')}
          </span>
        )}
      </h2>
      {times.length === 0 ? (
        <p class="muted">No data in this range.</p>
      ) : (
        <>
          <TimeChart times={times} series={series} label={`${def.title} over time`} format={(v) => fmt(def.unit, v)} />
          <details>
            <summary class="small">Data table</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  {series.map((s) => (
                    <th scope="col" key={s.label} class="num">
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {times.map((t, i) => (
                  <tr key={t}>
                    <td>{new Date(t * 1000).toLocaleString()}</td>
                    {series.map((s) => (
                      <td key={s.label} class="num">
                        {fmt(def.unit, s.values[i])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

function GroupTable(props: { title: string; rows: Record<string, unknown>[]; nameKeys: string[] }) {
  if (!props.rows.length) return <Empty title={`No ${props.title.toLowerCase()} in this range`} />;
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" class="num">
              Requests
            </th>
            <th scope="col" class="num">
              Cost
            </th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col" class="num">
              Avg latency
            </th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={i}>
              <td>{String(pick(r, ...props.nameKeys) ?? '—')}</td>
              <td class="num">{fmtNum(pick(r, 'requests', 'count', 'total_requests'))}</td>
              <td class="num">{fmtCost(pick(r, 'cost', 'total_cost'), true)}</td>
              <td class="num">{fmtNum(pick(r, 'total_tokens', 'tokens'))}</td>
              <td class="num">{fmtMs(pick(r, 'avg_latency', 'latency'))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function Analytics() {
  const f = useFilters();
  const [metaKey, setMetaKey] = useState('');
  const [metaDraft, setMetaDraft] = useState('');
  const q = apiQuery(f);
  const graphs = useLoad(
    async (signal) => {
      const results = await Promise.allSettled(GRAPHS.map((g) => api<Graph>(`/v1/analytics/graphs/${g.id}`, { signal, query: q })));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
      // All of them missing means the control plane has no analytics API (yet): one clear message.
      if (failures.length === results.length) throw failures.find((e) => !(e instanceof ApiError && e.notOffered)) ?? failures[0];
      return results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error)));
    },
    [JSON.stringify(f)],
  );
  const models = useLoad((signal) => api('/v1/analytics/groups/ai-models', { signal, query: { ...q, page_size: 10 } }).then(asList<Record<string, unknown>>), [JSON.stringify(f)]);
  const meta = useLoad(
    (signal) => (metaKey ? api(`/v1/analytics/groups/metadata/${encodeURIComponent(metaKey)}`, { signal, query: { ...q, page_size: 10 } }).then(asList<Record<string, unknown>>) : Promise.resolve(null)),
    [JSON.stringify(f), metaKey],
  );
  return (
    <>
      <PageHeader title="Analytics" description="Requests, cost, tokens, latency, errors and caching across your gateways. Charts follow the time range and filters." />
      <FilterBar />
      <Async load={graphs} feature="analytics (/v1/analytics)">
        {(list) => (
          <div class="grid-2">
            {list.map((g, i) =>
              g instanceof Error ? (
                <section class="chart" key={GRAPHS[i].id}>
                  <h2>{GRAPHS[i].title}</h2>
                  <ErrorState error={g} feature={`the ${GRAPHS[i].title.toLowerCase()} graph`} />
                </section>
              ) : (
                <GraphCard key={GRAPHS[i].id} def={GRAPHS[i]} graph={g} />
              ),
            )}
          </div>
        )}
      </Async>
      <h2 style="margin-top:1.5rem">Top models</h2>
      <Async load={models} feature="model breakdowns">
        {(d) => <GroupTable title="Top models" rows={d.data} nameKeys={['ai_model', 'model', 'name']} />}
      </Async>
      <h2 style="margin-top:1.5rem">Top metadata values</h2>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setMetaKey(metaDraft.trim());
        }}
        aria-label="Group by metadata key"
      >
        <Field label="Metadata key">{(id) => <input id={id} placeholder="_user or team" value={metaDraft} onInput={(e) => setMetaDraft(val(e))} />}</Field>
        <button type="submit" class="btn">
          Group
        </button>
      </form>
      {metaKey ? (
        <Async load={meta} feature="metadata breakdowns">
          {(d) => (d ? <GroupTable title={`By ${metaKey}`} rows={d.data} nameKeys={['metadata_value', 'value', 'name']} /> : null)}
        </Async>
      ) : (
        <p class="muted">Enter a metadata key (sent as x-portkey-metadata) to see its top values.</p>
      )}
    </>
  );
}
