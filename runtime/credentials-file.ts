import { chmod, readFile, writeFile } from 'node:fs/promises';

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
