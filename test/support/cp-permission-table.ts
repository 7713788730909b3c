import { readFileSync } from 'node:fs';
import { controlPlaneRoutes } from '../../runtime/control-plane/routes.js';

/** How a route is gated, as docs/permissions.md's Scope column says. */
export type Gate = 'scope' | 'public' | 'session' | 'org-wide' | 'platform' | 'data-plane';

export interface PermissionRow {
  /** A route key, or one ending in `*` for a family (the analytics graphs). */
  pattern: string;
  gate: Gate;
  /** For `scope` rows: the scope names, any one of which lets an API key in. */
  scopes: string[];
  /** Role codes with a ✓: `o` owner, `a` org admin, `W`/`M`/`m` workspace admin/manager/member. */
  roles: string;
}

const GATES: Record<string, Gate> = {
  public: 'public',
  'signed-in user': 'session',
  'organisation-wide caller': 'org-wide',
  'platform admin key': 'platform',
  'data-plane credential': 'data-plane',
};
export const ROLE_CODES = ['o', 'a', 'W', 'M', 'm'] as const;

/** The role × route table of docs/permissions.md, parsed; the test holds the code to it. */
export function readPermissionTable(file = new URL('../../docs/permissions.md', import.meta.url)): PermissionRow[] {
  const text = readFileSync(file, 'utf8');
  const section = text.slice(text.indexOf('## Role × route'));
  const rows: PermissionRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 7 || !cells[0].startsWith('`')) continue;
    const pattern = cells[0].replace(/`/g, '');
    const scopes = [...cells[1].matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]);
    const gate = scopes.length ? 'scope' : GATES[cells[1]];
    if (!gate) throw new Error(`docs/permissions.md: unknown gate "${cells[1]}" for ${pattern}`);
    const roles = ROLE_CODES.filter((_, i) => cells[2 + i] === '✓').join('');
    rows.push({ pattern, gate, scopes, roles });
  }
  return rows;
}

export const rowMatches = (row: PermissionRow, routeKey: string): boolean =>
  row.pattern.endsWith('*') ? routeKey.startsWith(row.pattern.slice(0, -1)) : row.pattern === routeKey;

/** Every route of the route table with its one row; throws naming routes with none or several. */
export function routesWithRows(rows = readPermissionTable()): { routeKey: string; row: PermissionRow }[] {
  const problems: string[] = [];
  const out = controlPlaneRoutes.map(({ routeKey }) => {
    const found = rows.filter((r) => rowMatches(r, routeKey));
    if (found.length !== 1) problems.push(`${routeKey}: ${found.length} rows in docs/permissions.md`);
    return { routeKey, row: found[0] };
  });
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}
