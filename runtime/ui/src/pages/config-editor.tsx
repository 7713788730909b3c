import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, list } from '../api.ts';
import { checkConfigText, configJsonSchema, type ConfigIssue } from '../config-validate.ts';
import { fmtDate, pretty } from '../format.ts';
import { navigate } from '../router.ts';
import { Async, Confirm, DiffView, ErrorState, failure, Field, PageHeader, Spinner, StatusBadge, toast, useLoad, val } from '../ui.tsx';
import type { ConfigItem } from './configs.tsx';

const STARTER = `{
  "strategy": { "mode": "fallback" },
  "targets": [
    { "virtual_key": "openai-prod" },
    { "virtual_key": "anthropic-prod", "override_params": { "model": "claude-3-5-haiku-latest" } }
  ],
  "retry": { "attempts": 2, "on_status_codes": [429, 500, 502, 503] }
}`;

interface ConfigVersion {
  id?: string;
  version_id?: string;
  version?: number;
  name?: string;
  config: unknown;
  created_at?: string;
}

function Versions(props: { slug: string; draft: string; saved: string; reloadKey: number }) {
  const load = useLoad((signal) => list<ConfigVersion>(`/v1/configs/${encodeURIComponent(props.slug)}/versions`, { signal }), [props.slug, props.reloadKey]);
  const [selected, setSelected] = useState<number | null>(null);
  const versions = [...(load.data?.data ?? [])].sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
  const chosen = versions.find((v) => v.version === selected) ?? versions[1];
  return (
    <section class="panel" aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      {load.status === 'error' && load.error instanceof ApiError && load.error.notOffered ? (
        <p class="muted" data-testid="versions-not-offered">
          This control plane does not offer config version history yet; the diff below compares your edits with the saved version.
        </p>
      ) : (
        <Async load={load} feature="config versions" isEmpty={(d) => d.data.length === 0} empty={<p class="muted">No earlier versions.</p>}>
          {() => (
            <>
              <ul class="versions">
                {versions.map((v) => (
                  <li key={v.version}>
                    <span>
                      <strong>v{v.version}</strong> <span class="muted small">{fmtDate(v.created_at)}</span>
                    </span>
                    <button type="button" class="btn small" aria-pressed={chosen?.version === v.version} onClick={() => setSelected(v.version ?? null)} aria-label={`Compare v${v.version} with draft`}>
                      Compare with draft
                    </button>
                  </li>
                ))}
              </ul>
              {chosen && <DiffView before={pretty(chosen.config)} after={props.draft} beforeLabel={`v${chosen.version}`} afterLabel="draft" />}
            </>
          )}
        </Async>
      )}
    </section>
  );
}

function IssueList(props: { issues: ConfigIssue[]; onJump: (line: number) => void }) {
  return (
    <ul class="issues" id="config-issues">
      {props.issues.map((i, n) => (
        <li key={n}>
          {i.line !== undefined ? (
            <button type="button" class="btn small ghost" onClick={() => props.onJump(i.line!)} aria-label={`Go to line ${i.line}`}>
              Line {i.line}
            </button>
          ) : null}{' '}
          {i.path && (
            <>
              <span class="mono">{i.path}</span>:{' '}
            </>
          )}
          {i.message}
        </li>
      ))}
    </ul>
  );
}

