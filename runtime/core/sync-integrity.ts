import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Integrity of sync payloads (protocol 2). The control plane signs every body it sends with
 * HMAC-SHA256 under a key derived (HKDF-SHA256) from the data-plane credential's hash; the gateway,
 * which holds the credential, derives the same key and verifies before parsing. The gateway signs
 * the snapshot it persists (Redis or disk) with a second key from the same credential, so a
 * tampered or foreign cache entry is refused at restore.
 *
 * Secrets inside the payload are envelope-encrypted on their own (AWS Encryption SDK); this HMAC
 * protects everything else (API-key hashes, configs, statuses), e.g. against a writable cache
 * planting an API key. The control plane only stores the credential's SHA-256, so the key is
 * derived from that hash: holding the database is already holding the org.
 */
export type SyncKeyPurpose = 'payload' | 'cache';

const SIGNATURE_PREFIX = 'hmac-sha256=';

/** `tokenHash` is `hashSecret(dataPlaneToken)` (hex SHA-256), what the control plane stores. */
export function deriveSyncKey(tokenHash: string, purpose: SyncKeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(tokenHash, 'utf8'), Buffer.from('tollgate-sync'), Buffer.from(`tollgate/${purpose}/v1`), 32));
}

export function signBody(key: Buffer, body: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', key).update(body, 'utf8').digest('base64url');
}

/**
 * `signBody(key, parts.join(''))` without joining them, hashed about 1 MiB at a time with the event
 * loop let through in between: the gateway signs its 20 MB snapshot copy while serving.
 */
export async function signPartsYielding(key: Buffer, parts: readonly string[]): Promise<string> {
  const hmac = createHmac('sha256', key);
  let carry = '';
  let sinceYield = 0;
  for (const part of parts) {
    for (let start = 0; start < part.length; ) {
      const end = Math.min(part.length, start + 1_048_576);
      let slice = carry + part.slice(start, end);
      carry = '';
      // A surrogate pair split across two updates would be hashed as two replacement characters.
      const last = slice.charCodeAt(slice.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        carry = slice.slice(-1);
        slice = slice.slice(0, -1);
      }
      hmac.update(slice, 'utf8');
      sinceYield += end - start;
      start = end;
      if (sinceYield >= 1_048_576) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }
  if (carry) hmac.update(carry, 'utf8');
  return SIGNATURE_PREFIX + hmac.digest('base64url');
}

export function verifyBody(key: Buffer, body: string, signature: string | undefined | null): boolean {
  if (!signature || !signature.startsWith(SIGNATURE_PREFIX)) return false;
  const expected = Buffer.from(signBody(key, body));
  const given = Buffer.from(signature.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A short, non-secret id for cache keys: gateways with the same credential share one entry. */
export function credentialFingerprint(tokenHash: string): string {
  return createHash('sha256').update(`tollgate-cache-id:${tokenHash}`).digest('hex').slice(0, 16);
}
