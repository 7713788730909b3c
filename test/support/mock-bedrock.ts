import type { IncomingMessage, ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { encodeEvent } from '../../runtime/gateway/providers/aws-eventstream.js';
import { countTokens, sendJson, startMockServer, type MockControl, type MockServer } from './mock-base.js';

/**
 * A local server speaking Amazon Bedrock's Converse wire format: `POST /model/{modelId}/converse`
 * (JSON) and `/converse-stream` (application/vnd.amazon.eventstream frames: messageStart,
 * contentBlockStart/Delta/Stop, messageStop, metadata). Every request's SigV4 signature is
 * recomputed from the known credentials over the headers it names; a mismatch is AWS's 403.
 */
export const BEDROCK_REPLY_TEXT = 'Hello from bedrock-mock';

export interface MockBedrockOptions {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region?: string;
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
}

async function verifySignature(req: IncomingMessage, body: string, opts: MockBedrockOptions): Promise<string | undefined> {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed SigV4 Authorization header';
  if (m[1] !== opts.accessKeyId) return 'The security token included in the request is invalid.';
  if (m[3] !== (opts.region ?? 'us-east-1')) return `credential scope region ${m[3]} is wrong`;
  if (opts.sessionToken && req.headers['x-amz-security-token'] !== opts.sessionToken) return 'The security token included in the request is invalid.';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const headers: Record<string, string> = {};
  for (const name of m[4].split(';')) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const signer = new SignatureV4({ service: 'bedrock', region: m[3], sha256: Sha256, credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken } });
  const signed = await signer.sign({ method: req.method ?? 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body }, { signingDate });
  return signed.headers.authorization === auth ? undefined : 'The request signature we calculated does not match the signature you provided.';
}

async function writeFrames(res: ServerResponse, frames: Uint8Array[], control: MockControl): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'mock-request' });
  for (let i = 0; i < frames.length; i++) {
    if (i > 2) {
      await control.betweenChunks(i - 2);
      if (control.streamErrorEvent) {
        // A modelled exception frame (:message-type exception), as ConverseStream sends mid-stream.
        res.end(encodeEvent('modelStreamErrorException', { message: 'Model stream error', originalStatusCode: 500 }, 'exception'));
        return;
      }
    }
    if (res.destroyed) return;
    res.write(frames[i]);
  }
  res.end();
}

export async function startMockBedrock(opts: MockBedrockOptions): Promise<MockServer> {
  return startMockServer(async (req, res, body, control) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body ?? {});
    const problem = await verifySignature(req, body === undefined ? '' : raw, opts);
    if (problem) return awsError(res, 403, problem.startsWith('The security token') ? 'UnrecognizedClientException' : 'InvalidSignatureException', problem);
    const failure = control.takeFailure();
    if (failure) return awsError(res, failure, failure === 429 ? 'ThrottlingException' : 'InternalServerException', `mock failing with ${failure}`);
    const m = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec((req.url ?? '').split('?')[0]);
    if (!m) return awsError(res, 404, 'UnknownOperationException', 'unknown operation');
    if (!Array.isArray(body?.messages) || !body.messages.length) return awsError(res, 400, 'ValidationException', 'messages: must not be empty');
    if ('model' in body || 'stream' in body) return awsError(res, 400, 'ValidationException', 'extraneous key [model] is not permitted');
    const format = body.outputConfig?.textFormat;
    let structured: string | undefined;
    if (format) {
      // Converse wants the schema as a JSON string inside structure.jsonSchema.
      if (format.type !== 'json_schema' || typeof format.structure?.jsonSchema?.schema !== 'string') return awsError(res, 400, 'ValidationException', 'outputConfig.textFormat: invalid structure');
      try {
        JSON.parse(format.structure.jsonSchema.schema);
      } catch {
        return awsError(res, 400, 'ValidationException', 'outputConfig.textFormat.structure.jsonSchema.schema: not valid JSON');
      }
      structured = '{"greeting":"hello"}';
    }
    const tool = body.toolConfig?.tools?.[0]?.toolSpec;
    const inputText = body.messages.flatMap((msg: any) => msg.content.map((c: any) => c.text ?? '')).concat((body.system ?? []).map((s: any) => s.text)).join(' ');
    const usage = { inputTokens: countTokens(inputText), outputTokens: countTokens(BEDROCK_REPLY_TEXT), totalTokens: countTokens(inputText) + countTokens(BEDROCK_REPLY_TEXT) };
    if (m[2] === 'converse') {
      const content = tool ? [{ toolUse: { toolUseId: 'tooluse_mock01', name: tool.name, input: { city: 'Paris' } } }] : [{ text: structured ?? BEDROCK_REPLY_TEXT }];
      return sendJson(res, 200, { output: { message: { role: 'assistant', content } }, stopReason: tool ? 'tool_use' : 'end_turn', usage, metrics: { latencyMs: 12 } });
    }
    const frames = [encodeEvent('messageStart', { role: 'assistant', p: 'abcd' })];
    if (tool) {
      frames.push(
        encodeEvent('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_mock01', name: tool.name } }, p: 'ab' }),
        encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } }, p: 'ab' }),
        encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: ' "Paris"}' } }, p: 'ab' }),
      );
    } else {
      for (const piece of BEDROCK_REPLY_TEXT.split(/(?= )/)) frames.push(encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece }, p: 'abcdef' }));
    }
    frames.push(
      encodeEvent('contentBlockStop', { contentBlockIndex: 0, p: 'a' }),
      encodeEvent('messageStop', { stopReason: tool ? 'tool_use' : 'end_turn', p: 'abc' }),
      encodeEvent('metadata', { usage, metrics: { latencyMs: 12 }, p: 'abc' }),
    );
    await writeFrames(res, frames, control);
  });
}
