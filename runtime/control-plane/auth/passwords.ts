import { randomBytes } from 'node:crypto';
import { argon2id, argon2Verify } from 'hash-wasm';

/**
 * argon2id at OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane), as a PHC string.
 * WebAssembly rather than a native addon, so the same code bundles into ARM64 Lambda.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), parallelism: 1, iterations: 2, memorySize: 19_456, hashLength: 32, outputType: 'encoded' });
}

/** A hash to verify against when the user does not exist, so both paths cost the same time. */
let dummy: Promise<string> | undefined;

export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    dummy ??= hashPassword('tollgate-dummy-password');
    await argon2Verify({ password, hash: await dummy }).catch(() => false);
    return false;
  }
  return argon2Verify({ password, hash: stored }).catch(() => false);
}

export const MIN_PASSWORD_LENGTH = 12;
