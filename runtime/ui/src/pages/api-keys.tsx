import { useState } from 'preact/hooks';
import { api, list, session } from '../api.ts';
import { fmtDate } from '../format.ts';
import { Async, Confirm, CopyButton, Dialog, Empty, failure, Field, PageHeader, Pager, StatusBadge, toast, useLoad, val } from '../ui.tsx';

interface ApiKey {
  id: string;
  key: string;
  name: string;
  description?: string | null;
  type: string;
  workspace_id?: string | null;
  status: string;
  scopes: string[];
  expires_at?: string | null;
  created_at?: string;
  defaults?: { config_id?: string } | null;
}

interface Workspace {
  id: string;
  slug: string;
  name: string;
}

/** Portkey's scope names; the control plane enforces them and refuses scopes the caller lacks. */
const SCOPE_GROUPS: { label: string; scopes: string[] }[] = [
  { label: 'Gateway', scopes: ['completions.write'] },
  { label: 'Logs and analytics', scopes: ['logs.read', 'logs.write', 'analytics.view'] },
  { label: 'Configs', scopes: ['configs.create', 'configs.read', 'configs.update', 'configs.delete', 'configs.list'] },
  { label: 'Virtual keys', scopes: ['virtual_keys.create', 'virtual_keys.read', 'virtual_keys.update', 'virtual_keys.delete', 'virtual_keys.list'] },
  { label: 'API keys', scopes: ['api_keys.create', 'api_keys.read', 'api_keys.update', 'api_keys.delete', 'api_keys.list'] },
  { label: 'Workspaces', scopes: ['workspaces.create', 'workspaces.read', 'workspaces.update', 'workspaces.delete', 'workspaces.list'] },
];

const PRESETS: Record<string, string[]> = {
  'Gateway only': ['completions.write'],
  'Read only': SCOPE_GROUPS.flatMap((g) => g.scopes).filter((s) => /\.(read|list|view)$/.test(s)),
  Everything: SCOPE_GROUPS.flatMap((g) => g.scopes),
};

