import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Serves the control panel (runtime/ui/dist, built by `npm run build:ui`) from the control plane's
 * own origin in `tollgate dev`, so the UI and the API share cookies and need no CORS.
 * In AWS the same files are served from S3 behind CloudFront instead.
 *
 * - Only GET and HEAD, never `/v1/...` (the API): anything else answers `false` and is left to the router.
 * - Files under `assets/` carry a content hash in their names: cached for a year, immutable.
 *   index.html is `no-cache`, so a new build is picked up on the next load.
 * - Paths that are not files and look like client routes (no extension) get index.html.
 * - No path traversal: the resolved path must stay inside the dist directory.
 */

const DEFAULT_ROOT = fileURLToPath(new URL('../ui/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** Same-origin only; the UI never needs to be framed (clickjacking) and loads nothing from elsewhere. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src *; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
};

export interface ServeUiOptions {
  /** The built UI; default runtime/ui/dist next to this package (or TOLLGATE_UI_DIR). */
  root?: string;
}

interface Found {
  path: string;
  size: number;
  mtime: Date;
}

async function fileAt(path: string): Promise<Found | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, size: s.size, mtime: s.mtime } : undefined;
  } catch {
    return undefined;
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function serveUi(req: IncomingMessage, res: ServerResponse, opts: ServeUiOptions = {}): Promise<boolean> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname);
  } catch {
    return false; // malformed escapes: let the API answer 404
  }
  if (pathname === '/v1' || pathname.startsWith('/v1/')) return false;

  const root = resolve(opts.root ?? process.env.TOLLGATE_UI_DIR ?? DEFAULT_ROOT);
  if (pathname.includes('\0')) {
    send(req, res, 400, 'text/plain; charset=utf-8', 'bad path\n');
    return true;
  }
  const target = resolve(root, `.${pathname}`);
  if (target !== root && !target.startsWith(root + sep)) {
    send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return true;
  }

  let found = pathname.endsWith('/') ? undefined : await fileAt(target);
  const ext = extname(pathname).toLowerCase();
  if (!found) {
    // A missing asset is a 404 (a stale hashed file must not get HTML back); a route gets index.html.
    if (ext && ext !== '.html') {
      send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return true;
    }
    found = await fileAt(join(root, 'index.html'));
    if (!found) {
      send(
        req,
        res,
        503,
        'text/html; charset=utf-8',
        '<!doctype html><title>Tollgate</title><h1>The control panel is not built</h1><p>Run <code>npm run build:ui</code> (npm ci does it for you), then reload. The API is at <code>/v1</code>.</p>\n',
      );
      return true;
    }
  }

  const type = TYPES[extname(found.path).toLowerCase()] ?? 'application/octet-stream';
  const hashed = /^\/assets\//.test(pathname) && found.path !== join(root, 'index.html');
  const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtime.getTime() / 1000).toString(16)}"`;
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'content-type': type,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag,
    'last-modified': found.mtime.toUTCString(),
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  headers['content-length'] = found.size;
  res.writeHead(200, headers);
  if (method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(found.path);
    stream.on('error', () => {
      res.destroy();
      done();
    });
    stream.on('end', done);
    stream.pipe(res);
  });
  return true;
}
