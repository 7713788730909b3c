import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `<data-dir>/credentials.json`: the keys made on a first start. The database keeps only their
 * hashes, so this file (mode 0600) is where a person finds them again, and where a restart reads
 * them back to keep using the same ones.
 */
export interface CredentialsFile {
  adminApiKey?: string;
  dataPlaneToken?: string;
  gatewayUrl?: string;
  controlPlaneUrl?: string;
  /** The control panel's owner login, made on the first start. */
  ownerEmail?: string;
  ownerPassword?: string;
}

export async function readCredentials(file: string): Promise<CredentialsFile> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as CredentialsFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file} is not valid JSON; fix or delete it (the database keeps your data): ${(err as Error).message}`);
  }
}

export async function writeCredentials(file: string, credentials: CredentialsFile): Promise<void> {
  await writeFile(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * The key that signs UI session cookies, kept in `<data-dir>/session.key` (0600) so sessions survive
 * a restart. TOLLGATE_SESSION_SECRET wins when set (AWS reads it from Secrets Manager).
 */
export async function loadSessionSecret(dataDir: string): Promise<string> {
  if (process.env.TOLLGATE_SESSION_SECRET) return process.env.TOLLGATE_SESSION_SECRET;
  const file = join(dataDir, 'session.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const secret = randomBytes(32).toString('base64url');
    await writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
