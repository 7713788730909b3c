import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Portkey } from 'portkey-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, type CliProcess } from '../support/cli.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import type { MockServer } from '../support/mock-base.js';

/**
 * `tollgate dev` as a user runs it: a real process, real ports, a data dir on disk, the real SDKs.
 */
const PROVIDER_SECRET = 'sk-e2e-provider-secret-do-not-leak-0123456789';
const ADMIN_KEY = 'tg-e2e-admin-key-chosen-by-env-0123456789';

async function readJson(file: string) {
  return JSON.parse(await readFile(file, 'utf8'));
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('tollgate dev', () => {
  let dataDir: string;
  let upstream: MockServer;
  let cli: CliProcess;
  let ports: { gateway: number; controlPlane: number };
  const outputs: string[] = [];
  let sessionCookie = '';

  const start = async (env: Record<string, string> = {}) => {
    cli = runCli(['dev', '--data-dir', dataDir, '--port', String(ports.gateway), '--control-plane-port', String(ports.controlPlane), '--sync-interval', '1'], env);
    await cli.waitFor('Ctrl-C to stop');
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tollgate-e2e-'));
    upstream = await startMockOpenAI({ name: 'e2e-upstream', apiKey: PROVIDER_SECRET });
    ports = { gateway: await freePort(), controlPlane: await freePort() };
    await start({ TOLLGATE_ADMIN_API_KEY: ADMIN_KEY });
  });

  afterAll(async () => {
    if (cli) outputs.push(cli.output());
    await cli?.stop();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints both URLs and the admin key, and writes credentials.json and the keyring with mode 0600', async () => {
    const out = cli.output();
    expect(out).toContain(`http://127.0.0.1:${ports.gateway}/v1`);
    expect(out).toContain(`http://127.0.0.1:${ports.controlPlane}/v1`);
    expect(out).toContain(ADMIN_KEY);

    const credentials = await readJson(join(dataDir, 'credentials.json'));
    expect(credentials).toMatchObject({
      adminApiKey: ADMIN_KEY,
      gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
      controlPlaneUrl: `http://127.0.0.1:${ports.controlPlane}`,
    });
    expect(credentials.dataPlaneToken).toEqual(expect.any(String));
    expect(credentials.dataPlaneToken).not.toBe(ADMIN_KEY);
    for (const file of ['credentials.json', 'keyring.json', 'session.key']) {
      expect((await stat(join(dataDir, file))).mode & 0o777, file).toBe(0o600);
    }
  });

  it('serves a virtual key created with the portkey-ai SDK to the openai SDK, streamed and not', async () => {
    const admin = new Portkey({ apiKey: ADMIN_KEY, baseURL: `http://127.0.0.1:${ports.controlPlane}/v1` });
    const vk = (await admin.virtualKeys.create({ name: 'e2e openai', provider: 'openai', key: PROVIDER_SECRET, custom_host: `${upstream.url}/v1` } as never)) as { slug?: string };
    expect(vk.slug).toEqual(expect.any(String));

    const client = new OpenAI({
      baseURL: `http://127.0.0.1:${ports.gateway}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-portkey-api-key': ADMIN_KEY, 'x-portkey-virtual-key': vk.slug! },
    });
    // The gateway learns of the new key at its next heartbeat (1 s here).
    let reply: OpenAI.Chat.Completions.ChatCompletion | undefined;
    for (let i = 0; i < 50 && !reply; i++) {
      reply = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch(async (err) => {
        if (err.status !== 400 && err.status !== 404) throw err;
        await new Promise((r) => setTimeout(r, 200));
        return undefined;
      });
    }
    expect(reply?.choices[0].message.content).toBe('Hello from e2e-upstream');
    expect(upstream.control.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);

    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from e2e-upstream');
  });

  it('creates a control-panel owner whose session outlives a restart', async () => {
    const { ownerEmail, ownerPassword, controlPlaneUrl } = await readJson(join(dataDir, 'credentials.json'));
    expect(cli.output()).toContain(ownerPassword);
    const login = await fetch(`${controlPlaneUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ownerEmail, password: ownerPassword }) });
    expect(login.status).toBe(200);
    sessionCookie = login.headers.getSetCookie()[0].split(';')[0];
    expect((await fetch(`${controlPlaneUrl}/v1/auth/me`, { headers: { cookie: sessionCookie } })).status).toBe(200);
    const ui = await fetch(`${controlPlaneUrl}/`);
    expect(ui.headers.get('content-type')).toContain('text/html');
  });

  it('keeps all data and keys across a SIGTERM restart, and exits 0', async () => {
    const before = await readJson(join(dataDir, 'credentials.json'));
    outputs.push(cli.output());
    expect(await cli.stop('SIGTERM')).toBe(0);

    await start();
    const after = await readJson(join(dataDir, 'credentials.json'));
    expect(after.adminApiKey).toBe(before.adminApiKey);
    expect(after.dataPlaneToken).toBe(before.dataPlaneToken);
    expect(after.ownerPassword).toBe(before.ownerPassword);
    // The session key lives in the data dir, so a signed-in user stays signed in.
    expect((await fetch(`${after.controlPlaneUrl}/v1/auth/me`, { headers: { cookie: sessionCookie } })).status).toBe(200);

    const admin = new Portkey({ apiKey: ADMIN_KEY, baseURL: `http://127.0.0.1:${ports.controlPlane}/v1` });
    const list = (await admin.virtualKeys.list({})) as { data?: { name: string }[] };
    expect(list.data?.map((v) => v.name)).toContain('e2e openai');

    const client = new OpenAI({ baseURL: `http://127.0.0.1:${ports.gateway}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-portkey-api-key': ADMIN_KEY } });
    const vkSlug = (list.data as { slug: string; name: string }[]).find((v) => v.name === 'e2e openai')!.slug;
    const reply = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] },
      { headers: { 'x-portkey-virtual-key': vkSlug } },
    );
    expect(reply.choices[0].message.content).toBe('Hello from e2e-upstream');
  });

  it('never writes the provider secret to its output or to any file but the encrypted database', async () => {
    outputs.push(cli.output());
    const everything = outputs.join('\n');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(PROVIDER_SECRET);
    for (const file of await allFiles(dataDir)) {
      if (file.includes(`${join(dataDir, 'db')}`)) continue; // PGlite pages hold only ciphertext; checked by the control-plane tests
      expect(await readFile(file, 'utf8'), file).not.toContain(PROVIDER_SECRET);
    }
  });

  it('rejects a bad flag with a clear message and a non-zero exit', async () => {
    const bad = runCli(['dev', '--port', 'not-a-port', '--data-dir', dataDir]);
    expect(await bad.stop('SIGCONT')).not.toBe(0);
    expect(bad.output()).toMatch(/must be a port number/);
  });
});
