import { badRequest, conflict, notFound } from './problems.js';

/**
 * Optimistic concurrency. A client sends back the version it read, either as `If-Match: "<n>"`
 * (the ETag GET returned) or as a `version` field in the body; an update whose version is no longer
 * current gets 409 instead of silently overwriting someone else's change. Sending neither keeps the
 * last-writer-wins behaviour Portkey clients expect.
 */
export function expectedVersion(headers: Record<string, string | undefined>, body: Record<string, unknown>): number | undefined {
  const header = headers['if-match']?.trim();
  let fromHeader: number | undefined;
  if (header && header !== '*') {
    const m = /^(?:W\/)?"?(\d+)"?$/.exec(header);
    if (!m) throw badRequest('If-Match: expected the version ETag, e.g. "3"');
    fromHeader = Number(m[1]);
  }
  const raw = body.version;
  let fromBody: number | undefined;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) throw badRequest('version: expected a positive integer');
    fromBody = raw;
  }
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw badRequest('version: differs from the If-Match header');
  }
  return fromHeader ?? fromBody;
}

export function assertVersion(kind: string, current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw conflict(`${kind} was changed by someone else (version ${current}, you sent ${expected}); read it again and retry`);
  }
}

export const etag = (version: number): Record<string, string> => ({ etag: `"${version}"` });

/** After an update matched no row: 409 when the row still exists (its version moved), else 404. */
export function staleOrMissing(kind: string, ref: string, stillExists: boolean): never {
  if (stillExists) throw conflict(`${kind} "${ref}" was changed by someone else; read it again and retry`);
  throw notFound(`${kind} "${ref}" not found`);
}
