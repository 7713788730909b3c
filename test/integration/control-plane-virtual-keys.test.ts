import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

interface Vk {
  slug: string;
  masked_api_key: string;
  model_config: Record<string, unknown>;
  usage_limits: unknown;
  rate_limits: unknown;
}

/** Provider-specific fields and limits are stored as given, and travel to gateways in the sync snapshot. */
describe.each(engines)('virtual key provider fields on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  const create = async (body: Record<string, unknown>) => t.api('/v1/virtual-keys', { method: 'POST', json: { name: 'p', key: 'sk-provider-secret-000000', ...body } });
  const get = async (slug: string) => (await (await t.api(`/v1/virtual-keys/${slug}`)).json()) as Vk;

  it('Azure deployments, the Bedrock region and role, the Vertex project; usage and rate limits', async () => {
    const azure = (await (await create({ provider: 'azure-openai', resource_name: 'res', api_version: '2024-06-01', deployment_config: [{ deployment_name: 'gpt4o', alias: 'gpt-4o', is_default: true }] })).json()) as { slug: string };
    const bedrock = (await (await create({ provider: 'bedrock', aws_region: 'eu-central-1', aws_role_arn: 'arn:aws:iam::123456789012:role/tollgate-bedrock', aws_external_id: 'ext-1' })).json()) as { slug: string };
    const vertex = (await (await create({ provider: 'vertex-ai', vertex_project_id: 'my-project', vertex_region: 'europe-west4', usage_limits: { credit_limit: 50, periodic_reset: 'monthly' }, rate_limits: [{ type: 'requests', unit: 'rpm', value: 60 }] })).json()) as { slug: string };

    expect((await get(azure.slug)).model_config).toEqual({ azure_resource_name: 'res', azure_api_version: '2024-06-01', deployment_config: [{ deployment_name: 'gpt4o', alias: 'gpt-4o', is_default: true }] });
    expect((await get(bedrock.slug)).model_config).toEqual({ aws_region: 'eu-central-1', aws_role_arn: 'arn:aws:iam::123456789012:role/tollgate-bedrock', aws_external_id: 'ext-1' });
    const v = await get(vertex.slug);
    expect(v.model_config).toEqual({ vertex_project_id: 'my-project', vertex_region: 'europe-west4' });
    expect(v).toMatchObject({ usage_limits: { credit_limit: 50, periodic_reset: 'monthly' }, rate_limits: [{ type: 'requests', unit: 'rpm', value: 60 }] });

    // null removes one field and keeps the others; the secret never shows, only its mask.
    expect((await t.api(`/v1/virtual-keys/${bedrock.slug}`, { method: 'PUT', json: { aws_external_id: null } })).status).toBe(200);
    const after = await get(bedrock.slug);
    expect(after.model_config).toEqual({ aws_region: 'eu-central-1', aws_role_arn: 'arn:aws:iam::123456789012:role/tollgate-bedrock' });
    expect(JSON.stringify(after)).not.toContain('sk-provider-secret');

    const snapshot = (await (await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } })).json()) as { virtual_keys: { slug: string; options?: Record<string, unknown> }[] };
    expect(snapshot.virtual_keys.find((k) => k.slug === bedrock.slug)?.options).toMatchObject({ aws_role_arn: 'arn:aws:iam::123456789012:role/tollgate-bedrock' });
  });

  it('400 naming the field for a malformed role ARN or deployment list', async () => {
    const bad = await create({ provider: 'bedrock', aws_role_arn: 'not-an-arn' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^aws_role_arn: expected an IAM role ARN/);
    const badDeployments = await create({ provider: 'azure-openai', deployment_config: 'gpt4o' });
    expect(badDeployments.status).toBe(400);
    expect(((await badDeployments.json()) as { message: string }).message).toMatch(/^deployment_config/);
  });
});
