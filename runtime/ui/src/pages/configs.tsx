import { list } from '../api.ts';
import { fmtDate } from '../format.ts';
import { Async, Empty, PageHeader, StatusBadge, useLoad } from '../ui.tsx';

export interface ConfigItem {
  id: string;
  slug: string;
  name: string;
  status?: string;
  is_default?: number | boolean;
  version?: number;
  workspace_id?: string;
  created_at?: string;
  last_updated_at?: string;
  config?: unknown;
}

export default function Configs() {
  const load = useLoad((signal) => list<ConfigItem>('/v1/configs', { signal }), []);
  return (
    <>
      <PageHeader
        title="Configs"
        description="Routing configs (fallbacks, load balancing, retries, caching) the gateway applies when a request names them in x-portkey-config."
        actions={
          <a class="btn primary" href="/configs/new">
            New config
          </a>
        }
      />
      <Async
        load={load}
        feature="configs"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No configs yet">
            <p>
              Create one to add fallbacks or load balancing. <a href="/configs/new">Create a config</a>
            </p>
          </Empty>
        }
      >
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Configs</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Version
                  </th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <a href={`/configs/${encodeURIComponent(c.slug)}`}>{c.name}</a>
                      {c.is_default ? (
                        <>
                          {' '}
                          <span class="badge">default</span>
                        </>
                      ) : null}
                    </td>
                    <td class="mono">{c.slug}</td>
                    <td>
                      <StatusBadge status={c.status ?? 'active'} />
                    </td>
                    <td class="num">{c.version ?? '—'}</td>
                    <td>{fmtDate(c.last_updated_at ?? c.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </>
  );
}
