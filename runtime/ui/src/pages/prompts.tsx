import { useState } from 'preact/hooks';
import { api, list } from '../api.ts';
import { fmtDate } from '../format.ts';
import { navigate } from '../router.ts';
import { Async, Dialog, Empty, failure, Field, PageHeader, StatusBadge, useLoad, val } from '../ui.tsx';

export interface Prompt {
  id: string;
  slug?: string;
  name: string;
  string?: string;
  parameters?: Record<string, unknown>;
  model?: string;
  virtual_key?: string;
  status?: string;
  prompt_version?: number;
  version?: number;
  created_at?: string;
  last_updated_at?: string;
}

const STARTER = JSON.stringify(
  [
    { role: 'system', content: 'You are a helpful assistant for {{company}}.' },
    { role: 'user', content: '{{question}}' },
  ],
  null,
  2,
);

function CreateDialog(props: { open: boolean; onClose: () => void }) {
  const [name, setName] = useState('');
  const [model, setModel] = useState('gpt-4o-mini');
  const [vk, setVk] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const res = await api<{ id: string; slug?: string }>('/v1/prompts', {
        body: { name: name.trim(), string: STARTER, parameters: { model, temperature: 0.7 }, model, virtual_key: vk || undefined },
      });
      props.onClose();
      navigate(`/prompts/${encodeURIComponent(res.slug ?? res.id)}`);
    } catch (err) {
      setError(failure(err));
    }
  }
  return (
    <Dialog open={props.open} title="New prompt" onClose={props.onClose}>
      <form onSubmit={submit} aria-label="New prompt">
        {error && (
          <div class="alert error" role="alert">
            {error}
          </div>
        )}
        <Field label="Name">{(id) => <input id={id} required value={name} onInput={(e) => setName(val(e))} />}</Field>
        <Field label="Model">{(id) => <input id={id} required value={model} onInput={(e) => setModel(val(e))} />}</Field>
        <Field label="Virtual key slug (optional)">{(id) => <input id={id} value={vk} onInput={(e) => setVk(val(e))} />}</Field>
        <div class="form-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary">
            Create prompt
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export default function Prompts() {
  const load = useLoad((signal) => list<Prompt>('/v1/prompts', { signal }), []);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader
        title="Prompts"
        description="Versioned prompt templates with {{variables}}. Apps call them by id through the gateway; labels (production, staging) pick the version."
        actions={
          <button type="button" class="btn primary" onClick={() => setCreating(true)}>
            New prompt
          </button>
        }
      />
      <Async
        load={load}
        feature="prompts (/v1/prompts)"
        isEmpty={(d) => d.data.length === 0}
        empty={
          <Empty title="No prompts yet">
            <p>Create a prompt to keep templates out of your app code.</p>
          </Empty>
        }
      >
        {(d) => (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Prompts</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Model</th>
                  <th scope="col">Status</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <a href={`/prompts/${encodeURIComponent(p.slug ?? p.id)}`}>{p.name}</a>
                    </td>
                    <td class="mono">{p.slug ?? p.id}</td>
                    <td>{p.model ?? String(p.parameters?.model ?? '—')}</td>
                    <td>
                      <StatusBadge status={p.status ?? 'active'} />
                    </td>
                    <td>{fmtDate(p.last_updated_at ?? p.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      <CreateDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
