import { useState } from 'preact/hooks';
import { list } from '../api.ts';
import { fmtDate, maskSecrets, pick, pretty, resolveRange } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { Async, Empty, Field, PageHeader, Pager, RangePicker, useLoad, val } from '../ui.tsx';

type Entry = Record<string, unknown>;
const PAGE_SIZE = 50;

export default function AuditLog() {
  const { search } = useLocation();
  const page = Number(search.get('page') ?? 0) || 0;
  const range = search.get('range') ?? '7d';
  const [actor, setActor] = useState(search.get('actor') ?? '');
  const [resource, setResource] = useState(search.get('resource') ?? '');
  const { from, to } = resolveRange(range, search.get('from'), search.get('to'));
  const load = useLoad(
    (signal) =>
      list<Entry>('/v1/audit-logs', {
        signal,
        query: {
          start_time: from.toISOString(),
          end_time: to.toISOString(),
          actor_id: search.get('actor'),
          resource_type: search.get('resource'),
          page_size: PAGE_SIZE,
          current_page: page,
        },
      }),
    [search.toString()],
  );
  return (
    <>
      <PageHeader title="Audit log" description="Every change made through the control plane: who, what, when and from where." />
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ actor: actor || undefined, resource: resource || undefined, page: undefined });
        }}
      >
        <div class="form-grid">
          <RangePicker value={range} onChange={(r) => setQuery({ range: r, page: undefined })} from={search.get('from') ?? ''} to={search.get('to') ?? ''} onCustom={(f, t) => setQuery({ range: 'custom', from: f, to: t })} />
          <Field label="Actor (user or API key id)">{(id) => <input id={id} value={actor} onInput={(e) => setActor(val(e))} />}</Field>
          <Field label="Resource type">
            {(id) => (
              <select id={id} value={resource} onChange={(e) => setResource(val(e))}>
                <option value="">Any</option>
                {['configs', 'virtual_keys', 'api_keys', 'workspaces', 'workspace_users', 'organisation_users', 'prompts', 'guardrails', 'pricing', 'auth', 'organisations'].map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div class="field">
            <button type="submit" class="btn primary">
              Apply filters
            </button>
          </div>
        </div>
      </form>
      <Async load={load} feature="the audit log (/v1/audit-logs)" isEmpty={(d) => d.data.length === 0} empty={<Empty title="No changes in this range">Widen the time range or clear the filters.</Empty>}>
        {(d) => (
          <>
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Audit log entries</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Resource</th>
                    <th scope="col">From</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {d.data.map((e, i) => {
                    // The API's entry: actor {type, id}, resource {type, id}, request {method, path, status, id}.
                    const details = pick(e, 'request', 'details', 'changes', 'request_body', 'metadata');
                    const actorType = pick<string>(e, 'actor.type', 'actor_type');
                    return (
                      <tr key={String(pick(e, 'id') ?? i)}>
                        <td>{fmtDate(pick(e, 'created_at', 'timestamp', 'time'))}</td>
                        <td class="mono small">
                          {String(pick(e, 'actor.email', 'actor_email', 'actor.id', 'actor_id', 'user_id', 'api_key_id') ?? '—')}
                          {actorType && <div class="muted">{actorType.replace('_', ' ')}</div>}
                        </td>
                        <td>{String(pick(e, 'action', 'method') ?? '—')}</td>
                        <td class="mono small">
                          {String(pick(e, 'resource.type', 'resource_type') ?? '')} {String(pick(e, 'resource.id', 'resource_id') ?? '')}
                        </td>
                        <td class="mono small">{String(pick(e, 'ip', 'source_ip', 'client_ip') ?? '—')}</td>
                        <td>
                          {details !== undefined ? (
                            <details>
                              <summary>Show</summary>
                              <pre class="code">{pretty(maskSecrets(details))}</pre>
                            </details>
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
            <Pager page={page} pageSize={PAGE_SIZE} total={d.total} onPage={(p) => setQuery({ page: p ? String(p) : undefined })} label="Audit log" />
          </>
        )}
      </Async>
    </>
  );
}
