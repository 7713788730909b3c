import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpProblem } from '../../core/errors.js';
import { assumedRoleCredentials } from './aws-assume-role.js';
import { BEDROCK_PARAMS, converseStreamTransformer, fromConverseResponse, toConverseRequest } from './bedrock-transform.js';
import type { Provider, ProviderTarget, SignableRequest } from './types.js';

/**
 * Amazon Bedrock's Converse API. Requests are SigV4-signed (service `bedrock`) with static
 * credentials from the target (virtual key fields or x-portkey-aws-* headers) or, when none are
 * given, the default credential chain (env, task role, instance profile ...); with `aws_role_arn`
 * those credentials assume that role first (aws-assume-role.ts). ConverseStream
 * answers in AWS event-stream framing, decoded by the pipeline.
 */
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type CredentialProvider = () => Promise<Credentials>;

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function region(options: Readonly<Record<string, unknown>>): string {
  const r = str(options.aws_region) ?? 'us-east-1';
  if (!REGION.test(r)) throw new HttpProblem(400, `aws_region "${r}" is not an AWS region`);
  return r;
}

let defaultChain: CredentialProvider | undefined;
/** The SDK's default chain, loaded on first use and memoised (it caches and refreshes credentials itself). */
async function chainCredentials(): Promise<Credentials> {
  if (!defaultChain) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    defaultChain = defaultProvider() as CredentialProvider;
  }
  return defaultChain();
}

/** For tests: swap the default chain. */
export function setDefaultCredentialChain(provider: CredentialProvider | undefined): void {
  defaultChain = provider;
}

function staticCredentials(target: ProviderTarget): Credentials | undefined {
  const accessKeyId = str(target.options.aws_access_key_id);
  const secretAccessKey = str(target.options.aws_secret_access_key) ?? (accessKeyId ? target.apiKey || undefined : undefined);
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: str(target.options.aws_session_token) };
}

const signers = new Map<string, SignatureV4>();
function signer(regionName: string, creds: Credentials | undefined): SignatureV4 {
  if (creds) return new SignatureV4({ service: 'bedrock', region: regionName, sha256: Sha256, credentials: creds });
  let s = signers.get(regionName);
  if (!s) signers.set(regionName, (s = new SignatureV4({ service: 'bedrock', region: regionName, sha256: Sha256, credentials: chainCredentials })));
  return s;
}

async function baseCredentials(target: ProviderTarget): Promise<Credentials | undefined> {
  const creds = staticCredentials(target);
  if (creds) return creds;
  try {
    await chainCredentials();
  } catch {
    throw new HttpProblem(401, 'bedrock: no AWS credentials; set aws_access_key_id and aws_secret_access_key (x-portkey-aws-*) or give the gateway a role');
  }
  return undefined;
}

export async function signBedrock(request: SignableRequest, target: ProviderTarget): Promise<Record<string, string>> {
  let creds = await baseCredentials(target);
  const roleArn = str(target.options.aws_role_arn);
  if (roleArn) {
    // A virtual key for another account: its role is assumed with the gateway's (or the key's) credentials.
    const base = creds;
    creds = await assumedRoleCredentials(roleArn, str(target.options.aws_external_id), region(target.options), () => (base ? Promise.resolve(base) : chainCredentials()));
  }
  const url = new URL(request.url);
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signer(region(target.options), creds).sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host, ...(request.body ? { 'content-type': 'application/json' } : {}) },
    body: request.body,
  });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host' && name !== 'content-type') out[name] = value;
  return out;
}

const modelPath = (model: string) => {
  if (!model) throw new HttpProblem(400, 'bedrock needs a model (a model id, inference profile or ARN)');
  return `/model/${encodeURIComponent(model)}`;
};

export const bedrock: Provider = {
  id: 'bedrock',
  defaultBaseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
  baseUrl: (options) => `https://bedrock-runtime.${region(options)}.amazonaws.com`,
  streamFormat: 'aws-eventstream',
  endpoints: {
    chatComplete: {
      method: 'POST',
      path: ({ model, stream }) => `${modelPath(model)}/${stream ? 'converse-stream' : 'converse'}`,
      transformRequest: (body) => toConverseRequest(body),
      transformResponse: fromConverseResponse,
      createStreamTransformer: converseStreamTransformer,
      supportedParams: BEDROCK_PARAMS,
    },
  },
  authHeaders: () => ({}),
  signRequest: signBedrock,
  transformError(status, body) {
    const b = body as { message?: string; Message?: string } | undefined;
    const message = b?.message ?? b?.Message;
    if (!message) return undefined;
    const type = status === 400 ? 'invalid_request_error' : status === 429 ? 'rate_limit_error' : status === 403 ? 'authentication_error' : 'api_error';
    return { message, type, code: null };
  },
};
