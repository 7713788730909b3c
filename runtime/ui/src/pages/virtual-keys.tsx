import { useState } from 'preact/hooks';
import { api, list } from '../api.ts';
import { fmtDate } from '../format.ts';
import { Async, Confirm, Dialog, Empty, failure, Field, PageHeader, StatusBadge, toast, useLoad, val } from '../ui.tsx';

interface VirtualKey {
  id: string;
  slug: string;
  name: string;
  provider: string;
  masked_api_key: string;
  note?: string | null;
  status: string;
  model_config?: Record<string, unknown>;
  usage_limits?: { credit_limit?: number; alert_threshold?: number; periodic_reset?: string } | null;
  rate_limits?: { type?: string; unit?: string; value?: number }[] | null;
  created_at?: string;
  last_updated_at?: string;
}

const PROVIDERS = ['openai', 'anthropic', 'azure-openai', 'bedrock', 'vertex-ai', 'google', 'mistral-ai', 'groq', 'together-ai', 'cohere'];

function limitsText(v: VirtualKey): string {
  const parts: string[] = [];
  if (v.usage_limits?.credit_limit !== undefined) parts.push(`$${v.usage_limits.credit_limit}${v.usage_limits.periodic_reset ? `/${v.usage_limits.periodic_reset}` : ''}`);
  for (const r of v.rate_limits ?? []) if (r.value !== undefined) parts.push(`${r.value} ${r.unit ?? 'rpm'}`);
  return parts.join(' · ') || 'none';
}

/** Limits as Portkey stores them: usage_limits {credit_limit, alert_threshold, periodic_reset}, rate_limits [{type, unit, value}]. */
function LimitsFields(props: { credit: string; setCredit: (s: string) => void; rpm: string; setRpm: (s: string) => void; reset: string; setReset: (s: string) => void }) {
  return (
    <fieldset class="form-grid">
      <legend>Limits (optional)</legend>
      <Field label="Budget (USD)" hint="Requests fail once spent.">
        {(id, d) => <input id={id} type="number" min="0" step="0.01" aria-describedby={d} value={props.credit} onInput={(e) => props.setCredit(val(e))} />}
      </Field>
      <Field label="Budget resets">
        {(id) => (
          <select id={id} value={props.reset} onChange={(e) => props.setReset(val(e))}>
            <option value="">Never</option>
            <option value="weekly">Weekly</option>
            <option value="monthly">Monthly</option>
          </select>
        )}
      </Field>
      <Field label="Requests per minute">
        {(id) => <input id={id} type="number" min="1" step="1" value={props.rpm} onInput={(e) => props.setRpm(val(e))} />}
      </Field>
    </fieldset>
  );
}

function limitsBody(credit: string, reset: string, rpm: string) {
  return {
    usage_limits: credit ? { credit_limit: Number(credit), ...(reset ? { periodic_reset: reset } : {}) } : null,
    rate_limits: rpm ? [{ type: 'requests', unit: 'rpm', value: Number(rpm) }] : null,
  };
}

