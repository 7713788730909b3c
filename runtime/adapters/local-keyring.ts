import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Keyring } from '../core/keyring.js';
import { envelopeKeyring } from './envelope.js';

interface KeyFile {
  keyName: string;
  key: string;
}

/**
 * The dev keyring: one AES-256 wrapping key in a 0600 file, created on first use.
 * Control plane and gateway on one machine share it, as they would share a KMS key in AWS.
 */
export async function localKeyring(keyFile: string): Promise<Keyring> {
  let stored: KeyFile;
  try {
    stored = JSON.parse(await readFile(keyFile, 'utf8')) as KeyFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    stored = { keyName: `local-${randomBytes(4).toString('hex')}`, key: randomBytes(32).toString('base64') };
    await mkdir(dirname(keyFile), { recursive: true });
    await writeFile(keyFile, JSON.stringify(stored), { mode: 0o600, flag: 'wx' });
  }
  await chmod(keyFile, 0o600);
  const unencryptedMasterKey = new Uint8Array(Buffer.from(stored.key, 'base64'));
  return envelopeKeyring(
    new RawAesKeyringNode({
      keyName: stored.keyName,
      keyNamespace: 'tollgate-local',
      unencryptedMasterKey,
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    }),
  );
}
