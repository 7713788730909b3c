import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { getConfigVersion, listConfigVersions, type ConfigVersionRow } from '../db/config-versions-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import type { Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { jsonDiff } from './json-diff.js';

const version = z.coerce.number().int().min(1);
const diffQuery = z.object({ from: version, to: version.optional() });

const present = (v: ConfigVersionRow) => ({ object: 'config-version', id: v.id, version: v.version, name: v.name, config: v.config, created_at: iso(v.created_at) });

/**
 * Every saved version of a config, and the difference between two of them (JSON Pointer paths,
 * add / remove / replace with the old and new values), so a change can be reviewed or undone by
 * PUTting an old version's `config` back.
 */
export function configVersionRoutes(findVisible: (req: RouteRequest, caller: Caller) => Promise<ConfigRow>): Record<string, RouteFn> {
  const versionOf = async (req: RouteRequest, c: ConfigRow, n: number) => {
    const v = await getConfigVersion(req.ctx.db, c.id, n);
    if (!v) throw notFound(`config "${c.slug}" has no version ${n}`);
    return v;
  };
  return {
    'GET /v1/configs/{slug}/versions': authorized('configs', 'read', async (req, caller) => {
      const c = await findVisible(req, caller);
      const page = pageOf(req.query);
      const { rows, total } = await listConfigVersions(req.ctx.db, c.id, page.limit, page.offset);
      return json(200, listBody(rows.map(present), total, page));
    }),

    'GET /v1/configs/{slug}/diff': authorized('configs', 'read', async (req, caller) => {
      const q = validate(diffQuery, req.query);
      const c = await findVisible(req, caller);
      const to = q.to ?? c.latest_version;
      const [a, b] = [await versionOf(req, c, q.from), await versionOf(req, c, to)];
      const changes = [...(a.name === b.name ? [] : [{ op: 'replace' as const, path: '/name', from: a.name, to: b.name }]), ...jsonDiff(a.config, b.config).map((ch) => ({ ...ch, path: `/config${ch.path}` }))];
      return json(200, { object: 'config-diff', slug: c.slug, from: a.version, to: b.version, changes });
    }),
  };
}

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'GET /v1/configs/{slug}/diff': { query: diffQuery, summary: 'What changed between two versions of a config' },
};
