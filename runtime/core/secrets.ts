import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API keys are random and long, so a fast hash is safe for them; passwords use argon2 elsewhere. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function newId(prefix = ''): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `sk-abc…wxyz` style: enough for a person to recognise a key, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  return `${secret.slice(0, 4)}${'*'.repeat(Math.min(secret.length - 8, 16))}${secret.slice(-4)}`;
}