function CreateDialog(props: { open: boolean; onClose: () => void; onCreated: (key: string, name: string) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [level, setLevel] = useState<'workspace' | 'organisation'>('workspace');
  const [subType, setSubType] = useState<'service' | 'user'>('service');
  const [workspace, setWorkspace] = useState('');
  const [expires, setExpires] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(new Set(['completions.write']));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const workspaces = useLoad((signal) => (props.open ? list<Workspace>('/v1/admin/workspaces', { signal }) : Promise.resolve({ total: 0, data: [] })), [props.open]);

  function toggle(s: string, on: boolean) {
    const next = new Set(scopes);
    if (on) next.add(s);
    else next.delete(s);
    setScopes(next);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (scopes.size === 0) return setError('Pick at least one scope: a key with no scopes can do nothing.');
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ id: string; key: string }>(`/v1/api-keys/${level}/${subType}`, {
        body: {
          name: name.trim() || undefined,
          description: description || undefined,
          scopes: [...scopes],
          workspace_id: level === 'workspace' && workspace ? workspace : undefined,
          expires_at: expires ? new Date(expires).toISOString() : undefined,
        },
      });
      props.onCreated(res.key, name.trim() || `${level} ${subType} key`);
      setName('');
      setDescription('');
      props.onClose();
    } catch (err) {
      setError(failure(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={props.open} title="New API key" onClose={props.onClose} wide>
      <form onSubmit={submit} aria-label="New API key">
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <div class="form-grid">
          <Field label="Name">{(id) => <input id={id} name="ak-name" value={name} onInput={(e) => setName(val(e))} />}</Field>
          <Field label="Level">
            {(id) => (
              <select id={id} value={level} onChange={(e) => setLevel(val(e) as 'workspace' | 'organisation')}>
                <option value="workspace">Workspace</option>
                <option value="organisation">Organisation</option>
              </select>
            )}
          </Field>
          <Field label="Kind">
            {(id) => (
              <select id={id} value={subType} onChange={(e) => setSubType(val(e) as 'service' | 'user')}>
                <option value="service">Service (for apps)</option>
                <option value="user">User (for a person)</option>
              </select>
            )}
          </Field>
          {level === 'workspace' && (
            <Field label="Workspace">
              {(id) => (
                <select id={id} value={workspace} onChange={(e) => setWorkspace(val(e))}>
                  <option value="">Default workspace</option>
                  {(workspaces.data?.data ?? []).map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="Expires (optional)">{(id) => <input id={id} type="datetime-local" value={expires} onInput={(e) => setExpires(val(e))} />}</Field>
        </div>
        <Field label="Description (optional)">{(id) => <input id={id} value={description} onInput={(e) => setDescription(val(e))} />}</Field>
        <fieldset>
          <legend>Scopes</legend>
          <div class="actions" style="margin-bottom:0.5rem">
            {Object.entries(PRESETS).map(([label, list]) => (
              <button key={label} type="button" class="btn small" onClick={() => setScopes(new Set(list))}>
                {label}
              </button>
            ))}
          </div>
          <div class="form-grid">
            {SCOPE_GROUPS.map((g) => (
              <fieldset key={g.label} class="scope-group">
                <legend class="small">{g.label}</legend>
                {g.scopes.map((s) => (
                  <label key={s} class="check small">
                    <input type="checkbox" name="scope" value={s} checked={scopes.has(s)} onChange={(e) => toggle(s, (e.currentTarget as HTMLInputElement).checked)} />
                    <span class="mono">{s}</span>
                  </label>
                ))}
              </fieldset>
            ))}
          </div>
        </fieldset>
        <div class="form-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create API key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Masks keep the first and last characters: enough to warn before someone revokes the key they are using. */
function isCurrentKey(masked: string): boolean {
  const s = session();
  if (s?.mode !== 'api-key') return false;
  const m = /^([^*•]+)[*•]+([^*•]*)$/.exec(masked);
  return !!m && s.apiKey.startsWith(m[1]) && s.apiKey.endsWith(m[2]);
}

/** The plaintext key exists only in this dialog's state; closing it drops the last copy. */
function ShownOnce(props: { created: { key: string; name: string } | null; onClose: () => void }) {
  return (
    <Dialog open={!!props.created} title="Copy your new API key now" onClose={props.onClose}>
      <div class="alert warn" role="note">
        This is the only time the key is shown. Tollgate stores only its hash; if you lose it, create a new key.
      </div>
      <Field label={`API key for ${props.created?.name ?? ''}`}>
        {(id) => <input id={id} readOnly class="mono" data-testid="new-api-key" value={props.created?.key ?? ''} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />}
      </Field>
      <div class="form-actions">
        <CopyButton text={props.created?.key ?? ''} label="Copy key" />
        <button type="button" class="btn primary" onClick={props.onClose}>
          I have stored it
        </button>
      </div>
    </Dialog>
  );
}

export default function ApiKeys() {
  const [page, setPage] = useState(0);
  const pageSize = 50;
  const load = useLoad((signal) => list<ApiKey>('/v1/api-keys', { signal, query: { page_size: pageSize, current_page: page } }), [page]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ key: string; name: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  async function revoke(k: ApiKey) {
    try {
      await api(`/v1/api-keys/${encodeURIComponent(k.id)}`, { method: 'PUT', body: { status: 'revoked' } });
      toast(`${k.name} revoked; gateways refuse it after their next sync`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for apps (x-portkey-api-key on the gateway) and for admin tools. A key is shown once, when it is created."
        actions={
          <button type="button" class="btn primary" onClick={() => setCreating(true)}>
            New API key
          </button>
        }
      />
      <Async
        load={load}
        feature="API keys"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No API keys">
            <p>Create a key for each app so you can revoke one without touching the others.</p>
          </Empty>
        }
      >
        {(d) => (
          <>
            <div class="table-wrap">
              <table>
                <caption class="sr-only">API keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Type</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.data.map((k) => (
                    <tr key={k.id} data-id={k.id}>
                      <td>
                        {k.name}
                        {k.description && <div class="muted small">{k.description}</div>}
                      </td>
                      <td>
                        <span class="secret">{k.key}</span>
                      </td>
                      <td>{k.type}</td>
                      <td>
                        <details>
                          <summary>{k.scopes.length} scopes</summary>
                          <div class="chips">
                            {k.scopes.map((s) => (
                              <span key={s} class="badge mono">
                                {s}
                              </span>
                            ))}
                          </div>
                        </details>
                      </td>
                      <td>
                        <StatusBadge status={k.status} />
                      </td>
                      <td>{k.expires_at ? fmtDate(k.expires_at) : 'never'}</td>
                      <td>{fmtDate(k.created_at)}</td>
                      <td>
                        {k.status === 'active' && (
                          <button type="button" class="btn small" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {d.total > pageSize && <Pager page={page} pageSize={pageSize} total={d.total} onPage={setPage} label="API keys" />}
          </>
        )}
      </Async>
      <CreateDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(key, name) => {
          setCreated({ key, name });
          load.reload();
        }}
      />
      <ShownOnce created={created} onClose={() => setCreated(null)} />
      <Confirm
        open={!!revoking}
        title={`Revoke ${revoking?.name ?? ''}?`}
        body={
          <>
            {revoking && isCurrentKey(revoking.key) && (
              <div class="alert warn" role="note">
                This looks like the key you are logged in with: revoking it logs you out.
              </div>
            )}
            <p>Every app using this key starts getting 401 once gateways sync. Revoking cannot be undone.</p>
          </>
        }
        confirm="Revoke key"
        danger
        onConfirm={() => revoking && revoke(revoking)}
        onClose={() => setRevoking(null)}
      />
    </>
  );
}
