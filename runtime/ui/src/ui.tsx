import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { diffLines, RANGES } from './format.ts';

export type Load<T> =
  | { status: 'loading'; data?: T; error?: undefined }
  | { status: 'ok'; data: T; error?: undefined }
  | { status: 'error'; data?: T; error: Error };

/** Runs `fn` when `deps` change; keeps the last data while reloading so tables don't flash. */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Load<T> & { reload(): void } {
  const [state, setState] = useState<Load<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ status: 'loading', data: s.data }));
    fn(ctrl.signal).then(
      (data) => !ctrl.signal.aborted && setState({ status: 'ok', data }),
      (error: Error) => !ctrl.signal.aborted && error.name !== 'AbortError' && setState((s) => ({ status: 'error', error, data: s.data })),
    );
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Set by the shell on client-side navigation: the next page header takes focus (keyboard and screen-reader users). */
export const focusOnNextPage = { pending: false };

export function PageHeader(props: { title: string; description?: ComponentChildren; actions?: ComponentChildren }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Tollgate`;
  }, [props.title]);
  useEffect(() => {
    if (focusOnNextPage.pending) {
      focusOnNextPage.pending = false;
      h1.current?.focus();
    }
  }, []);
  return (
    <header class="page-header">
      <div>
        <h1 id="page-title" tabIndex={-1} ref={h1}>
          {props.title}
        </h1>
        {props.description && <p class="muted">{props.description}</p>}
      </div>
      {props.actions && <div class="actions">{props.actions}</div>}
    </header>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{props.label ?? 'Loading…'}</span>
    </div>
  );
}

/** What to do after a failure, by kind; `invalid` is the advice for a 4xx the user can fix. */
export function nextStep(e: Error, invalid: string): string {
  const api = e instanceof ApiError ? e : undefined;
  if (api?.status === 403) return 'Your API key lacks the scope this needs. Ask an admin for a key with it, or log in with another key.';
  if (api?.status === 401) return 'Your key or session is no longer valid. Log in again.';
  if (api?.status === 0) return 'Check that the control plane is running and that this browser can reach it.';
  if (api?.status === 409) return 'It changed meanwhile: reload the page and make your change again.';
  if (api && api.status >= 400 && api.status < 500) return invalid;
  return 'Retry; if it keeps failing, check the control plane logs.';
}

/** A failed action's message for a form alert or a toast: what happened, then what to do next. */
export function failure(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = e.message.replace(/[.\s]+$/, '');
  return `${message}. ${nextStep(e, 'Correct it and try again.')}`;
}

/** What to tell the user for each kind of failure: what happened and what to do next. */
export function ErrorState(props: { error: Error; feature?: string; onRetry?: () => void }) {
  const e = props.error;
  const api = e instanceof ApiError ? e : undefined;
  if (api?.notOffered) {
    return (
      <div class="state state-unavailable" role="status" data-testid="not-offered">
        <h2>Not available on this control plane yet</h2>
        <p>
          This control plane does not offer {props.feature ?? 'this feature'} yet. Upgrade the control plane to a
          release that includes it; this page starts working as soon as the API is there.
        </p>
        {props.onRetry && (
          <button type="button" class="btn" onClick={props.onRetry}>
            Check again
          </button>
        )}
      </div>
    );
  }
  const next = nextStep(e, 'Fix the request and try again.');
  return (
    <div class="state state-error" role="alert">
      <h2>Something went wrong</h2>
      <p class="error-text">{e.message}</p>
      <p class="muted">{next}</p>
      {props.onRetry && (
        <button type="button" class="btn" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty" role="status">
      <h2>{props.title}</h2>
      {props.children && <div class="muted">{props.children}</div>}
    </div>
  );
}

/** Loading, error and empty states around a loaded value. */
export function Async<T>(props: {
  load: Load<T> & { reload(): void };
  feature?: string;
  isEmpty?: (data: T) => boolean;
  empty?: ComponentChildren;
  children: (data: T) => ComponentChildren;
}) {
  const { load } = props;
  if (load.status === 'error' && load.data === undefined) return <ErrorState error={load.error} feature={props.feature} onRetry={load.reload} />;
  if (load.data === undefined) return <Spinner />;
  return (
    <>
      {load.status === 'error' && <ErrorState error={load.error} feature={props.feature} onRetry={load.reload} />}
      {props.isEmpty?.(load.data) ? props.empty : props.children(load.data)}
    </>
  );
}

type FieldProps = { label: string; hint?: ComponentChildren; error?: string | null; class?: string; children: (id: string, describedBy?: string) => ComponentChildren };

/** A label, the control, a hint and an error, wired together with ids for assistive tech. */
export function Field(props: FieldProps) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errId = props.error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${props.class ?? ''}`}>
      <label for={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.hint && (
        <div id={hintId} class="hint">
          {props.hint}
        </div>
      )}
      {props.error && (
        <div id={errId} class="field-error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Tab wraps inside an open dialog: a native modal dialog lets focus leave to the browser's own UI after its last control. */
function trapTab(e: KeyboardEvent, d: HTMLDialogElement | null): void {
  if (e.key !== 'Tab' || !d) return;
  const items = [...d.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
  if (!items.length) return;
  const [first, last] = [items[0], items[items.length - 1]];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** A modal on the native <dialog>: focus is trapped, Escape closes, focus returns to the opener. */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      const opener = document.activeElement as HTMLElement | null;
      d.showModal();
      return () => {
        // Close before focusing: while the modal is open everything outside it is inert and refuses focus.
        if (d.open) d.close();
        opener?.focus?.();
      };
    }
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class={props.wide ? 'wide' : ''} aria-labelledby={titleId} onClose={props.onClose} onCancel={props.onClose} onKeyDown={(e) => trapTab(e, ref.current)}>
      {props.open && (
        <>
          <div class="dialog-head">
            <h2 id={titleId}>{props.title}</h2>
            <button type="button" class="btn ghost icon" aria-label="Close dialog" onClick={props.onClose}>
              ✕
            </button>
          </div>
          <div class="dialog-body">{props.children}</div>
        </>
      )}
    </dialog>
  );
}

const toastListeners = new Set<(t: { text: string; kind: 'ok' | 'error' }) => void>();
export function toast(text: string, kind: 'ok' | 'error' = 'ok'): void {
  toastListeners.forEach((l) => l({ text, kind }));
}

export function Toaster() {
  const [items, setItems] = useState<{ id: number; text: string; kind: 'ok' | 'error' }[]>([]);
  useEffect(() => {
    let n = 0;
    const l = (t: { text: string; kind: 'ok' | 'error' }) => {
      const id = ++n;
      setItems((xs) => [...xs.slice(-3), { id, ...t }]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), 5000);
    };
    toastListeners.add(l);
    return () => void toastListeners.delete(l);
  }, []);
  return (
    <div class="toasts" aria-live="polite" role="status">
      {items.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

export function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="btn small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        } catch {
          toast('Copy failed: select the text and copy it by hand', 'error');
        }
      }}
    >
      {done ? 'Copied' : (props.label ?? 'Copy')}
    </button>
  );
}

