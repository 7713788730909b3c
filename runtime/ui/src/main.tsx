import { render, type ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, onSessionChange, session, setSession } from './api.ts';
import { Login } from './login.tsx';
import { installLinkInterceptor, match, navigate, useLocation } from './router.ts';
import './styles.css';
import { ErrorState, focusOnNextPage, Spinner, Toaster } from './ui.tsx';

type PageModule = { default: ComponentType<{ params: Record<string, string> }> };

/** Every page but the login is its own chunk, loaded on first visit (charts pull in uPlot only there). */
const routes: { pattern: string; load: () => Promise<PageModule> }[] = [
  { pattern: '/logs', load: () => import('./pages/logs.tsx') },
  { pattern: '/logs/:id', load: () => import('./pages/log-detail.tsx') },
  { pattern: '/analytics', load: () => import('./pages/analytics.tsx') },
  { pattern: '/prompts', load: () => import('./pages/prompts.tsx') },
  { pattern: '/prompts/:id', load: () => import('./pages/prompt-editor.tsx') },
  { pattern: '/configs', load: () => import('./pages/configs.tsx') },
  { pattern: '/configs/:slug', load: () => import('./pages/config-editor.tsx') },
  { pattern: '/virtual-keys', load: () => import('./pages/virtual-keys.tsx') },
  { pattern: '/api-keys', load: () => import('./pages/api-keys.tsx') },
  { pattern: '/organisation', load: () => import('./pages/organisation.tsx') },
  { pattern: '/data-planes', load: () => import('./pages/data-planes.tsx') },
  { pattern: '/audit-log', load: () => import('./pages/audit-log.tsx') },
];

const nav: { href: string; label: string; group: string }[] = [
  { href: '/logs', label: 'Logs', group: 'Observe' },
  { href: '/analytics', label: 'Analytics', group: 'Observe' },
  { href: '/prompts', label: 'Prompts', group: 'Build' },
  { href: '/configs', label: 'Configs', group: 'Build' },
  { href: '/virtual-keys', label: 'Virtual keys', group: 'Build' },
  { href: '/api-keys', label: 'API keys', group: 'Access' },
  { href: '/organisation', label: 'Organisation', group: 'Access' },
  { href: '/data-planes', label: 'Data planes', group: 'Operate' },
  { href: '/audit-log', label: 'Audit log', group: 'Operate' },
];

const loaded = new Map<string, PageModule>();

// The first page's chunk starts downloading while the shell renders, not an effect (a frame) later;
// PageHost's own load() then gets the same module from the browser's cache of the import.
if (location.pathname !== '/login') routes.find((r) => match(r.pattern, location.pathname))?.load().catch(() => undefined);

function PageHost(props: { path: string }) {
  const found = routes.map((r) => ({ r, params: match(r.pattern, props.path) })).find((x) => x.params);
  const [mod, setMod] = useState<PageModule | undefined>(found ? loaded.get(found.r.pattern) : undefined);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    setError(null);
    if (!found) return;
    const cached = loaded.get(found.r.pattern);
    if (cached) return setMod(() => cached);
    setMod(undefined);
    let live = true;
    found.r.load().then(
      (m) => {
        loaded.set(found.r.pattern, m);
        if (live) setMod(() => m);
      },
      (e: Error) => live && setError(new Error(`Could not load this page (${e.message}). Reload the browser tab; if the UI was just upgraded, the old files are gone.`)),
    );
    return () => {
      live = false;
    };
  }, [found?.r.pattern]);
  if (!found) {
    return (
      <div class="state state-empty">
        <h1>Page not found</h1>
        <p>
          Nothing lives at <code>{props.path}</code>. Pick a page from the navigation, or go to <a href="/logs">Logs</a>.
        </p>
      </div>
    );
  }
  if (error) return <ErrorState error={error} />;
  if (!mod || mod !== loaded.get(found.r.pattern)) return <Spinner label="Loading page…" />;
  const Page = mod.default;
  return <Page params={found.params!} />;
}

function Shell() {
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    setMenuOpen(false);
    // Move focus to the new page for keyboard and screen-reader users (not on first load).
    if (first.current) first.current = false;
    else {
      // The page may still be loading its chunk: its header takes focus when it mounts.
      focusOnNextPage.pending = true;
      const h = document.getElementById('page-title');
      if (h && !main.current?.querySelector('.state-loading')) {
        focusOnNextPage.pending = false;
        h.focus();
      }
    }
  }, [path]);
  const s = session();
  const groups = [...new Set(nav.map((n) => n.group))];
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/logs" aria-label="Tollgate home">
          <span class="logo" aria-hidden="true">
            T
          </span>
          Tollgate
        </a>
        <button type="button" class="btn ghost menu-toggle" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div class="topbar-right">
          <span class="muted small who">{s?.mode === 'api-key' ? 'Signed in with an API key' : 'Signed in'}</span>
          <button
            type="button"
            class="btn small"
            onClick={async () => {
              if (s?.mode === 'cookie') await api('/v1/auth/logout', { method: 'POST', body: {} }).catch(() => undefined);
              setSession(null);
              navigate('/login');
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <nav id="main-nav" class={`sidenav ${menuOpen ? 'open' : ''}`} aria-label="Main">
        {groups.map((g) => (
          <div class="nav-group" key={g}>
            <div class="nav-group-label" aria-hidden="true">
              {g}
            </div>
            <ul>
              {nav
                .filter((n) => n.group === g)
                .map((n) => {
                  const active = path === n.href || path.startsWith(`${n.href}/`);
                  return (
                    <li key={n.href}>
                      <a href={n.href} aria-current={active ? 'page' : undefined} class={active ? 'active' : ''}>
                        {n.label}
                      </a>
                    </li>
                  );
                })}
            </ul>
          </div>
        ))}
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <PageHost path={path} />
      </main>
      <Toaster />
    </div>
  );
}

function App() {
  const { path } = useLocation();
  const [, force] = useState(0);
  useEffect(() => onSessionChange(() => force((n) => n + 1)), []);
  const s = session();
  useEffect(() => {
    if (!s && path !== '/login') navigate(`/login${path !== '/' ? `?next=${encodeURIComponent(path + location.search)}` : ''}`, true);
    else if (s && (path === '/' || path === '/login')) navigate(new URLSearchParams(location.search).get('next') ?? '/logs', true);
  }, [s, path]);
  if (!s) return path === '/login' ? <Login /> : <Spinner />;
  if (path === '/' || path === '/login') return <Spinner />;
  return <Shell />;
}

installLinkInterceptor();
render(<App />, document.getElementById('app')!);
