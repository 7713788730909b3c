import { useEffect, useState } from 'preact/hooks';
import { list } from '../api.ts';
import { fmtAge, fmtDate, fmtNum, pick } from '../format.ts';
import { Async, Empty, PageHeader, StatusBadge, useLoad } from '../ui.tsx';

type DataPlane = Record<string, unknown>;

/** Heartbeats come every 30 s: a gateway silent for 3 beats is stale, for 10 it is down. */
function health(dp: DataPlane, now: number): string {
  const reported = pick<string>(dp, 'health', 'status');
  const last = pick<string | number>(dp, 'last_seen_at', 'last_heartbeat_at', 'last_heartbeat');
  const age = last ? (now - new Date(last).getTime()) / 1000 : Infinity;
  if (age > 300) return 'unreachable';
  if (age > 90) return 'stale';
  if (pick(dp, 'cache') === 'down') return 'cache down';
  if (Number(pick(dp, 'revisions_behind') ?? 0) > 0 && Number(pick(dp, 'sync_lag_seconds') ?? 0) > 120) return 'behind';
  return reported ?? 'healthy';
}

export default function DataPlanes() {
  const load = useLoad((signal) => list<DataPlane>('/v1/data-planes', { signal }), []);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => {
      setNow(Date.now());
      if (document.visibilityState === 'visible') load.reload();
    }, 15_000);
    return () => clearInterval(h);
  }, []);
  return (
    <>
      <PageHeader
        title="Data planes"
        description="Gateways registered with this control plane: the version each runs, when it last checked in and how old its synced state is. Refreshes every 15 s."
      />
      <Async
        load={load}
        feature="the data-plane registry (/v1/data-planes)"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No gateway has checked in yet">
            <p>Start a gateway with its data-plane credential (tollgate gateway, or the DataPlane CDK construct). It appears here after its first heartbeat.</p>
          </Empty>
        }
      >
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Data planes</caption>
              <thead>
                <tr>
                  <th scope="col">Gateway</th>
                  <th scope="col">Version</th>
                  <th scope="col">Health</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">Sync age</th>
                  <th scope="col">Synced revision</th>
                  <th scope="col">Cache</th>
                  <th scope="col">Up since</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((dp, i) => {
                  const last = pick(dp, 'last_seen_at', 'last_heartbeat_at', 'last_heartbeat');
                  const lag = pick<number>(dp, 'sync_lag_seconds', 'sync_age_seconds');
                  const behind = pick<number>(dp, 'revisions_behind');
                  return (
                    <tr key={String(pick(dp, 'instance_id', 'id') ?? i)}>
                      <td class="mono">
                        {String(pick(dp, 'instance_id', 'name', 'id') ?? '—')}
                        {pick(dp, 'region', 'host') !== undefined && <div class="muted small">{String(pick(dp, 'region', 'host'))}</div>}
                      </td>
                      <td class="mono">{String(pick(dp, 'gateway_version', 'version') ?? '—')}</td>
                      <td>
                        <StatusBadge status={health(dp, now)} />
                      </td>
                      <td title={fmtDate(last)}>{fmtAge(last, now)}</td>
                      <td>{lag !== undefined ? `${fmtNum(lag, 1)} s` : '—'}</td>
                      <td class="mono">
                        {String(pick(dp, 'synced_version', 'revision') ?? '—')}
                        {behind ? <span class="muted"> ({behind} behind)</span> : null}
                      </td>
                      <td>
                        <StatusBadge status={pick<string>(dp, 'cache') ?? '—'} />
                      </td>
                      <td>{fmtDate(pick(dp, 'first_seen_at', 'created_at'))}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </>
  );
}
