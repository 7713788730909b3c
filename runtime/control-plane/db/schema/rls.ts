/**
 * Row-level security building blocks shared by the migrations.
 *
 * - `tollgate_app`: the role every API request runs as (`SET LOCAL ROLE` inside its transaction).
 *   It sees only rows whose organisation is `current_setting('tollgate.org_id')`, and, when
 *   `tollgate.workspace_id` is set (workspace-scoped callers), only that workspace's rows.
 * - `tollgate_definer`: owns the few SECURITY DEFINER functions that must look across orgs
 *   (API key and data-plane credential lookup by hash, login by email). It gets narrow
 *   SELECT/UPDATE policies of its own and no other grants.
 * - `tollgate_platform`: the platform admin (vendor) role; it may list and change organisations.
 *
 * Tables are FORCE ROW LEVEL SECURITY so even their owner (Aurora's master user) is filtered.
 * Roles are cluster-wide, so creating them tolerates a concurrent creator in another database.
 */
export const APP_ROLE = 'tollgate_app';
export const DEFINER_ROLE = 'tollgate_definer';
export const PLATFORM_ROLE = 'tollgate_platform';

export const ORG_SETTING = 'tollgate.org_id';
export const WORKSPACE_SETTING = 'tollgate.workspace_id';

export function ensureRole(role: string): string[] {
  return [
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
     END $$`,
    // The connecting (migrating) user must be able to SET ROLE to it.
    `DO $$ BEGIN
       EXECUTE format('GRANT ${role} TO %I', current_user);
     EXCEPTION WHEN OTHERS THEN NULL;
     END $$`,
  ];
}

const orgExpr = `current_setting('${ORG_SETTING}', true)`;
const wsExpr = `current_setting('${WORKSPACE_SETTING}', true)`;

/** RLS for a table whose rows belong to one organisation (and optionally one workspace). */
export function tenantTable(table: string, opts: { orgColumn?: string; workspaceColumn?: string } = {}): string[] {
  const org = opts.orgColumn ?? 'organisation_id';
  const out = [
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}`,
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_isolation ON ${table} USING (${org} = ${orgExpr}) WITH CHECK (${org} = ${orgExpr})`,
  ];
  if (opts.workspaceColumn) {
    out.push(
      // The setting is a comma list (an org member's workspaces); CASE rather than OR, see migration 62.
      `CREATE POLICY workspace_scope ON ${table} AS RESTRICTIVE
         USING (CASE WHEN coalesce(${wsExpr}, '') = '' THEN true ELSE ${opts.workspaceColumn} = ANY (string_to_array(${wsExpr}, ',')) END)`,
    );
  }
  return out;
}

/** Lets the definer role read (and optionally update) every row of a table, for its lookup functions only. */
export function definerAccess(table: string, update = false): string[] {
  const out = [
    `GRANT SELECT ON ${table} TO ${DEFINER_ROLE}`,
    `CREATE POLICY definer_read ON ${table} FOR SELECT TO ${DEFINER_ROLE} USING (true)`,
  ];
  if (update) {
    out.push(`GRANT UPDATE ON ${table} TO ${DEFINER_ROLE}`);
    out.push(`CREATE POLICY definer_update ON ${table} FOR UPDATE TO ${DEFINER_ROLE} USING (true) WITH CHECK (true)`);
  }
  return out;
}

/** A SECURITY DEFINER function owned by the definer role, with a pinned search_path. */
export function definerFunction(signature: string, returns: string, body: string, volatility = 'STABLE'): string[] {
  return [
    `CREATE OR REPLACE FUNCTION ${signature} RETURNS ${returns}
       LANGUAGE sql ${volatility} SECURITY DEFINER SET search_path = pg_catalog, public
       AS $fn$ ${body} $fn$`,
    `ALTER FUNCTION ${signature} OWNER TO ${DEFINER_ROLE}`,
  ];
}
