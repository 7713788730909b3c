import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileLogStore } from '../../runtime/adapters/file-log-store.js';
import { s3LogStore } from '../../runtime/adapters/s3-log-store.js';
import type { LogStore } from '../../runtime/core/ports.js';
import { PRIMARY_SECRET, startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

type Log = Record<string, any>;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat();
}

const INLINE_SECRET = 'sk-inline-config-secret-0123456789abcdef';
const PROMPT = 'my favourite colour is ultramarine';

/** Sends the same three calls in each mode: a virtual key, a provider key in Authorization, an inline config with a key. */
async function traffic(h: ObsHarness, tag: string) {
  const viaVk = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': `${tag}-vk`, 'x-portkey-metadata': JSON.stringify({ mode: tag }) });
  await viaVk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] });
  const streaming = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': `${tag}-stream` });
  const stream = await streaming.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], stream: true });
  for await (const _ of stream) void _;

  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-api-key': h.cp.adminApiKey,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${h.primary.url}/v1`,
      authorization: `Bearer ${PRIMARY_SECRET}`,
      'x-portkey-trace-id': `${tag}-bearer`,
    },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${PROMPT} ${PRIMARY_SECRET}` }] }),
  });
  expect(res.status).toBe(200);
  const inline = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-api-key': h.cp.adminApiKey,
      'x-portkey-config': JSON.stringify({ provider: 'openai', api_key: INLINE_SECRET, custom_host: `${h.backup.url}/v1` }),
      'x-portkey-trace-id': `${tag}-inline`,
    },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] }),
  });
  // the backup mock wants its own key: the upstream 401 (which may echo the key) is logged too
  expect(inline.status).toBe(401);
}

async function openLog(h: ObsHarness, trace: string): Promise<Log> {
  const list = await waitFor(async () => {
    const res = await h.api(`/v1/logs?trace_id=${trace}`);
    const body = (await res.json()) as { data: Log[] };
    return body.data[0];
  }, `index row ${trace}`);
  return waitFor(async () => {
    const res = await h.api(`/v1/logs/${list.id}`);
    const log = (await res.json()) as Log;
    return res.status === 200 && log.request ? log : undefined;
  }, `log body ${trace}`);
}

function expectMasked(text: string, h: ObsHarness) {
  for (const secret of [PRIMARY_SECRET, INLINE_SECRET, h.cp.adminApiKey, h.cp.dataPlaneToken, 'sk-obs-']) expect(text).not.toContain(secret);
}

describe('observability: logs in the customer cloud (S3 via s3rver)', () => {
  let h: ObsHarness;
  let s3: S3rver;
  let s3Dir: string;
  let store: LogStore;

  beforeAll(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    s3Dir = await mkdtemp(join(tmpdir(), 'tollgate-s3-'));
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'gateway-logs', configs: [] }] });
    const { port } = (await s3.run()) as { port: number };
    store = s3LogStore({
      bucket: 'gateway-logs',
      client: { endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
    });
    h = await startObsHarness({ gateway: { logStore: store, telemetry: { logMode: 'customer' } } });
    await traffic(h, 'cust');
  });
  afterAll(async () => {
    await h?.close();
    await store?.close();
    await s3?.close();
    const { rm } = await import('node:fs/promises');
    await rm(s3Dir, { recursive: true, force: true });
  });

  it('writes each log to S3 under <org>/<workspace>/<yyyy>/<mm>/<dd>/<hh>/<log-id>.json', async () => {
    const log = await openLog(h, 'cust-vk');
    const d = new Date(log.created_at);
    const p = (n: number) => String(n).padStart(2, '0');
    const key = `${h.cp.organisationId}/${h.cp.defaultWorkspaceId}/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}/${log.id}.json`;
    const stored = JSON.parse((await store.get(key))!);
    expect(stored.id).toBe(log.id);
    expect(stored.request.body.messages[0].content).toBe(PROMPT);
  });

  it('the control plane fetches the body from the gateway when a user opens a log', async () => {
    const log = await openLog(h, 'cust-vk');
    expect(log).toMatchObject({ trace_id: 'cust-vk', status: 200, log_location: 'customer', metadata: { mode: 'cust' } });
    expect(log.request.body.messages[0].content).toBe(PROMPT);
    expect(log.request.headers['x-portkey-api-key']).toBe('[redacted]');
    expect(log.response.body.choices[0].message.content).toBe('Hello from primary');
    expect(log.response.status).toBe(200);

    const full = await openLog(h, 'cust-stream');
    expect(full.stream).toBe(true);
    expect(full.response.body).toContain('data: ');
    expect(full.response.body).toContain('[DONE]');
  });

  it('the gateway serves GET /v1/logs/:id only to the control plane', async () => {
    const log = await openLog(h, 'cust-vk');
    const noAuth = await fetch(`${h.gateway.url}/v1/logs/${log.id}`);
    expect(noAuth.status).toBe(401);
    const row = (await h.cp.db.query<{ log_key: string }>('SELECT log_key FROM request_metrics WHERE id = $1', [log.id])).rows[0];
    const withAdminKey = await fetch(`${h.gateway.url}/v1/logs/${log.id}?key=${encodeURIComponent(row.log_key)}`, {
      headers: { authorization: `Bearer ${h.cp.adminApiKey}`, 'x-portkey-api-key': h.cp.adminApiKey },
    });
    expect(withAdminKey.status).toBe(401);
    const withDataPlaneToken = await fetch(`${h.gateway.url}/v1/logs/${log.id}?key=${encodeURIComponent(row.log_key)}`, {
      headers: { authorization: `Bearer ${h.cp.dataPlaneToken}` },
    });
    expect(withDataPlaneToken.status).toBe(401);
  });

  it('masks every secret on every path: S3 objects, index rows, API answers, log lines', async () => {
    for (const trace of ['cust-bearer', 'cust-inline']) {
      const log = await openLog(h, trace);
      expectMasked(JSON.stringify(log), h);
      expect(log.request.headers.authorization ?? '[redacted]').toBe('[redacted]');
    }
    const inline = await openLog(h, 'cust-inline');
    expect(JSON.parse(inline.request.headers['x-portkey-config']).api_key).toBe('[redacted]');
    const bearer = await openLog(h, 'cust-bearer');
    expect(bearer.request.body.messages[0].content).toBe(`${PROMPT} [redacted]`);

    const objects = await filesUnder(s3Dir);
    expect(objects.length).toBeGreaterThan(0);
    const all = (await Promise.all(objects.map((f) => readFile(f, 'utf8')))).join('\n');
    expect(all).toContain(PROMPT);
    expectMasked(all, h);
    expectMasked(JSON.stringify((await h.cp.db.query('SELECT * FROM request_metrics')).rows.map((r) => ({ ...r, log_token: null }))), h);
    expectMasked(h.gatewayLogLines.join('\n'), h);
    void relative;
  });
});

describe('observability: logs in the control plane (encrypted by the gateway)', () => {
  for (const where of ['file', 'database'] as const) {
    describe(`stored in the control plane's ${where}`, () => {
      let h: ObsHarness;
      let cpLogDir: string;
      beforeAll(async () => {
        const { mkdtemp } = await import('node:fs/promises');
        const { tmpdir } = await import('node:os');
        cpLogDir = await mkdtemp(join(tmpdir(), 'tollgate-cplogs-'));
        h = await startObsHarness({
          gateway: { logStore: undefined, telemetry: { logMode: 'control-plane' } },
          controlPlane: where === 'file' ? { logStore: fileLogStore(cpLogDir) } : {},
        });
        await traffic(h, `cp-${where}`);
      });
      afterAll(async () => {
        await h?.close();
        const { rm } = await import('node:fs/promises');
        await rm(cpLogDir, { recursive: true, force: true });
      });

      it('stores only ciphertext and decrypts when a user opens the log', async () => {
        const log = await openLog(h, `cp-${where}-vk`);
        expect(log.log_location).toBe('control-plane');
        expect(log.request.body.messages[0].content).toBe(PROMPT);
        expect(log.response.body.choices[0].message.content).toBe('Hello from primary');
        const stored =
          where === 'file'
            ? (await Promise.all((await filesUnder(cpLogDir)).map((f) => readFile(f, 'utf8')))).join('\n')
            : (await h.cp.db.query<{ body: string }>('SELECT body FROM log_bodies')).rows.map((r) => r.body).join('\n');
        expect(stored.length).toBeGreaterThan(0);
        expect(stored).not.toContain(PROMPT);
        expect(stored).not.toContain('ultramarine');
        // nothing was written in the customer's cloud
        expect(await filesUnder(join(h.dir, 'gateway-logs'))).toEqual([]);
      });

      it('masks secrets in what it decrypts', async () => {
        for (const trace of ['vk', 'bearer', 'inline']) expectMasked(JSON.stringify(await openLog(h, `cp-${where}-${trace}`)), h);
        expectMasked(h.gatewayLogLines.join('\n'), h);
      });
    });
  }
});