export function DiffView(props: { before: string; after: string; beforeLabel: string; afterLabel: string }) {
  const lines = diffLines(props.before, props.after);
  const changed = lines.filter((l) => l.kind !== 'same').length;
  return (
    <figure class="diff">
      <figcaption>
        {props.beforeLabel} → {props.afterLabel}: {changed === 0 ? 'no differences' : `${changed} changed line${changed === 1 ? '' : 's'}`}
      </figcaption>
      <pre tabIndex={0} aria-label={`Diff from ${props.beforeLabel} to ${props.afterLabel}`}>
        {lines.map((l, i) => (
          <div key={i} class={`dl ${l.kind}`}>
            <span class="sign" aria-hidden="true">
              {l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' '}
            </span>
            <span class="sr-only">{l.kind === 'add' ? 'added: ' : l.kind === 'del' ? 'removed: ' : ''}</span>
            {l.text || ' '}
          </div>
        ))}
      </pre>
    </figure>
  );
}

export function CodeBlock(props: { text: string; label: string }) {
  return (
    <pre class="code" tabIndex={0} aria-label={props.label}>
      {props.text}
    </pre>
  );
}

export function RangePicker(props: { value: string; onChange: (id: string) => void; from?: string; to?: string; onCustom?: (from: string, to: string) => void }) {
  return (
    <div class="range-picker">
      <Field label="Time range">
        {(id) => (
          <select id={id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
            {props.onCustom && <option value="custom">Custom…</option>}
          </select>
        )}
      </Field>
      {props.value === 'custom' && props.onCustom && (
        <>
          <Field label="From">
            {(id) => <input id={id} type="datetime-local" value={props.from ?? ''} onChange={(e) => props.onCustom!((e.target as HTMLInputElement).value, props.to ?? '')} />}
          </Field>
          <Field label="To">
            {(id) => <input id={id} type="datetime-local" value={props.to ?? ''} onChange={(e) => props.onCustom!(props.from ?? '', (e.target as HTMLInputElement).value)} />}
          </Field>
        </>
      )}
    </div>
  );
}

export function StatusBadge(props: { status: string | number | undefined | null }) {
  const s = String(props.status ?? 'unknown');
  const n = Number(s);
  const kind = !Number.isNaN(n) ? (n < 300 ? 'ok' : n < 500 ? 'warn' : 'bad') : /active|healthy|ok|success|hit|accepted/i.test(s) ? 'ok' : /revoked|error|fail|unhealthy|expired|stale/i.test(s) ? 'bad' : 'neutral';
  return <span class={`badge ${kind}`}>{s}</span>;
}

export function Pager(props: { page: number; pageSize: number; total: number; onPage: (p: number) => void; label: string }) {
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" class="btn small" disabled={props.page <= 0} onClick={() => props.onPage(props.page - 1)}>
        ← Previous
      </button>
      <span aria-live="polite">
        Page {(props.page + 1).toLocaleString()} of {pages.toLocaleString()} · {props.total.toLocaleString()} total
      </span>
      <button type="button" class="btn small" disabled={props.page + 1 >= pages} onClick={() => props.onPage(props.page + 1)}>
        Next →
      </button>
    </nav>
  );
}

export function Confirm(props: { open: boolean; title: string; body: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onClose}>
      <div>{props.body}</div>
      <div class="form-actions">
        <button type="button" class="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          class={`btn ${props.danger ? 'danger' : 'primary'}`}
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}

export type InputEvent = JSX.TargetedEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, Event>;
export const val = (e: InputEvent) => (e.currentTarget as HTMLInputElement).value;
