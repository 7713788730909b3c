import { z } from 'zod';
import { promptMessageSchema, type PromptMessage } from '../../core/prompt-contract.js';
import { referencedPartials, UnknownPartialError } from '../../core/prompt-render.js';
import type { PromptVersionInput, PromptVersionRow } from '../db/prompts-repo.js';
import { badRequest } from '../http/problems.js';

/** Template fields of a prompt version, in Portkey's shape (`string` is the template) or as `messages`. */
export const templateFields = {
  string: z.string().max(200_000).optional(),
  messages: z.array(promptMessageSchema).min(1).max(500).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  model: z.string().max(255).nullable().optional(),
  virtual_key: z.string().max(255).nullable().optional(),
  provider: z.string().max(64).nullable().optional(),
  tools: z.array(z.unknown()).nullable().optional(),
  functions: z.array(z.unknown()).nullable().optional(),
  tool_choice: z.unknown().optional(),
  version_description: z.string().max(2000).nullable().optional(),
  template_metadata: z.record(z.string(), z.unknown()).nullable().optional(),
};
type TemplateBody = { [K in keyof typeof templateFields]?: z.infer<(typeof templateFields)[K]> };

/** Portkey's `string` holds the chat template as JSON (an array of messages); plain text becomes one user message. */
function messagesFrom(body: TemplateBody): PromptMessage[] | undefined {
  if (body.messages) return body.messages;
  if (body.string === undefined) return undefined;
  try {
    const parsed = JSON.parse(body.string) as unknown;
    if (Array.isArray(parsed)) {
      const r = z.array(promptMessageSchema).min(1).safeParse(parsed);
      if (!r.success) throw badRequest('string: expected a JSON array of {role, content} messages');
      return r.data;
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return [{ role: 'user', content: body.string }];
}

export const hasTemplateChange = (b: TemplateBody) =>
  ['string', 'messages', 'parameters', 'model', 'virtual_key', 'provider', 'tools', 'functions', 'tool_choice', 'template_metadata'].some(
    (k) => b[k as keyof TemplateBody] !== undefined,
  );

/** A version input from the body on top of `base` (the current latest), checked for syntax and partial references. */
export function versionInput(body: TemplateBody, partials: Record<string, string>, base?: PromptVersionRow): PromptVersionInput {
  const messages = messagesFrom(body) ?? base?.messages;
  if (!messages) throw badRequest('string: required (the prompt template), or send messages');
  try {
    referencedPartials(messages, partials);
  } catch (err) {
    if (err instanceof UnknownPartialError) throw badRequest(`string: ${err.message}`);
    throw badRequest(`string: not a valid Mustache template (${(err as Error).message.slice(0, 200)})`);
  }
  return {
    messages,
    parameters: body.parameters ?? base?.parameters ?? {},
    model: body.model !== undefined ? body.model : (base?.model ?? (typeof body.parameters?.model === 'string' ? body.parameters.model : null)),
    virtualKey: body.virtual_key !== undefined ? body.virtual_key : (base?.virtual_key ?? null),
    provider: body.provider !== undefined ? body.provider : (base?.provider ?? null),
    tools: body.tools !== undefined ? body.tools : body.functions !== undefined ? body.functions : (base?.tools ?? null),
    toolChoice: body.tool_choice !== undefined ? body.tool_choice : base?.tool_choice,
    description: body.version_description ?? null,
    templateMetadata: body.template_metadata !== undefined ? body.template_metadata : (base?.template_metadata ?? null),
  };
}
