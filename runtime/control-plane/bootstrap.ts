import type { SqlDatabase, SqlQueryable } from '../core/db.js';
import { hashSecret, maskSecret, newId, newSecret } from '../core/secrets.js';
import { findApiKeyByHash, insertApiKey } from './db/api-keys-repo.js';
import { findCredentialByHash, insertCredential } from './db/credentials-repo.js';
import { mutateOrg } from './db/revision.js';
import { withTenant } from './db/tenant.js';
import { insertWorkspace } from './db/workspaces-repo.js';
import { ALL_SCOPES } from './scopes.js';

export const API_KEY_PREFIX = 'tg-';
export const DATA_PLANE_TOKEN_PREFIX = 'tgdp-';

export interface OrganisationCredentials {
  organisationId: string;
  defaultWorkspaceId: string;
  /** Plaintexts: returned to the caller once; the database keeps only their hashes. */
  adminApiKey: string;
  dataPlaneToken: string;
}

export interface CredentialInputs {
  adminApiKey?: string;
  dataPlaneToken?: string;
}

async function ensureAdminKey(tx: SqlQueryable, orgId: string, key: string): Promise<void> {
  if (await findApiKeyByHash(tx, hashSecret(key))) return;
  await insertApiKey(tx, orgId, {
    keyHash: hashSecret(key),
    maskedKey: maskSecret(key),
    name: 'Organisation admin',
    scope: 'organisation',
    type: 'service',
    workspaceId: null,
    scopes: [...ALL_SCOPES],
  });
}

async function ensureDataPlaneToken(tx: SqlQueryable, orgId: string, token: string): Promise<void> {
  if (await findCredentialByHash(tx, hashSecret(token))) return;
  await insertCredential(tx, orgId, hashSecret(token), 'default data plane');
}

/** A new org with its default workspace, an org admin service key and a data-plane credential. */
export async function createOrganisation(db: SqlDatabase, name: string, inputs: CredentialInputs = {}): Promise<OrganisationCredentials> {
  const organisationId = newId('org-');
  await withTenant(db, organisationId, (tx) => tx.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [organisationId, name]));
  return ensureOrganisationCredentials(db, organisationId, inputs);
}

/**
 * Makes sure the given (or freshly generated) admin key and data-plane token exist for the org.
 * A restart passes back the plaintexts it was given the first time, so the same keys keep working;
 * a key the database already knows is left untouched (a revoked key stays revoked).
 */
export async function ensureOrganisationCredentials(
  db: SqlDatabase,
  organisationId: string,
  inputs: CredentialInputs = {},
): Promise<OrganisationCredentials> {
  const adminApiKey = inputs.adminApiKey ?? newSecret(API_KEY_PREFIX);
  const dataPlaneToken = inputs.dataPlaneToken ?? newSecret(DATA_PLANE_TOKEN_PREFIX, 32);
  const defaultWorkspaceId = await withTenant(db, organisationId, (scoped) => mutateOrg(scoped, organisationId, async (tx) => {
    const existing = await tx.query<{ id: string }>(
      'SELECT id FROM workspaces WHERE organisation_id = $1 AND is_default ORDER BY created_at LIMIT 1',
      [organisationId],
    );
    const workspaceId =
      existing.rows[0]?.id ?? (await insertWorkspace(tx, organisationId, { slug: 'default', name: 'Default', isDefault: true })).id;
    await ensureAdminKey(tx, organisationId, adminApiKey);
    await ensureDataPlaneToken(tx, organisationId, dataPlaneToken);
    return workspaceId;
  }));
  return { organisationId, defaultWorkspaceId, adminApiKey, dataPlaneToken };
}

/** The single-tenant start used by `tollgate dev`: the first org, created on an empty database. */
export async function bootstrapDefaultOrganisation(db: SqlDatabase, inputs: CredentialInputs = {}): Promise<OrganisationCredentials> {
  const { rows } = await db.query<{ id: string | null }>('SELECT tollgate_first_organisation() AS id');
  if (!rows[0]?.id) return createOrganisation(db, 'Default organisation', inputs);
  return ensureOrganisationCredentials(db, rows[0].id, inputs);
}
