import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { fmtCost, fmtDate, fmtMs, fmtNum, maskSecrets, pick, pretty } from '../format.ts';
import { Async, CodeBlock, failure, Field, PageHeader, StatusBadge, toast, useLoad, val } from '../ui.tsx';
import { FallbackPath } from './fallback-path.tsx';
import { logField, type LogRow } from './logs.tsx';

function Timings(props: { log: LogRow }) {
  const t = (pick<Record<string, unknown>>(props.log, 'timings') ?? {}) as Record<string, unknown>;
  const rows: [string, unknown][] = [
    ['Total', pick(t, 'total', 'total_ms') ?? logField.latency(props.log)],
    ['Upstream (provider)', pick(t, 'upstream', 'upstream_ms') ?? pick(props.log, 'upstream_ms', 'upstream_latency')],
    ['Gateway processing', pick(t, 'gateway', 'gateway_ms', 'processing', 'processing_ms') ?? pick(props.log, 'gateway_ms', 'gateway_processing_time')],
    ['Time to first byte', pick(t, 'first_byte', 'ttfb', 'ttfb_ms')],
  ];
  return (
    <dl class="kv">
      {rows
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{fmtMs(v)}</dd>
          </>
        ))}
    </dl>
  );
}

function FeedbackForm(props: { traceId: string | undefined; existing: unknown }) {
  const [value, setValue] = useState('1');
  const [weight, setWeight] = useState('1');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const [added, setAdded] = useState<Record<string, unknown>[]>([]);
  if (!props.traceId) return <p class="muted">This log has no trace id, so feedback cannot be attached to it.</p>;
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      await api('/v1/feedback', {
        body: { trace_id: props.traceId, value: Number(value), weight: Number(weight), metadata: note ? { note } : undefined },
      });
      setAdded((l) => [...l, { value: Number(value), weight: Number(weight), metadata: note ? { note } : undefined }]);
      setNote('');
      setSent(true);
      toast('Feedback saved');
    } catch (err) {
      setError(failure(err));
    }
  }
  const existing = [...(Array.isArray(props.existing) ? (props.existing as Record<string, unknown>[]) : []), ...added];
  return (
    <form onSubmit={submit} aria-label="Add feedback">
      {existing.length > 0 && (
        <ul aria-label="Feedback on this trace">
          {existing.map((fb, i) => (
            <li key={i}>
              value {String(fb.value)} (weight {String(fb.weight ?? 1)}) {fb.metadata ? <span class="muted mono small">{JSON.stringify(fb.metadata)}</span> : null}
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div class="alert error" role="alert">
          {error}
        </div>
      )}
      {sent && <div class="alert ok">Thanks: the feedback is stored and joined to this trace in analytics.</div>}
      <div class="form-grid">
        <Field label="Score (-10 to 10)">{(id) => <input id={id} type="number" min="-10" max="10" step="1" required value={value} onInput={(e) => setValue(val(e))} />}</Field>
        <Field label="Weight (0 to 1)">{(id) => <input id={id} type="number" min="0" max="1" step="0.1" value={weight} onInput={(e) => setWeight(val(e))} />}</Field>
        <Field label="Note (optional)">{(id) => <input id={id} value={note} onInput={(e) => setNote(val(e))} />}</Field>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary">
          Add feedback
        </button>
      </div>
    </form>
  );
}

export default function LogDetail(props: { params: Record<string, string> }) {
  const id = props.params.id;
  const load = useLoad((signal) => api<LogRow>(`/v1/logs/${encodeURIComponent(id)}`, { signal }), [id]);
  return (
    <>
      <PageHeader
        title="Log"
        description={<span class="mono">{id}</span>}
        actions={
          <a class="btn" href="/logs">
            Back to logs
          </a>
        }
      />
      <Async load={load} feature="log retrieval (/v1/logs/:id)">
        {(raw) => {
          // Secrets are masked by the data plane; masked again here in case anything slipped through.
          const log = maskSecrets((raw as { data?: LogRow }).data ?? raw) as LogRow;
          const request = pick(log, 'request', 'request_body');
          const response = pick(log, 'response', 'response_body');
          const metadata = pick(log, 'metadata');
          const bodyError = pick<{ status?: number; message?: string }>(log, 'body_error');
          const missing = bodyError
            ? `The body could not be fetched${['customer', 'gateway'].includes(String(pick(log, 'log_location'))) ? ' from the data plane that keeps it' : ''}: ${bodyError.message ?? bodyError.status}. Check that the gateway is up and reachable from the control plane, then reload.`
            : 'Not stored for this log (the gateway logs only metrics for it).';
          return (
            <>
              <div class="grid-cards">
                <div class="stat">
                  <div class="label">Status</div>
                  <div class="value">
                    <StatusBadge status={logField.status(log)} />
                  </div>
                </div>
                <div class="stat">
                  <div class="label">Cost</div>
                  <div class="value">{fmtCost(logField.cost(log), true)}</div>
                </div>
                <div class="stat">
                  <div class="label">Tokens</div>
                  <div class="value">{fmtNum(logField.tokens(log))}</div>
                </div>
                <div class="stat">
                  <div class="label">Latency</div>
                  <div class="value">{fmtMs(logField.latency(log))}</div>
                </div>
                <div class="stat">
                  <div class="label">Cache</div>
                  <div class="value">{logField.cache(log) ?? '—'}</div>
                </div>
              </div>
              <div class="grid-2">
                <section class="panel" aria-labelledby="summary-h">
                  <h2 id="summary-h">Summary</h2>
                  <dl class="kv">
                    <dt>Time</dt>
                    <dd>{fmtDate(logField.time(log))}</dd>
                    <dt>Model</dt>
                    <dd>{logField.model(log) ?? '—'}</dd>
                    <dt>Provider</dt>
                    <dd>{logField.provider(log) ?? '—'}</dd>
                    <dt>Trace id</dt>
                    <dd class="mono">{logField.trace(log) ?? '—'}</dd>
                    <dt>Config</dt>
                    <dd class="mono">{String(pick(log, 'config_slug', 'config_id', 'config') ?? '—')}</dd>
                    <dt>Prompt</dt>
                    <dd class="mono">{String(pick(log, 'prompt_slug', 'prompt_id') ?? '—')}</dd>
                    <dt>API key</dt>
                    <dd class="mono">{String(pick(log, 'api_key_id', 'api_key') ?? '—')}</dd>
                    <dt>Virtual key</dt>
                    <dd class="mono">{String(pick(log, 'virtual_key') ?? '—')}</dd>
                    <dt>Endpoint</dt>
                    <dd class="mono">{String(pick(log, 'endpoint') ?? '—')}{pick(log, 'stream') ? ' (stream)' : ''}</dd>
                    <dt>Tokens in / out</dt>
                    <dd>
                      {fmtNum(pick(log, 'req_units', 'prompt_tokens', 'tokens.request'))} / {fmtNum(pick(log, 'res_units', 'completion_tokens', 'tokens.response'))}
                    </dd>
                  </dl>
                </section>
                <section class="panel" aria-labelledby="timing-h">
                  <h2 id="timing-h">Timings, retries and fallbacks</h2>
                  <Timings log={log} />
                  <h3>Routing</h3>
                  <FallbackPath log={log} />
                </section>
              </div>
              <div class="grid-2">
                <section class="panel" aria-labelledby="req-h">
                  <h2 id="req-h">Request</h2>
                  <CodeBlock label="Request body" text={request === undefined ? missing : pretty(request)} />
                </section>
                <section class="panel" aria-labelledby="res-h">
                  <h2 id="res-h">Response</h2>
                  <CodeBlock label="Response body" text={response === undefined ? missing : pretty(response)} />
                </section>
              </div>
              {metadata !== undefined && (
                <section class="panel" aria-labelledby="meta-h">
                  <h2 id="meta-h">Metadata</h2>
                  <CodeBlock label="Metadata" text={pretty(metadata)} />
                </section>
              )}
              <section class="panel" aria-labelledby="fb-h">
                <h2 id="fb-h">Feedback</h2>
                <FeedbackForm traceId={logField.trace(log)} existing={pick(log, 'feedback', 'feedbacks')} />
              </section>
            </>
          );
        }}
      </Async>
    </>
  );
}
