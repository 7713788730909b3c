import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKeyring, readLocalKeyFile } from '../../runtime/adapters/local-keyring.js';
import { tempDir } from '../support/cp-harness.js';
import { runCli } from '../support/cli.js';

/** Runs `tollgate keyring …` as a user would and waits for it to exit. */
async function keyring(...args: string[]): Promise<{ code: number | null; output: string }> {
  const cli = runCli(['keyring', ...args]);
  const code = await new Promise<number | null>((resolve) => (cli.proc.exitCode !== null ? resolve(cli.proc.exitCode) : cli.proc.on('exit', resolve)));
  return { code, output: cli.output() };
}

const ctx = { tollgate_org: 'org-cli', tollgate_workspace: 'ws-cli', tollgate_purpose: 'virtual-key', tollgate_slug: 'vk' };
/** Key names in `keyring list` order, with the current one marked. */
const listed = (output: string) => output.trim().split('\n').map((l) => `${l.split(' ')[0]}${l.includes(' (current)') ? ' (current)' : ''}`);

describe('tollgate keyring (the CLI, run as a process)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let file: string;
  let first: string;
  let oldSecret: string;
  beforeAll(async () => {
    tmp = await tempDir('tollgate-keyring-cli-');
    file = join(tmp.dir, 'keys', 'keyring.json');
    // What a fresh install writes (the one-key format), with a secret sealed under it.
    oldSecret = await (await localKeyring(file)).encrypt('sk-sealed-before-rotation', ctx);
    first = (await readLocalKeyFile(file))!.current;
  });
  afterAll(async () => tmp?.cleanup());

  it('list: without a file, an error and a non-zero exit', async () => {
    const r = await keyring('list', '--keyring-file', join(tmp.dir, 'missing.json'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/no key file/);
  });

  it('list: the one key, marked current, and no key material', async () => {
    const r = await keyring('list', '--keyring-file', file);
    expect(r.code).toBe(0);
    expect(listed(r.output)).toEqual([`${first} (current)`]);
    const raw = JSON.parse(await readFile(file, 'utf8')) as { key: string };
    expect(r.output).not.toContain(raw.key);
  });

  it('rotate --staged adds a key that does not seal yet; activate makes it current; retire drops the old one', async () => {
    const staged = await keyring('rotate', '--staged', '--keyring-file', file);
    expect(staged.code).toBe(0);
    const second = /^(\S+) staged/.exec(staged.output)?.[1];
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    expect(listed((await keyring('list', '--keyring-file', file)).output)).toEqual([`${first} (current)`, second]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // A process reading the file now still seals with the old key, and opens both.
    const stagedRing = await localKeyring(file);
    const sealedWhileStaged = await stagedRing.encrypt('x', ctx);
    expect((await readLocalKeyFile(file))!.keys.map((k) => k.keyName)).toContain(second);

    expect((await keyring('activate', 'no-such-key', '--keyring-file', file)).code).not.toBe(0);
    const activated = await keyring('activate', second!, '--keyring-file', file);
    expect(activated.code).toBe(0);
    expect(activated.output).toContain(`${second} is now current`);
    expect(listed((await keyring('list', '--keyring-file', file)).output)).toEqual([first, `${second} (current)`]);
    const both = await localKeyring(file);
    const sealedNew = await both.encrypt('sk-sealed-after-rotation', ctx);
    expect((await both.decrypt(oldSecret, ctx)).toString()).toBe('sk-sealed-before-rotation');

    // The current key cannot be retired; the old one can, after which only new-key messages open.
    const refused = await keyring('retire', second!, '--keyring-file', file);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/current key/);
    const retired = await keyring('retire', first, '--keyring-file', file);
    expect(retired.code).toBe(0);
    expect(listed((await keyring('list', '--keyring-file', file)).output)).toEqual([`${second} (current)`]);
    const after = await localKeyring(file);
    expect((await after.decrypt(sealedNew, ctx)).toString()).toBe('sk-sealed-after-rotation');
    await expect(after.decrypt(oldSecret, ctx)).rejects.toThrow();
    await expect(after.decrypt(sealedWhileStaged, ctx)).rejects.toThrow();
  });

  it('rotate without --staged makes the new key current at once', async () => {
    const before = (await readLocalKeyFile(file))!.current;
    const r = await keyring('rotate', '--keyring-file', file);
    expect(r.code).toBe(0);
    const third = /^(\S+) is now current/.exec(r.output)?.[1];
    expect(third).toBeTruthy();
    expect(listed((await keyring('list', '--keyring-file', file)).output)).toEqual([before, `${third} (current)`]);
  });
});
