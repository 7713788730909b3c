/**
 * Where a check's text comes from, and how a rewrite (redaction) is applied back, per endpoint.
 * Text under test follows Portkey: the last message of a chat request (its text parts joined),
 * `prompt` or `input` otherwise; the first choice of a response. A rewrite is applied to every text
 * field (all messages, system, prompt, input; every choice), so redaction leaves no copy behind.
 */
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).filter(Boolean).join('\n');
  return '';
}

export function requestText(body: Json | undefined): string {
  if (!body) return '';
  if (Array.isArray(body.messages) && body.messages.length) return contentText((body.messages[body.messages.length - 1] as Json)?.content);
  if (body.prompt !== undefined) return Array.isArray(body.prompt) ? body.prompt.filter((p) => typeof p === 'string').join('\n') : contentText(body.prompt);
  if (body.input !== undefined) return Array.isArray(body.input) ? body.input.filter((p) => typeof p === 'string').join('\n') : contentText(body.input);
  return '';
}

export function responseText(body: unknown): string {
  if (!isObj(body)) return '';
  const choice = Array.isArray(body.choices) ? (body.choices[0] as Json | undefined) : undefined;
  if (choice) {
    if (isObj(choice.message)) return contentText(choice.message.content);
    if (typeof choice.text === 'string') return choice.text;
  }
  if (Array.isArray(body.content)) return contentText(body.content);
  return '';
}

function rewriteContent(content: unknown, fn: (t: string) => string): unknown {
  if (typeof content === 'string') return fn(content);
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? { ...p, text: fn(p.text) } : typeof p === 'string' ? fn(p) : p));
  return content;
}

/** A rewritten copy of the request (the caller's object is not mutated). */
export function rewriteRequest(body: Json, fn: (t: string) => string): Json {
  const out: Json = { ...body };
  if (Array.isArray(body.messages)) out.messages = body.messages.map((m) => (isObj(m) && 'content' in m ? { ...m, content: rewriteContent(m.content, fn) } : m));
  if (body.system !== undefined) out.system = rewriteContent(body.system, fn);
  if (body.prompt !== undefined) out.prompt = rewriteContent(body.prompt, fn);
  if (body.input !== undefined) out.input = rewriteContent(body.input, fn);
  return out;
}

export function rewriteResponse(body: unknown, fn: (t: string) => string): unknown {
  if (!isObj(body)) return body;
  const out: Json = { ...body };
  if (Array.isArray(body.choices)) {
    out.choices = body.choices.map((c) => {
      if (!isObj(c)) return c;
      if (isObj(c.message)) return { ...c, message: { ...c.message, content: rewriteContent(c.message.content, fn) } };
      if (typeof c.text === 'string') return { ...c, text: fn(c.text) };
      return c;
    });
  }
  if (Array.isArray(body.content)) out.content = rewriteContent(body.content, fn);
  return out;
}

/** The assistant text of an OpenAI-format SSE stream (choices[0].delta.content), for after-hooks on streams. */
export function streamText(sse: string): string {
  let out = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (!data || data === '[DONE]') continue;
    try {
      const chunk = JSON.parse(data) as Json;
      const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Json | undefined) : undefined;
      const delta = choice && isObj(choice.delta) ? choice.delta : undefined;
      if (delta && typeof delta.content === 'string') out += delta.content;
      else if (choice && typeof choice.text === 'string') out += choice.text;
    } catch {
      // not JSON: skipped
    }
  }
  return out;
}
