import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteDb } from '../../runtime/adapters/pglite-db.js';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import type { SqlDatabase } from '../../runtime/core/db.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { bootstrapDefaultOrganisation, type OrganisationCredentials } from '../../runtime/control-plane/bootstrap.js';
import { setControlPlaneContext } from '../../runtime/control-plane/context.js';
import { runMigrations } from '../../runtime/control-plane/db/migrations.js';
import { handler as configs } from '../../runtime/control-plane/handlers/configs.js';
import { controlPlaneHandlers, controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { tempDir } from '../support/cp-harness.js';
import { engines, postgresDatabase } from '../support/cp-engines.js';
import { postgresDb } from '../../runtime/adapters/postgres-db.js';

/** The handlers as Lambda calls them: an API Gateway v2 event, the process-wide context, no HTTP server. */
describe.each(engines)('control plane handlers invoked as Lambda on %s', (engine) => {
  let db: SqlDatabase;
  let creds: OrganisationCredentials;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let database: Awaited<ReturnType<typeof postgresDatabase>>;

  beforeAll(async () => {
    tmp = await tempDir();
    database = await postgresDatabase(engine);
    // What the Lambda gets from databaseFromEnv: a pg pool on Aurora (here the test server), or PGlite.
    db = database.url ? postgresDb(database.url, { maxConnections: 2 }) : await pgliteDb();
    await runMigrations(db);
    creds = await bootstrapDefaultOrganisation(db);
    setControlPlaneContext({ db, keyring: await localKeyring(`${tmp.dir}/keyring.json`), devMode: false, logger: silentLogger });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await tmp?.cleanup();
  });

  function event(method: string, path: string, routeKey: string, body?: unknown): APIGatewayProxyEventV2 {
    return {
      version: '2.0',
      routeKey,
      rawPath: path,
      rawQueryString: '',
      // Mixed case on purpose: the header normalizer must lowercase it.
      headers: { 'X-Portkey-API-Key': creds.adminApiKey, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)).toString('base64'),
      isBase64Encoded: body !== undefined,
      requestContext: { http: { method, path } } as APIGatewayProxyEventV2['requestContext'],
    };
  }
  const invoke = async (e: APIGatewayProxyEventV2) => (await configs(e, {} as Context)) as APIGatewayProxyStructuredResultV2;

  it('has one handler module per handler name in routes.ts', async () => {
    for (const name of controlPlaneHandlers) {
      const mod = (await import(`../../runtime/control-plane/handlers/${name}.ts`)) as { handler?: unknown };
      expect(typeof mod.handler, name).toBe('function');
    }
    expect(new Set(controlPlaneRoutes.map((r) => r.handler))).toEqual(new Set(controlPlaneHandlers));
  });

  it('serves explicit route keys and catch-all ($default) route keys alike, with base64 bodies', async () => {
    const created = await invoke(event('POST', '/v1/configs', 'POST /v1/configs', { name: 'lambda', config: { provider: 'openai' } }));
    expect(created.statusCode).toBe(200);
    const { slug } = JSON.parse(created.body!) as { slug: string };
    const got = await invoke(event('GET', `/v1/configs/${slug}`, '$default'));
    expect(got.statusCode).toBe(200);
    expect(JSON.parse(got.body!)).toMatchObject({ slug, name: 'lambda' });
    const missing = await invoke(event('GET', '/v1/virtual-keys', '$default'));
    expect(missing.statusCode).toBe(404);
  });
});
