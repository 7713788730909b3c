import { controlPlaneRoutes, type ControlPlaneRoute } from './routes.js';

export interface MatchedRoute {
  route: ControlPlaneRoute;
  pathParameters: Record<string, string>;
}

interface CompiledRoute {
  route: ControlPlaneRoute;
  method: string;
  segments: string[];
}

const compiled: CompiledRoute[] = controlPlaneRoutes.map((route) => {
  const [method, path] = route.routeKey.split(' ');
  return { route, method, segments: path.split('/').filter(Boolean) };
});

/**
 * Matches a request to the route table the way API Gateway does: literal segments before
 * `{param}` segments, so `/v1/api-keys/{id}` never swallows a literal sibling.
 */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  const parts = path.split('/').filter(Boolean);
  let best: { match: MatchedRoute; literals: number } | undefined;
  for (const c of compiled) {
    if (c.method !== method.toUpperCase() || c.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const ok = c.segments.every((seg, i) => {
      if (seg.startsWith('{') && seg.endsWith('}')) {
        try {
          params[seg.slice(1, -1)] = decodeURIComponent(parts[i]);
        } catch {
          return false;
        }
        return true;
      }
      literals += 1;
      return seg === parts[i];
    });
    if (ok && (!best || literals > best.literals)) best = { match: { route: c.route, pathParameters: params }, literals };
  }
  return best?.match;
}

/** Whether some route has this path with another method (for a 405 rather than a 404). */
export function pathExists(path: string): boolean {
  return ['GET', 'POST', 'PUT', 'DELETE'].some((m) => matchRoute(m, path));
}
