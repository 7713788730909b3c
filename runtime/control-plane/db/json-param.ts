/**
 * jsonb parameters are always sent as JSON text: `pg` would turn a JS array into a Postgres
 * array literal, and PGlite parses text for `$n::jsonb` too, so this behaves the same on both.
 */
export function jsonParam(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
