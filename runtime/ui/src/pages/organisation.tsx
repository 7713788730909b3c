import { useState } from 'preact/hooks';
import { api, list } from '../api.ts';
import { fmtDate } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { Async, Confirm, CopyButton, Dialog, Empty, failure, Field, PageHeader, StatusBadge, toast, useLoad, val } from '../ui.tsx';

interface Workspace {
  id: string;
  slug: string;
  name: string;
  description?: string | null;
  is_default?: number;
  created_at?: string;
}
interface User {
  id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  role?: string;
  created_at?: string;
  workspace_ids?: string[];
}
interface Invite {
  id: string;
  email: string;
  role?: string;
  status?: string;
  created_at?: string;
  expires_at?: string;
}
interface Member {
  id?: string;
  user_id?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  role?: string;
}

const ORG_ROLES = ['owner', 'admin', 'member'];
const WS_ROLES = ['admin', 'manager', 'member'];

function Workspaces() {
  const load = useLoad((signal) => list<Workspace>('/v1/admin/workspaces', { signal }), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Workspace | null>(null);
  const [members, setMembers] = useState<Workspace | null>(null);
  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await api('/v1/admin/workspaces', { body: { name: name.trim(), description: description || undefined } });
      toast(`Workspace "${name}" created`);
      setName('');
      setDescription('');
      load.reload();
    } catch (err) {
      setError(failure(err));
    }
  }
  async function remove(w: Workspace) {
    try {
      await api(`/v1/admin/workspaces/${encodeURIComponent(w.id)}`, { method: 'DELETE' });
      toast(`Workspace "${w.name}" deleted`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <>
      <form class="panel" onSubmit={create} aria-label="New workspace">
        <h2>New workspace</h2>
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <div class="form-grid">
          <Field label="Workspace name">{(id) => <input id={id} required value={name} onInput={(e) => setName(val(e))} />}</Field>
          <Field label="Description (optional)">{(id) => <input id={id} value={description} onInput={(e) => setDescription(val(e))} />}</Field>
          <div class="field">
            <button type="submit" class="btn primary">
              Create workspace
            </button>
          </div>
        </div>
      </form>
      <Async load={load} feature="workspaces" isEmpty={(d) => d.data.length === 0} empty={<Empty title="No workspaces" />}>
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Workspaces</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Description</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((w) => (
                  <tr key={w.id}>
                    <td>
                      {w.name} {w.is_default ? <span class="badge">default</span> : null}
                    </td>
                    <td class="mono">{w.slug}</td>
                    <td>{w.description ?? '—'}</td>
                    <td>{fmtDate(w.created_at)}</td>
                    <td>
                      <div class="actions">
                        <button type="button" class="btn small" onClick={() => setMembers(w)} aria-label={`Members of ${w.name}`}>
                          Members
                        </button>
                        {!w.is_default && (
                          <button type="button" class="btn small" onClick={() => setDeleting(w)} aria-label={`Delete ${w.name}`}>
                            Delete
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {members && <MembersDialog ws={members} onClose={() => setMembers(null)} />}
      <Confirm
        open={!!deleting}
        title={`Delete workspace ${deleting?.name ?? ''}?`}
        body={<p>Only an empty workspace can be deleted: move or delete its configs, virtual keys and API keys first.</p>}
        confirm="Delete workspace"
        danger
        onConfirm={() => deleting && remove(deleting)}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}

function MembersDialog(props: { ws: Workspace; onClose: () => void }) {
  const base = `/v1/admin/workspaces/${encodeURIComponent(props.ws.id)}/users`;
  const load = useLoad((signal) => list<Member>(base, { signal }), [props.ws.id]);
  async function setRole(m: Member, role: string) {
    try {
      await api(`${base}/${encodeURIComponent(m.user_id ?? m.id ?? '')}`, { method: 'PUT', body: { role } });
      toast('Role updated');
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <Dialog open title={`Members of ${props.ws.name}`} onClose={props.onClose} wide>
      <Async load={load} feature="workspace members" isEmpty={(d) => d.data.length === 0} empty={<Empty title="No members yet">Invite people from the Invites tab and give them this workspace.</Empty>}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Workspace role</th>
              </tr>
            </thead>
            <tbody>
              {d.data.map((m) => (
                <tr key={m.user_id ?? m.id}>
                  <td>{[m.first_name, m.last_name].filter(Boolean).join(' ') || m.email}</td>
                  <td>
                    <label class="sr-only" for={`role-${m.user_id ?? m.id}`}>
                      Role of {m.email}
                    </label>
                    <select id={`role-${m.user_id ?? m.id}`} value={m.role} onChange={(e) => setRole(m, val(e))}>
                      {WS_ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </Dialog>
  );
}

function Users() {
  const load = useLoad((signal) => list<User>('/v1/admin/users', { signal }), []);
  const [removing, setRemoving] = useState<User | null>(null);
  async function setRole(u: User, role: string) {
    try {
      await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: 'PUT', body: { role } });
      toast(`${u.email} is now ${role}`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  async function remove(u: User) {
    try {
      await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: 'DELETE' });
      toast(`${u.email} removed`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <>
      <Async load={load} feature="user management" isEmpty={(d) => d.data.length === 0} empty={<Empty title="No users yet">Invite someone from the Invites tab.</Empty>}>
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Organisation role</th>
                  <th scope="col">Joined</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((u) => (
                  <tr key={u.id}>
                    <td>{[u.first_name, u.last_name].filter(Boolean).join(' ') || '—'}</td>
                    <td>{u.email}</td>
                    <td>
                      <label class="sr-only" for={`urole-${u.id}`}>
                        Role of {u.email}
                      </label>
                      <select id={`urole-${u.id}`} value={u.role} onChange={(e) => setRole(u, val(e))}>
                        {ORG_ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    </td>
                    <td>{fmtDate(u.created_at)}</td>
                    <td>
                      <button type="button" class="btn small" onClick={() => setRemoving(u)} aria-label={`Remove ${u.email}`}>
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      <Confirm
        open={!!removing}
        title={`Remove ${removing?.email ?? ''}?`}
        body={<p>They lose access to every workspace of this organisation at once.</p>}
        confirm="Remove user"
        danger
        onConfirm={() => removing && remove(removing)}
        onClose={() => setRemoving(null)}
      />
    </>
  );
}

function Invites() {
  const load = useLoad((signal) => list<Invite>('/v1/admin/users/invites', { signal }), []);
  const workspaces = useLoad((signal) => list<Workspace>('/v1/admin/workspaces', { signal }), []);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [ws, setWs] = useState('');
  const [wsRole, setWsRole] = useState('member');
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function invite(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const res = await api<{ id: string; invite_link?: string }>('/v1/admin/users/invites', {
        body: { email: email.trim(), role, workspaces: ws ? [{ id: ws, role: wsRole }] : [] },
      });
      toast(`Invite sent to ${email}`);
      setLink(res.invite_link ?? null);
      setEmail('');
      load.reload();
    } catch (err) {
      setError(failure(err));
    }
  }
  async function cancel(i: Invite) {
    try {
      await api(`/v1/admin/users/invites/${encodeURIComponent(i.id)}`, { method: 'DELETE' });
      toast('Invite cancelled');
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <>
      <form class="panel" onSubmit={invite} aria-label="Invite a user">
        <h2>Invite someone</h2>
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <div class="form-grid">
          <Field label="Email">{(id) => <input id={id} type="email" required value={email} onInput={(e) => setEmail(val(e))} />}</Field>
          <Field label="Organisation role">
            {(id) => (
              <select id={id} value={role} onChange={(e) => setRole(val(e))}>
                {ORG_ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Workspace (optional)">
            {(id) => (
              <select id={id} value={ws} onChange={(e) => setWs(val(e))}>
                <option value="">None</option>
                {(workspaces.data?.data ?? []).map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {ws && (
            <Field label="Workspace role">
              {(id) => (
                <select id={id} value={wsRole} onChange={(e) => setWsRole(val(e))}>
                  {WS_ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <div class="field">
            <button type="submit" class="btn primary">
              Send invite
            </button>
          </div>
        </div>
        {link && (
          <div class="alert ok">
            Invite link: <span class="mono">{link}</span> <CopyButton text={link} />
          </div>
        )}
      </form>
      <Async load={load} feature="invites" isEmpty={(d) => d.data.length === 0} empty={<Empty title="No pending invites" />}>
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Invites</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((i) => (
                  <tr key={i.id}>
                    <td>{i.email}</td>
                    <td>{i.role}</td>
                    <td>
                      <StatusBadge status={i.status ?? 'pending'} />
                    </td>
                    <td>{fmtDate(i.expires_at)}</td>
                    <td>
                      {(i.status ?? 'pending') === 'pending' && (
                        <button type="button" class="btn small" onClick={() => cancel(i)} aria-label={`Cancel invite for ${i.email}`}>
                          Cancel
                        </button>
                      )}
                    </td>
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

const TABS = [
  { id: 'workspaces', label: 'Workspaces', View: Workspaces },
  { id: 'users', label: 'Users', View: Users },
  { id: 'invites', label: 'Invites', View: Invites },
];

export default function Organisation() {
  const { search } = useLocation();
  const tab = TABS.find((t) => t.id === search.get('tab')) ?? TABS[0];
  return (
    <>
      <PageHeader title="Organisation" description="Workspaces, people and their roles. Organisation roles: owner, admin, member; workspace roles: admin, manager, member." />
      <div class="tabs" role="tablist" aria-label="Organisation sections">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === tab.id}
            aria-controls="org-panel"
            tabIndex={t.id === tab.id ? 0 : -1}
            onClick={() => setQuery({ tab: t.id })}
            onKeyDown={(e) => {
              const i = TABS.indexOf(t);
              const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
              if (next) {
                setQuery({ tab: next.id });
                requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus());
              }
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div id="org-panel" role="tabpanel" aria-labelledby={`tab-${tab.id}`}>
        <tab.View />
      </div>
    </>
  );
}
