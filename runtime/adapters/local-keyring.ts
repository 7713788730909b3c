import { MultiKeyringNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Keyring } from '../core/keyring.js';
import { envelopeKeyring } from './envelope.js';

/** One AES-256 wrapping key. Its name is written into every message it wraps, so it must never change. */
export interface LocalKey {
  keyName: string;
  key: string;
  created_at?: string;
}

/** The format since key rotation: every key still known, and which one seals new secrets. */
export interface LocalKeyFileV2 {
  version: 2;
  current: string;
  keys: LocalKey[];
}

/** The original format (one key), still read as is: a v2 file with that key current. */
type LocalKeyFileV1 = LocalKey;

const newKey = (): LocalKey => ({
  keyName: `local-${randomBytes(4).toString('hex')}`,
  key: randomBytes(32).toString('base64'),
  created_at: new Date().toISOString(),
});

function normalise(stored: LocalKeyFileV1 | LocalKeyFileV2): LocalKeyFileV2 {
  if ('keys' in stored && Array.isArray(stored.keys)) {
    if (!stored.keys.some((k) => k.keyName === stored.current)) throw new Error(`key file: current key "${stored.current}" is not among its keys`);
    return stored;
  }
  const v1 = stored as LocalKeyFileV1;
  if (typeof v1.keyName !== 'string' || typeof v1.key !== 'string') throw new Error('key file: expected {keyName, key} or {version: 2, current, keys}');
  return { version: 2, current: v1.keyName, keys: [{ keyName: v1.keyName, key: v1.key }] };
}

/** Reads a key file (either format); undefined when it does not exist. */
export async function readLocalKeyFile(keyFile: string): Promise<LocalKeyFileV2 | undefined> {
  try {
    return normalise(JSON.parse(await readFile(keyFile, 'utf8')) as LocalKeyFileV1 | LocalKeyFileV2);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Atomic replace (write a 0600 temp file, rename): a reader never sees half a key file. */
async function writeLocalKeyFile(keyFile: string, data: LocalKeyFileV2): Promise<void> {
  const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(data, null, 2), { mode: 0o600, flag: 'wx' });
  await rename(tmp, keyFile);
}

/**
 * Adds a new wrapping key to the file, keeping every old one (old ciphertexts still open).
 * `activate: false` stages it: distribute the file to every gateway first (they can then open
 * secrets sealed by either key), then `activateLocalKey` on the control plane and re-wrap
 * (`POST /v1/platform/organisations/{id}/virtual-keys/rewrap`). That order has no moment where a
 * gateway sees a ciphertext it cannot open. Returns the new key's name.
 */
export async function rotateLocalKey(keyFile: string, opts: { activate?: boolean } = {}): Promise<string> {
  const stored = (await readLocalKeyFile(keyFile)) ?? { version: 2 as const, current: '', keys: [] };
  const key = newKey();
  const next: LocalKeyFileV2 = { version: 2, current: opts.activate === false && stored.current ? stored.current : key.keyName, keys: [...stored.keys, key] };
  await mkdir(dirname(keyFile), { recursive: true });
  await writeLocalKeyFile(keyFile, next);
  return key.keyName;
}

/** Makes a key already in the file the one that seals new secrets. */
export async function activateLocalKey(keyFile: string, keyName: string): Promise<void> {
  const stored = await readLocalKeyFile(keyFile);
  if (!stored?.keys.some((k) => k.keyName === keyName)) throw new Error(`key file ${keyFile} has no key "${keyName}"`);
  await writeLocalKeyFile(keyFile, { ...stored, current: keyName });
}

/** Drops a retired key (after every organisation was re-wrapped). The current key cannot be retired. */
export async function retireLocalKey(keyFile: string, keyName: string): Promise<void> {
  const stored = await readLocalKeyFile(keyFile);
  if (!stored) throw new Error(`no key file ${keyFile}`);
  if (stored.current === keyName) throw new Error(`"${keyName}" is the current key; activate another one first`);
  await writeLocalKeyFile(keyFile, { ...stored, keys: stored.keys.filter((k) => k.keyName !== keyName) });
}

function rawAes(k: LocalKey): RawAesKeyringNode {
  return new RawAesKeyringNode({
    keyName: k.keyName,
    keyNamespace: 'tollgate-local',
    unencryptedMasterKey: new Uint8Array(Buffer.from(k.key, 'base64')),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/**
 * The dev keyring: AES-256 wrapping keys in a 0600 file, created (one key) on first use.
 * Control plane and gateway on one machine share it, as they would share a KMS key in AWS.
 * New secrets are sealed with the file's current key; any key in the file opens (key rotation:
 * `rotateLocalKey`). The original one-key format `{keyName, key}` is read unchanged.
 */
export async function localKeyring(keyFile: string): Promise<Keyring> {
  let stored = await readLocalKeyFile(keyFile);
  if (!stored) {
    const first = { keyName: `local-${randomBytes(4).toString('hex')}`, key: randomBytes(32).toString('base64') };
    await mkdir(dirname(keyFile), { recursive: true });
    try {
      // The one-key format, so a file created now still works with an older gateway build.
      await writeFile(keyFile, JSON.stringify(first), { mode: 0o600, flag: 'wx' });
      stored = normalise(first);
    } catch (err) {
      // Another process (the gateway next to this control plane) created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      stored = (await readLocalKeyFile(keyFile))!;
    }
  }
  await chmod(keyFile, 0o600);
  const current = stored.keys.find((k) => k.keyName === stored.current)!;
  const others = stored.keys.filter((k) => k !== current);
  const sealer = rawAes(current);
  const opener = others.length === 0 ? sealer : new MultiKeyringNode({ generator: sealer, children: others.map(rawAes) });
  return envelopeKeyring(sealer, opener);
}
