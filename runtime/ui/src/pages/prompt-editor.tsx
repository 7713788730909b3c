import Mustache from 'mustache';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, list, session } from '../api.ts';
import { fmtDate, pretty, templateVariables } from '../format.ts';
import { Async, DiffView, ErrorState, failure, Field, PageHeader, Spinner, toast, useLoad, val } from '../ui.tsx';
import type { Prompt } from './prompts.tsx';

interface Version {
  /** Portkey's list answers carry the prompt id here; the version's own id is `version_id`. */
  id: string;
  version_id?: string;
  prompt_version?: number;
  version?: number;
  string?: string;
  parameters?: Record<string, unknown>;
  label_id?: string | null;
  /** The API's `{label: version}` map (the prompt's labels), or a list of labels on this version. */
  labels?: Record<string, number> | (string | { id: string; name: string })[];
  description?: string;
  version_description?: string;
  created_at?: string;
}
interface Label {
  id: string;
  name: string;
}

type Message = { role: string; content: string };

/** Renders as the gateway does (Mustache, no HTML escaping); a JSON message list renders per message. */
function renderTemplate(template: string, vars: Record<string, string>): { messages?: Message[]; text?: string; error?: string } {
  const noEscape = { escape: (s: string) => s } as unknown as Mustache.RenderOptions;
  try {
    const parsed = JSON.parse(template) as unknown;
    if (Array.isArray(parsed)) {
      return {
        messages: parsed.map((m: { role?: string; content?: unknown }) => ({
          role: String(m.role ?? 'user'),
          content: Mustache.render(typeof m.content === 'string' ? m.content : JSON.stringify(m.content), vars, {}, noEscape),
        })),
      };
    }
  } catch {
    /* plain text template */
  }
  try {
    return { text: Mustache.render(template, vars, {}, noEscape) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const vnum = (v: Version) => v.prompt_version ?? v.version ?? 0;
/** The id that addresses one version (`PUT /v1/prompts/{id}/versions/{versionId}`). */
const vid = (v: Version) => v.version_id ?? v.id;

/** The labels every prompt has (the API moves `latest` on save and `production` on publish). */
const BUILTIN_LABELS = ['production', 'staging', 'latest'];

/** A JSON message list shown pretty-printed (the API answers it compact); plain text as is. */
export function normTemplate(s: string): string {
  try {
    const parsed: unknown = JSON.parse(s);
    return Array.isArray(parsed) ? JSON.stringify(parsed, null, 2) : s;
  } catch {
    return s;
  }
}

function labelNames(v: Version, labels: Label[]): string[] {
  const out = new Set<string>();
  if (v.labels && !Array.isArray(v.labels)) {
    for (const [name, n] of Object.entries(v.labels)) if (n === vnum(v)) out.add(name);
  } else for (const l of v.labels ?? []) out.add(typeof l === 'string' ? (labels.find((x) => x.id === l)?.name ?? l) : l.name);
  if (v.label_id) out.add(labels.find((x) => x.id === v.label_id)?.name ?? v.label_id);
  return [...out];
}

function VersionsPanel(props: { promptId: string; draft: string; reloadKey: number; onRestore: (v: Version) => void; onChanged: () => void }) {
  const versions = useLoad((signal) => list<Version>(`/v1/prompts/${encodeURIComponent(props.promptId)}/versions`, { signal }), [props.promptId, props.reloadKey]);
  const [compare, setCompare] = useState<string | null>(null);
  const [labelId, setLabelId] = useState('');
  const [target, setTarget] = useState('');
  const all = [...(versions.data?.data ?? [])].sort((a, b) => vnum(b) - vnum(a));
  const chosen = all.find((v) => vid(v) === compare) ?? all[0];
  // Label names: the built-in ones plus any custom label a version carries.
  const labelList: Label[] = [...new Set([...BUILTIN_LABELS, ...all.flatMap((v) => (v.labels && !Array.isArray(v.labels) ? Object.keys(v.labels) : []))])].map((name) => ({ id: name, name }));

  async function moveLabel(e: Event) {
    e.preventDefault();
    if (!labelId || !target) return;
    try {
      await api(`/v1/prompts/${encodeURIComponent(props.promptId)}/versions/${encodeURIComponent(target)}`, { method: 'PUT', body: { label_id: labelId } });
      toast(`Label ${labelId} moved to v${vnum(all.find((v) => vid(v) === target)!)}`);
      props.onChanged();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }
  async function makeDefault(v: Version) {
    try {
      await api(`/v1/prompts/${encodeURIComponent(props.promptId)}/makeDefault`, { method: 'PUT', body: { version: vnum(v) } });
      toast(`v${vnum(v)} is now the default`);
      props.onChanged();
    } catch (err) {
      toast(failure(err), 'error');
    }
  }

  return (
    <section class="panel" aria-labelledby="pv-h">
      <h2 id="pv-h">Versions and labels</h2>
      <Async load={versions} feature="prompt versions" isEmpty={(d) => d.data.length === 0} empty={<p class="muted">No versions yet: save to create the first.</p>}>
        {() => (
          <>
            <ul class="versions">
              {all.map((v) => (
                <li key={vid(v)}>
                  <span>
                    <strong>v{vnum(v)}</strong>{' '}
                    {labelNames(v, labelList).map((n) => (
                      <span key={n} class="badge ok">
                        {n}
                      </span>
                    ))}{' '}
                    <span class="muted small">{fmtDate(v.created_at)}</span>
                  </span>
                  <span class="actions">
                    <button type="button" class="btn small" aria-pressed={chosen !== undefined && vid(chosen) === vid(v)} onClick={() => setCompare(vid(v))} aria-label={`Compare v${vnum(v)} with draft`}>
                      Diff
                    </button>
                    <button type="button" class="btn small" onClick={() => props.onRestore(v)} aria-label={`Load v${vnum(v)} into the editor`}>
                      Load
                    </button>
                    <button type="button" class="btn small" onClick={() => makeDefault(v)} aria-label={`Make v${vnum(v)} the default`}>
                      Make default
                    </button>
                  </span>
                </li>
              ))}
            </ul>
            {labelList.length > 0 && (
              <form class="form-grid" onSubmit={moveLabel} aria-label="Move a label" style="margin-top:0.75rem">
                <Field label="Label">
                  {(id) => (
                    <select id={id} value={labelId} onChange={(e) => setLabelId(val(e))}>
                      <option value="">Pick a label</option>
                      {labelList.map((l) => (
                        <option key={l.id} value={l.id}>
                          {l.name}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label="Move to version">
                  {(id) => (
                    <select id={id} value={target} onChange={(e) => setTarget(val(e))}>
                      <option value="">Pick a version</option>
                      {all.map((v) => (
                        <option key={vid(v)} value={vid(v)}>
                          v{vnum(v)}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <div class="field">
                  <button type="submit" class="btn primary" disabled={!labelId || !target}>
                    Move label (deploy / roll back)
                  </button>
                </div>
              </form>
            )}
            {chosen && <DiffView before={normTemplate(chosen.string ?? '')} after={props.draft} beforeLabel={`v${vnum(chosen)}`} afterLabel="draft" />}
          </>
        )}
      </Async>
    </section>
  );
}

const GATEWAY_KEY = 'tollgate.gatewayUrl';

function Playground(props: { promptId: string; vars: Record<string, string> }) {
  const s = session();
  const [gateway, setGateway] = useState(() => localStorage.getItem(GATEWAY_KEY) ?? 'http://127.0.0.1:8787');
  const [key, setKey] = useState(s?.mode === 'api-key' ? s.apiKey : '');
  const [out, setOut] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setOut(null);
    localStorage.setItem(GATEWAY_KEY, gateway);
    try {
      const res = await fetch(`${gateway.replace(/\/+$/, '')}/v1/prompts/${encodeURIComponent(props.promptId)}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-portkey-api-key': key },
        body: JSON.stringify({ variables: props.vars, stream: false }),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (!res.ok) throw new Error(String((body.error as { message?: string })?.message ?? body.message ?? `${res.status}`));
      const choice = (body.choices as { message?: { content?: string } }[] | undefined)?.[0];
      setOut(choice?.message?.content ?? pretty(body));
    } catch (err) {
      setError(
        `${(err as Error).message}. ${(err as Error).message.includes('fetch') ? 'Check the gateway URL, that it is running, and that it allows calls from this origin (CORS).' : ''}`,
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="panel" aria-labelledby="pg-h">
      <h2 id="pg-h">Playground</h2>
      <p class="muted small">Runs the saved prompt through a gateway with the variables above, exactly as an app would.</p>
      <form onSubmit={run} aria-label="Run the prompt">
        <div class="form-grid">
          <Field label="Gateway URL">{(id) => <input id={id} type="url" value={gateway} onInput={(e) => setGateway(val(e))} />}</Field>
          <Field label="API key for the gateway">{(id) => <input id={id} type="password" autocomplete="off" value={key} onInput={(e) => setKey(val(e))} />}</Field>
        </div>
        <button type="submit" class="btn primary" disabled={busy || !key}>
          {busy ? 'Running…' : 'Run'}
        </button>
      </form>
      {error && (
        <div class="alert error" role="alert" style="margin-top:0.75rem">
          {error}
        </div>
      )}
      {out !== null && (
        <pre class="code" style="margin-top:0.75rem" aria-label="Completion">
          {out}
        </pre>
      )}
    </section>
  );
}

export default function PromptEditor(props: { params: Record<string, string> }) {
  const id = props.params.id;
  const load = useLoad((signal) => api<Prompt>(`/v1/prompts/${encodeURIComponent(id)}`, { signal }), [id]);
  const [template, setTemplate] = useState('');
  const [saved, setSaved] = useState('');
  const [params, setParams] = useState('{}');
  const [note, setNote] = useState('');
  const [vars, setVars] = useState<Record<string, string>>({});
  const [reloadKey, setReloadKey] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const p = load.data as (Prompt & { data?: Prompt }) | undefined;
    const prompt = p?.data ?? p;
    if (load.status === 'ok' && prompt) {
      const t = typeof prompt.string === 'string' ? normTemplate(prompt.string) : pretty(prompt.string ?? '');
      setTemplate(t);
      setSaved(t);
      setParams(pretty(prompt.parameters ?? {}));
    }
  }, [load.status, load.data]);

  const names = useMemo(() => templateVariables(template), [template]);
  const rendered = useMemo(() => renderTemplate(template, vars), [template, vars]);
  const missing = names.filter((n) => !vars[n]);

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    let parameters: unknown;
    try {
      parameters = JSON.parse(params || '{}');
    } catch {
      return setError('Model parameters are not valid JSON.');
    }
    try {
      await api(`/v1/prompts/${encodeURIComponent(id)}`, { method: 'PUT', body: { string: template, parameters, version_description: note || undefined } });
      toast('Saved as a new version');
      setSaved(template);
      setNote('');
      setReloadKey((k) => k + 1);
    } catch (err) {
      setError(failure(err));
    }
  }

  if (load.status === 'error' && !load.data) return <ErrorState error={load.error} feature="prompts (/v1/prompts)" onRetry={load.reload} />;
  if (!load.data) return <Spinner />;
  const prompt = ((load.data as { data?: Prompt }).data ?? load.data) as Prompt;

  return (
    <>
      <PageHeader
        title={`Prompt: ${prompt.name}`}
        description={
          <>
            <span class="mono">{prompt.slug ?? prompt.id}</span> · call it with <code>portkey.prompts.completions.create({`{ promptID: '${prompt.slug ?? prompt.id}', variables }`})</code>
          </>
        }
        actions={
          <a class="btn" href="/prompts">
            Back to prompts
          </a>
        }
      />
      <div class="editor-layout">
        <div>
          <form class="panel" onSubmit={save} aria-label="Prompt template">
            <Field label="Template" hint="A JSON list of chat messages or plain text. {{name}} inserts a variable; {{#list}}…{{/list}} repeats; {{> partial}} includes a partial.">
              {(fid, d) => <textarea id={fid} class="mono json-editor" rows={14} spellcheck={false} aria-describedby={d} value={template} onInput={(e) => setTemplate(val(e))} />}
            </Field>
            <Field label="Model parameters (JSON)">{(fid) => <textarea id={fid} class="mono" rows={4} spellcheck={false} value={params} onInput={(e) => setParams(val(e))} />}</Field>
            <Field label="Version note (optional)">{(fid) => <input id={fid} value={note} onInput={(e) => setNote(val(e))} />}</Field>
            {error && (
              <div class="alert error" role="alert">
                {error}
              </div>
            )}
            <div class="form-actions">
              {template !== saved && (
                <button type="button" class="btn" onClick={() => setTemplate(saved)}>
                  Discard changes
                </button>
              )}
              <button type="submit" class="btn primary" disabled={template === saved && !note}>
                Save new version
              </button>
            </div>
          </form>
          <section class="panel" aria-labelledby="vars-h">
            <h2 id="vars-h">Variables and live render</h2>
            {names.length === 0 ? (
              <p class="muted">No {'{{variables}}'} in this template.</p>
            ) : (
              <div class="form-grid">
                {names.map((n) => (
                  <Field key={n} label={n}>
                    {(fid) => <input id={fid} value={vars[n] ?? ''} onInput={(e) => setVars({ ...vars, [n]: val(e) })} />}
                  </Field>
                ))}
              </div>
            )}
            {missing.length > 0 && <p class="muted small">Missing: {missing.join(', ')} (the gateway answers 400 when a variable is missing).</p>}
            <div aria-live="polite" aria-label="Rendered prompt">
              {rendered.error ? (
                <div class="alert error">{rendered.error}</div>
              ) : rendered.messages ? (
                rendered.messages.map((m, i) => (
                  <div key={i} class="message-block">
                    <div class="role">{m.role}</div>
                    <div style="white-space:pre-wrap">{m.content}</div>
                  </div>
                ))
              ) : (
                <pre class="code">{rendered.text}</pre>
              )}
            </div>
          </section>
        </div>
        <div>
          <VersionsPanel
            promptId={id}
            draft={template}
            reloadKey={reloadKey}
            onRestore={(v) => {
              setTemplate(normTemplate(v.string ?? ''));
              if (v.parameters) setParams(pretty(v.parameters));
            }}
            onChanged={() => setReloadKey((k) => k + 1)}
          />
          <Playground promptId={prompt.slug ?? prompt.id} vars={vars} />
        </div>
      </div>
    </>
  );
}


