import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { deletePrice, priceOverrides, upsertPrice } from '../db/catalogue-repo.js';
import { mutateOrg } from '../db/revision.js';
import { requireOrganisationKey } from '../http/auth.js';
import { authorized } from '../http/authorized.js';
import type { RouteFn } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { expectedVersion, staleOrMissing } from '../http/versioning.js';
import { mergedPrices, priceEntry } from '../pricing/catalogue.js';

const price = priceEntry.pick({ input: true, output: true, cached_input: true }).extend({ cached_input: z.number().nonnegative().nullable().default(null) });

export const pricingRoutes: Record<string, RouteFn> = {
  /** The catalogue as this org's gateways price requests: shipped defaults with the org's overrides on top. */
  'GET /v1/pricing': authorized('pricing', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const all = mergedPrices(await priceOverrides(req.ctx.db, caller.organisationId)).filter(
      (p) => (!req.query.provider || p.provider === req.query.provider) && (!req.query.model || p.model === req.query.model),
    );
    return json(200, { ...listBody(all.slice(page.offset, page.offset + page.limit), all.length, page), unit: 'USD per 1M tokens' });
  }),
  'PUT /v1/pricing/{provider}/{model}': authorized('pricing', 'update', async (req, caller) => {
    requireOrganisationKey(caller, 'changing model prices');
    const body = validate(price, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const entry = { provider: req.params.provider ?? '', model: req.params.model ?? '', ...body };
    validate(priceEntry, entry);
    const ok = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => upsertPrice(tx, caller.organisationId, entry, expected));
    if (!ok) staleOrMissing('price', `${entry.provider}/${entry.model}`, true);
    return json(200, { ...entry, source: 'override', object: 'price' });
  }),
  /** Removes the override: the shipped default applies again. */
  'DELETE /v1/pricing/{provider}/{model}': authorized('pricing', 'delete', async (req, caller) => {
    requireOrganisationKey(caller, 'changing model prices');
    const ok = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deletePrice(tx, caller.organisationId, req.params.provider ?? '', req.params.model ?? ''));
    if (!ok) throw notFound(`no price override for ${req.params.provider}/${req.params.model}`);
    return json(200, { success: true });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'PUT /v1/pricing/{provider}/{model}': { body: price, summary: 'Override a model price for this organisation' },
};
