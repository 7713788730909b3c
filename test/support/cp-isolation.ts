import { controlPlaneRoutes, type ControlPlaneRoute } from '../../runtime/control-plane/routes.js';

/** Routes that are not org-scoped admin routes: the sync heartbeat, platform, auth and public documents. */
export const NON_TENANT_ROUTE = /^(GET \/v1\/sync\/|[A-Z]+ \/v1\/platform\/|[A-Z]+ \/v1\/auth\/|GET \/v1\/openapi\.json)/;

export const tenantRoutes = (): ControlPlaneRoute[] => controlPlaneRoutes.filter((r) => !NON_TENANT_ROUTE.test(r.routeKey));

/** Fills `{param}`s of a route key from `values`; throws when the test does not know a param (a new route needs a fixture). */
export function fillPath(routeKey: string, values: Record<string, string>): { method: string; path: string } {
  const [method, template] = routeKey.split(' ') as [string, string];
  const segments = template.split('/');
  const path = segments
    .map((seg, i) => {
      const name = /^\{(\w+)\}$/.exec(seg)?.[1];
      if (!name) return seg;
      // `configs/{slug}` and `virtual-keys/{slug}` name different objects: key by the segment before.
      const v = values[`${segments[i - 1]}/${name}`] ?? values[name];
      if (v === undefined) throw new Error(`no fixture for {${name}} in ${routeKey}`);
      return encodeURIComponent(v);
    })
    .join('/');
  return { method, path };
}
