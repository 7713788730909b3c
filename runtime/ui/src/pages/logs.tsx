import { useEffect, useState } from 'preact/hooks';
import { list } from '../api.ts';
import { apiQuery, FilterBar, useFilters } from '../filters.tsx';
import { fmtCost, fmtDate, fmtMs, fmtNum, pick } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { Async, Empty, PageHeader, Pager, StatusBadge, useLoad } from '../ui.tsx';

export type LogRow = Record<string, unknown>;

export const logField = {
  id: (l: LogRow) => String(pick(l, 'id', 'log_id') ?? ''),
  time: (l: LogRow) => pick(l, 'created_at', 'time_of_generation', 'timestamp'),
  model: (l: LogRow) => pick<string>(l, 'ai_model', 'model', 'ai_org_model', 'request.body.model'),
  provider: (l: LogRow) => pick<string>(l, 'ai_provider', 'provider'),
  status: (l: LogRow) => pick<string | number>(l, 'response_status_code', 'status_code', 'status'),
  cost: (l: LogRow) => pick<number>(l, 'cost'),
  tokens: (l: LogRow) => pick<number>(l, 'total_units', 'total_tokens', 'tokens.total', 'usage.total_tokens'),
  latency: (l: LogRow) => pick<number>(l, 'response_time', 'total_ms', 'latency_ms', 'timings.total', 'timings.total_ms'),
  cache: (l: LogRow) => pick<string>(l, 'cache_status'),
  trace: (l: LogRow) => pick<string>(l, 'trace_id'),
};

const PAGE_SIZE = 50;

export default function Logs() {
  const f = useFilters();
  const { search } = useLocation();
  const page = Number(search.get('page') ?? 0) || 0;
  const [live, setLive] = useState(false);
  const [tick, setTick] = useState(0);
  const load = useLoad(
    (signal) => list<LogRow>('/v1/logs', { signal, query: { ...apiQuery(f), page_size: PAGE_SIZE, current_page: live ? 0 : page } }),
    [JSON.stringify(f), page, tick, live],
  );
  // Live tail: poll the newest page every 3 s while the tab is visible.
  useEffect(() => {
    if (!live) return;
    const h = setInterval(() => document.visibilityState === 'visible' && setTick((t) => t + 1), 3000);
    return () => clearInterval(h);
  }, [live]);

  return (
    <>
      <PageHeader
        title="Logs"
        description="Every request the gateways served: who called what, what it cost and how long it took. Open a row for the full request and response."
        actions={
          <label class="check">
            <input type="checkbox" checked={live} onChange={(e) => setLive((e.currentTarget as HTMLInputElement).checked)} />
            {live ? (
              <span>
                <span class="live-dot" aria-hidden="true" />
                Live tail on
              </span>
            ) : (
              'Live tail'
            )}
          </label>
        }
      />
      <FilterBar optionsReady={load.status !== 'loading' || load.data !== undefined} />
      <Async
        load={load}
        feature="log search (/v1/logs)"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No logs match">
            <p>
              Widen the time range or clear filters. No traffic yet? Send a request through the gateway with an API key from the <a href="/api-keys">API keys</a> page.
            </p>
          </Empty>
        }
      >
        {(d) => (
          <>
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Logs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Status</th>
                    <th scope="col">Model</th>
                    <th scope="col">Provider</th>
                    <th scope="col" class="num">
                      Tokens
                    </th>
                    <th scope="col" class="num">
                      Cost
                    </th>
                    <th scope="col" class="num">
                      Latency
                    </th>
                    <th scope="col">Cache</th>
                    <th scope="col">Trace</th>
                  </tr>
                </thead>
                <tbody>
                  {d.data.map((l) => {
                    const id = logField.id(l);
                    return (
                      <tr key={id}>
                        <td>
                          <a href={`/logs/${encodeURIComponent(id)}`}>{fmtDate(logField.time(l))}</a>
                        </td>
                        <td>
                          <StatusBadge status={logField.status(l)} />
                        </td>
                        <td>{logField.model(l) ?? '—'}</td>
                        <td>{logField.provider(l) ?? '—'}</td>
                        <td class="num">{fmtNum(logField.tokens(l))}</td>
                        <td class="num">{fmtCost(logField.cost(l), true)}</td>
                        <td class="num">{fmtMs(logField.latency(l))}</td>
                        <td>{logField.cache(l) ?? '—'}</td>
                        <td class="mono small">
                          {logField.trace(l) ? (
                            <button type="button" class="btn small ghost" onClick={() => setQuery({ trace_id: logField.trace(l) })} aria-label={`Filter by trace ${logField.trace(l)}`}>
                              {String(logField.trace(l)).slice(0, 12)}
                            </button>
                          ) : (
                            '—'
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            {!live && <Pager page={page} pageSize={PAGE_SIZE} total={d.total} onPage={(p) => setQuery({ page: p ? String(p) : undefined })} label="Logs" />}
          </>
        )}
      </Async>
    </>
  );
}
