import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, defaultApiBase, routeOffered, setSession, type Session } from './api.ts';
import { navigate } from './router.ts';
import { Field, val } from './ui.tsx';

/** Routes of the login API (issue 4); the forms for them appear only when the control plane answers them. */
export const AUTH_ROUTES = { password: '/v1/auth/login', oidcStart: '/v1/auth/oidc/login' };

function safeNext(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/logs';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/logs';
}

/** Any authenticated read proves the credential; 403 still proves it (a key with narrow scopes). */
async function verify(s: Session): Promise<void> {
  for (const path of ['/v1/admin/workspaces', '/v1/configs', '/v1/virtual-keys']) {
    try {
      await api(path, { as: s, query: { page_size: 1 } });
      return;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.notOffered)) continue;
      throw e;
    }
  }
}

export function Login() {
  const [apiKey, setApiKey] = useState('');
  const [remember, setRemember] = useState(false);
  const [apiBase, setApiBase] = useState(defaultApiBase());
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [offers, setOffers] = useState<{ password: boolean; sso: boolean } | null>(null);

  useEffect(() => {
    document.title = 'Log in · Tollgate';
    let live = true;
    Promise.all([routeOffered(AUTH_ROUTES.password, apiBase), routeOffered(AUTH_ROUTES.oidcStart, apiBase)]).then(([password, sso]) => {
      if (live) setOffers({ password, sso });
    });
    // Back from single sign-on: the session cookie is set, prove it and go in.
    if (new URLSearchParams(location.search).has('sso')) {
      const s: Session = { mode: 'cookie', apiBase };
      verify(s).then(
        () => {
          setSession(s);
          navigate(safeNext(), true);
        },
        (e: Error) => live && setError(`Single sign-on did not complete: ${e.message}`),
      );
    }
    return () => {
      live = false;
    };
  }, [apiBase]);

  async function loginWithKey(e: Event) {
    e.preventDefault();
    const key = apiKey.trim();
    if (!key) return setError('Enter an API key. `tollgate dev` prints the admin key and writes it to .tollgate/credentials.json.');
    setBusy(true);
    setError(null);
    const s: Session = { mode: 'api-key', apiKey: key, apiBase: apiBase.replace(/\/+$/, '') };
    try {
      await verify(s);
      setSession(s, remember);
      navigate(safeNext(), true);
    } catch (err) {
      const ae = err as ApiError;
      setError(ae.status === 401 ? 'That API key is unknown, revoked or expired. Check it and try again.' : ae.message);
    } finally {
      setBusy(false);
    }
  }

  async function loginWithPassword(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const s: Session = { mode: 'cookie', apiBase: apiBase.replace(/\/+$/, '') };
    try {
      await api(AUTH_ROUTES.password, { as: s, method: 'POST', body: { email, password } });
      await verify(s);
      setSession(s, remember);
      navigate(safeNext(), true);
    } catch (err) {
      const ae = err as ApiError;
      setError(
        ae.status === 401
          ? 'Email or password is wrong. Try again, or ask an admin to reset your password.'
          : ae.status === 429
            ? 'Too many attempts. Wait a minute, then try again.'
            : ae.message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login" id="main">
      <div class="login-card">
        <div class="brand big">
          <span class="logo" aria-hidden="true">
            T
          </span>
          Tollgate
        </div>
        <h1>Log in to the control panel</h1>
        {error && (
          <div class="alert error" role="alert" id="login-error">
            {error}
          </div>
        )}
        {offers?.sso && (
          <a class="btn block" href={`${apiBase}${AUTH_ROUTES.oidcStart}`}>
            Continue with single sign-on
          </a>
        )}
        {offers?.password && (
          <form onSubmit={loginWithPassword} aria-label="Log in with email and password">
            <Field label="Email">
              {(id) => <input id={id} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(val(e))} />}
            </Field>
            <Field label="Password">
              {(id) => <input id={id} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(val(e))} />}
            </Field>
            <button class="btn primary block" type="submit" disabled={busy}>
              Log in
            </button>
          </form>
        )}
        {(offers?.password || offers?.sso) && <div class="divider">or use an API key</div>}
        <form onSubmit={loginWithKey} aria-label="Log in with an API key">
          <Field label="API key" hint="An organisation or workspace API key. `tollgate dev` prints the admin key.">
            {(id, d) => (
              <input
                id={id}
                name="api-key"
                type="password"
                autocomplete="off"
                spellcheck={false}
                aria-describedby={d}
                value={apiKey}
                onInput={(e) => setApiKey(val(e))}
              />
            )}
          </Field>
          <details class="advanced">
            <summary>Advanced</summary>
            <Field label="Control plane URL" hint="Where the API lives; the same origin as this page unless it is hosted apart.">
              {(id, d) => <input id={id} type="url" aria-describedby={d} value={apiBase} onChange={(e) => setApiBase(val(e))} />}
            </Field>
          </details>
          <label class="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember((e.currentTarget as HTMLInputElement).checked)} />
            Keep me logged in on this device
          </label>
          <button class="btn primary block" type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Log in with API key'}
          </button>
        </form>
        {offers === null && <p class="muted small">Checking which sign-in methods this control plane offers…</p>}
      </div>
    </main>
  );
}