export default function ConfigEditor(props: { params: Record<string, string> }) {
  const isNew = props.params.slug === 'new';
  const slug = props.params.slug;
  const load = useLoad((signal) => (isNew ? Promise.resolve(null) : api<ConfigItem>(`/v1/configs/${encodeURIComponent(slug)}`, { signal })), [slug]);
  const [name, setName] = useState('');
  const [text, setText] = useState(isNew ? STARTER : '');
  const [saved, setSaved] = useState(isNew ? '' : '');
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const [checked, setChecked] = useState(() => checkConfigText(text));
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (load.status === 'ok' && load.data) {
      const t = pretty(load.data.config);
      setName(load.data.name);
      setText(t);
      setSaved(t);
    }
  }, [load.status, load.data]);

  // Validate as you type, a beat after the last keystroke.
  useEffect(() => {
    const h = setTimeout(() => setChecked(checkConfigText(text)), 150);
    return () => clearTimeout(h);
  }, [text]);

  const schema = useMemo(() => configJsonSchema(), []);
  const dirty = text !== saved || (load.data && name !== load.data.name);

  function jump(line: number) {
    const el = area.current;
    if (!el) return;
    const lines = el.value.split('\n');
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(offset, offset + (lines[line - 1]?.length ?? 0));
  }

  async function save(e: Event) {
    e.preventDefault();
    const now = checkConfigText(text);
    setChecked(now);
    if (!now.ok) return;
    if (!name.trim()) return setSaveError('Give the config a name.');
    setBusy(true);
    setSaveError(null);
    try {
      if (isNew) {
        const res = await api<{ slug: string }>('/v1/configs', { body: { name: name.trim(), config: now.value } });
        toast(`Config "${name}" created`);
        navigate(`/configs/${encodeURIComponent(res.slug)}`);
      } else {
        await api(`/v1/configs/${encodeURIComponent(slug)}`, { method: 'PUT', body: { name: name.trim(), config: now.value } });
        toast('Saved a new version');
        setSaved(text);
        setReloadKey((k) => k + 1);
        load.reload();
      }
    } catch (err) {
      setSaveError(failure(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    try {
      await api(`/v1/configs/${encodeURIComponent(slug)}`, { method: 'DELETE' });
      toast('Config deleted');
      navigate('/configs');
    } catch (err) {
      toast(failure(err), 'error');
    }
  }

  if (!isNew && load.status === 'error' && !load.data) return <ErrorState error={load.error} feature="configs" onRetry={load.reload} />;
  if (!isNew && !load.data) return <Spinner />;
  const cfg = load.data;

  return (
    <>
      <PageHeader
        title={isNew ? 'New config' : `Config: ${cfg?.name}`}
        description={
          isNew ? (
            'Write the config as JSON; it is checked against the gateway schema as you type.'
          ) : (
            <>
              <span class="mono">{cfg?.slug}</span> · version {cfg?.version ?? '—'} · <StatusBadge status={cfg?.status ?? 'active'} /> · use it with{' '}
              <code>x-portkey-config: {cfg?.slug}</code>
            </>
          )
        }
        actions={
          <>
            <a class="btn" href="/configs">
              Back to configs
            </a>
            {!isNew && (
              <button type="button" class="btn danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            )}
          </>
        }
      />
      <div class="editor-layout">
        <form class="panel" onSubmit={save} aria-label="Config editor" novalidate>
          <Field label="Name">{(id) => <input id={id} name="config-name" required value={name} onInput={(e) => setName(val(e))} />}</Field>
          <Field label="Config JSON" hint="Checked against the gateway's config schema as you type. Ctrl/⌘+Enter saves.">
            {(id, d) => (
              <textarea
                id={id}
                ref={area}
                name="config-json"
                class="mono json-editor"
                rows={18}
                spellcheck={false}
                aria-invalid={!checked.ok}
                aria-describedby={`${d ?? ''} config-status`}
                value={text}
                onInput={(e) => setText(val(e))}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) (e.currentTarget.form as HTMLFormElement).requestSubmit();
                  if (e.key === 'Tab' && !e.shiftKey && e.altKey) return;
                }}
              />
            )}
          </Field>
          <div id="config-status" aria-live="polite">
            {checked.ok ? (
              <p class="valid" data-testid="config-valid">
                ✓ Valid gateway config
              </p>
            ) : (
              <div role="alert" data-testid="config-invalid">
                <strong>{checked.issues.length === 1 ? '1 problem' : `${checked.issues.length} problems`}</strong>
                <IssueList issues={checked.issues} onJump={jump} />
              </div>
            )}
          </div>
          {saveError && (
            <div class="alert error" role="alert">
              The control plane refused the config: {saveError}
            </div>
          )}
          <div class="form-actions">
            {!isNew && dirty && (
              <button type="button" class="btn" onClick={() => setText(saved)}>
                Discard changes
              </button>
            )}
            <button type="submit" class="btn primary" disabled={busy || !checked.ok}>
              {busy ? 'Saving…' : isNew ? 'Create config' : 'Save new version'}
            </button>
          </div>
        </form>
        <div>
          {!isNew && <Versions slug={slug} draft={text} saved={saved} reloadKey={reloadKey} />}
          {!isNew && text !== saved && (
            <section class="panel" aria-label="Unsaved changes">
              <DiffView before={saved} after={text} beforeLabel="saved" afterLabel="draft" />
            </section>
          )}
          <details class="panel">
            <summary>Schema reference</summary>
            <p class="muted small">The JSON Schema of the gateway config (generated from the schema the gateway itself uses).</p>
            <pre class="code" tabIndex={0} aria-label="Gateway config JSON schema">
              {schema ? JSON.stringify(schema, null, 2) : 'Not available in this build.'}
            </pre>
          </details>
        </div>
      </div>
      <Confirm
        open={confirmDelete}
        title="Delete this config?"
        body={<p>Requests that name "{cfg?.slug}" in x-portkey-config will fail once gateways sync. This cannot be undone.</p>}
        confirm="Delete config"
        danger
        onConfirm={remove}
        onClose={() => setConfirmDelete(false)}
      />
    </>
  );
}