function CreateDialog(props: { open: boolean; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState('');
  const [provider, setProvider] = useState('openai');
  const [key, setKey] = useState('');
  const [note, setNote] = useState('');
  const [customHost, setCustomHost] = useState('');
  const [credit, setCredit] = useState('');
  const [reset, setReset] = useState('');
  const [rpm, setRpm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const limits = limitsBody(credit, reset, rpm);
      const res = await api<{ slug: string }>('/v1/virtual-keys', {
        body: {
          name: name.trim(),
          provider: provider.trim(),
          key,
          note: note || undefined,
          custom_host: customHost || undefined,
          usage_limits: limits.usage_limits ?? undefined,
          rate_limits: limits.rate_limits ?? undefined,
        },
      });
      toast(`Virtual key "${res.slug}" created; the secret is stored encrypted`);
      setKey('');
      setName('');
      props.onDone();
      props.onClose();
    } catch (err) {
      setError(failure(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog open={props.open} title="New virtual key" onClose={props.onClose}>
      <form onSubmit={submit} aria-label="New virtual key">
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <Field label="Name">{(id) => <input id={id} name="vk-name" required value={name} onInput={(e) => setName(val(e))} />}</Field>
        <Field label="Provider" hint="A provider id such as openai or anthropic.">
          {(id, d) => (
            <>
              <input id={id} name="vk-provider" list="providers" required aria-describedby={d} value={provider} onInput={(e) => setProvider(val(e))} />
              <datalist id="providers">
                {PROVIDERS.map((p) => (
                  <option key={p} value={p} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Provider API key" hint="Encrypted before it is stored; afterwards only its mask is ever shown.">
          {(id, d) => <input id={id} name="vk-key" type="password" autocomplete="off" required aria-describedby={d} value={key} onInput={(e) => setKey(val(e))} />}
        </Field>
        <Field label="Custom host (optional)" hint="For OpenAI-compatible hosts: the base URL including /v1.">
          {(id, d) => <input id={id} type="url" aria-describedby={d} value={customHost} onInput={(e) => setCustomHost(val(e))} />}
        </Field>
        <Field label="Note (optional)">{(id) => <input id={id} value={note} onInput={(e) => setNote(val(e))} />}</Field>
        <LimitsFields credit={credit} setCredit={setCredit} rpm={rpm} setRpm={setRpm} reset={reset} setReset={setReset} />
        <div class="form-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create virtual key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RotateDialog(props: { vk: VirtualKey | null; onClose: () => void; onDone: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      await api(`/v1/virtual-keys/${encodeURIComponent(props.vk!.slug)}`, { method: 'PUT', body: { key } });
      toast('Secret rotated; gateways pick it up at their next sync');
      setKey('');
      props.onDone();
      props.onClose();
    } catch (err) {
      setError(failure(err));
    }
  }
  return (
    <Dialog open={!!props.vk} title={`Rotate the secret of ${props.vk?.name ?? ''}`} onClose={props.onClose}>
      <form onSubmit={submit} aria-label="Rotate secret">
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <p class="muted">
          Current secret: <span class="secret">{props.vk?.masked_api_key}</span>. Requests keep using the slug; only the provider secret changes.
        </p>
        <Field label="New provider API key">
          {(id) => <input id={id} type="password" autocomplete="off" required value={key} onInput={(e) => setKey(val(e))} />}
        </Field>
        <div class="form-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary">
            Rotate secret
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function LimitsDialog(props: { vk: VirtualKey | null; onClose: () => void; onDone: () => void }) {
  const vk = props.vk;
  const [credit, setCredit] = useState(String(vk?.usage_limits?.credit_limit ?? ''));
  const [reset, setReset] = useState(vk?.usage_limits?.periodic_reset ?? '');
  const [rpm, setRpm] = useState(String(vk?.rate_limits?.[0]?.value ?? ''));
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      await api(`/v1/virtual-keys/${encodeURIComponent(vk!.slug)}`, { method: 'PUT', body: limitsBody(credit, reset, rpm) });
      toast('Limits saved');
      props.onDone();
      props.onClose();
    } catch (err) {
      setError(failure(err));
    }
  }
  return (
    <Dialog open={!!vk} title={`Limits for ${vk?.name ?? ''}`} onClose={props.onClose}>
      <form onSubmit={submit} aria-label="Limits">
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <LimitsFields credit={credit} setCredit={setCredit} rpm={rpm} setRpm={setRpm} reset={reset} setReset={setReset} />
        <p class="muted small">Leave a field empty to remove that limit.</p>
        <div class="form-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary">
            Save limits
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export default function VirtualKeys() {
  const load = useLoad((signal) => list<VirtualKey>('/v1/virtual-keys', { signal }), []);
  const [creating, setCreating] = useState(false);
  const [rotating, setRotating] = useState<VirtualKey | null>(null);
  const [limiting, setLimiting] = useState<VirtualKey | null>(null);
  const [deleting, setDeleting] = useState<VirtualKey | null>(null);
  async function setStatus(v: VirtualKey, status: string) {
    try {
      await api(`/v1/virtual-keys/${encodeURIComponent(v.slug)}`, { method: 'PUT', body: { status } });
      toast(`${v.name} is now ${status}`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  async function remove(v: VirtualKey) {
    try {
      await api(`/v1/virtual-keys/${encodeURIComponent(v.slug)}`, { method: 'DELETE' });
      toast(`${v.name} deleted`);
      load.reload();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  return (
    <>
      <PageHeader
        title="Virtual keys"
        description="Provider secrets, stored envelope-encrypted. Apps send the slug in x-portkey-virtual-key; the secret itself never leaves the gateways."
        actions={
          <button type="button" class="btn primary" onClick={() => setCreating(true)}>
            New virtual key
          </button>
        }
      />
      <Async
        load={load}
        feature="virtual keys"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No virtual keys yet">
            <p>Add your provider key (OpenAI, Anthropic, …) as a virtual key so apps never hold it.</p>
            <button type="button" class="btn primary" onClick={() => setCreating(true)}>
              New virtual key
            </button>
          </Empty>
        }
      >
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Virtual keys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Secret</th>
                  <th scope="col">Status</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((v) => (
                  <tr key={v.id} data-slug={v.slug}>
                    <td>{v.name}</td>
                    <td class="mono">{v.slug}</td>
                    <td>{v.provider}</td>
                    <td>
                      <span class="secret" data-testid="masked-key" aria-label={`masked secret ${v.masked_api_key}`}>
                        {v.masked_api_key}
                      </span>
                    </td>
                    <td>
                      <StatusBadge status={v.status} />
                    </td>
                    <td>{limitsText(v)}</td>
                    <td>{fmtDate(v.last_updated_at)}</td>
                    <td>
                      <div class="actions">
                        <button type="button" class="btn small" onClick={() => setRotating(v)} aria-label={`Rotate secret of ${v.name}`}>
                          Rotate
                        </button>
                        <button type="button" class="btn small" onClick={() => setLimiting(v)} aria-label={`Edit limits of ${v.name}`}>
                          Limits
                        </button>
                        {v.status === 'active' ? (
                          <button type="button" class="btn small" onClick={() => setStatus(v, 'revoked')} aria-label={`Disable ${v.name}`}>
                            Disable
                          </button>
                        ) : (
                          <button type="button" class="btn small" onClick={() => setStatus(v, 'active')} aria-label={`Enable ${v.name}`}>
                            Enable
                          </button>
                        )}
                        <button type="button" class="btn small" onClick={() => setDeleting(v)} aria-label={`Delete ${v.name}`}>
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      <CreateDialog open={creating} onClose={() => setCreating(false)} onDone={load.reload} />
      <RotateDialog vk={rotating} onClose={() => setRotating(null)} onDone={load.reload} />
      {limiting && <LimitsDialog vk={limiting} onClose={() => setLimiting(null)} onDone={load.reload} />}
      <Confirm
        open={!!deleting}
        title={`Delete ${deleting?.name ?? ''}?`}
        body={<p>Requests that use "{deleting?.slug}" fail once gateways sync. The encrypted secret is removed for good.</p>}
        confirm="Delete virtual key"
        danger
        onConfirm={() => deleting && remove(deleting)}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
