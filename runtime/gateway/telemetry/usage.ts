// Imported, not the global: Node's global `Buffer` is a getter, one call on every use.
import { Buffer } from 'node:buffer';
/**
 * Token usage from what the client was sent. OpenAI's JSON bodies and the final chunk of a stream
 * with `stream_options.include_usage` carry `usage`; Anthropic's Messages format carries
 * `input_tokens` in message_start and `output_tokens` in message_delta. When the provider reports
 * nothing, the gateway estimates: about 4 characters a token (documented as an estimate).
 */
export interface Usage {
  req: number;
  res: number;
  total: number;
  estimated: boolean;
}

const isSpace = (c: number | undefined) => c === 32 || c === 10 || c === 13 || c === 9;

interface RawUsage {
  input?: number;
  output?: number;
  total?: number;
}

const num = (v: number) => (Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);
const isNumberStart = (c: number | undefined) => c !== undefined && ((c >= 48 && c <= 57) || c === 45); // 0-9, '-'
const isNumberChar = (c: number | undefined) => c !== undefined && ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69); // 0-9 - + . e E

const keyIs = (b: Uint8Array, start: number, end: number, name: Uint8Array) => {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (b[start + i] !== name[i]) return false;
  return true;
};
const PROMPT = Buffer.from('prompt_tokens');
const INPUT = Buffer.from('input_tokens');
const COMPLETION = Buffer.from('completion_tokens');
const OUTPUT = Buffer.from('output_tokens');
const TOTAL = Buffer.from('total_tokens');

/**
 * The token counts of the usage object that starts at `start` (a `{`), or undefined when it does
 * not close. It walks the object key by key, reading the numbers of its own `prompt_tokens`/
 * `input_tokens`, `completion_tokens`/`output_tokens` and `total_tokens` (the last of duplicates)
 * and stepping over every other value (`prompt_tokens_details`, strings, ...). It works on the
 * bytes the client was sent (JSON's structural characters are ASCII, and no byte of a multi-byte
 * UTF-8 character is), so the response is never decoded to a string to find its usage.
 */
function usageObjectAt(b: Buffer, start: number): RawUsage | undefined {
  const n = b.length;
  let prompt: number | undefined, input: number | undefined, completion: number | undefined, output: number | undefined, total: number | undefined;
  let i = start + 1;
  for (;;) {
    while (i < n && (isSpace(b[i]) || b[i] === 44)) i++; // whitespace and ','
    if (i >= n) return undefined;
    if (b[i] === 125) return { input: prompt ?? input, output: completion ?? output, total }; // '}'
    if (b[i] !== 34) return undefined; // not a key: not JSON we can read
    const keyStart = i + 1;
    i = stringEnd(b, i);
    if (i < 0) return undefined;
    const keyEnd = i - 1;
    while (i < n && isSpace(b[i])) i++;
    if (b[i] !== 58) return undefined; // ':'
    i++;
    while (i < n && isSpace(b[i])) i++;
    if (!isNumberStart(b[i])) {
      i = valueEnd(b, i);
      if (i < 0) return undefined;
      continue;
    }
    let k = i + 1;
    while (isNumberChar(b[k])) k++;
    const v = num(numberAt(b, i, k));
    i = k;
    switch (keyEnd - keyStart) {
      case 12:
        if (keyIs(b, keyStart, keyEnd, INPUT)) input = v;
        else if (keyIs(b, keyStart, keyEnd, TOTAL)) total = v;
        break;
      case 13:
        if (keyIs(b, keyStart, keyEnd, PROMPT)) prompt = v;
        else if (keyIs(b, keyStart, keyEnd, OUTPUT)) output = v;
        break;
      case 17:
        if (keyIs(b, keyStart, keyEnd, COMPLETION)) completion = v;
        break;
    }
  }
}

/** The index after the string that opens at `i` (a `"`), or -1 when it does not close. */
function stringEnd(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === 92) j++; // backslash
    else if (c === 34) return j + 1;
  }
  return -1;
}

/** The index after the JSON value at `i` (string, object, array or literal), or -1 when it does not end. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === 34) return stringEnd(b, i);
  if (c !== 123 && c !== 91) {
    while (i < b.length && b[i] !== 44 && b[i] !== 125 && b[i] !== 93 && !isSpace(b[i])) i++; // null, true, false
    return i < b.length ? i : -1;
  }
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const d = b[j];
    if (d === 34) {
      j = stringEnd(b, j) - 1;
      if (j < 0) return -1;
    } else if (d === 123 || d === 91) depth++;
    else if ((d === 125 || d === 93) && --depth === 0) return j + 1;
  }
  return -1;
}

/** A JSON number's bytes: plain digits (token counts) without making a string, anything else through Number(). */
function numberAt(b: Buffer, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c < 48 || c > 57) return Number(b.toString('latin1', from, to));
    v = v * 10 + (c - 48);
  }
  return v;
}

const KEY = Buffer.from('"usage"');

/** The usage object of the `"usage"` key at `at`, when its value is an object (`"usage":null` is not). */
function usageAt(b: Buffer, at: number): RawUsage | undefined {
  let i = at + KEY.length;
  while (isSpace(b[i])) i++;
  if (b[i] !== 58) return undefined; // ':'
  i++;
  while (isSpace(b[i])) i++;
  if (b[i] !== 123) return undefined; // '{'
  return usageObjectAt(b, i);
}

/** Below this many bytes the key is searched in JS: a native indexOf call costs more than the scan. */
const NATIVE_SEARCH_BYTES = 2048;
const Q = 34; // '"'

/** Whether `"usage"` starts at `i`. */
const keyAt = (b: Buffer, i: number) =>
  b[i] === Q && b[i + 1] === 117 && b[i + 2] === 115 && b[i + 3] === 97 && b[i + 4] === 103 && b[i + 5] === 101 && b[i + 6] === Q;

/** The last `"usage"` that starts before `before`, or -1. */
function lastKey(b: Buffer, before: number): number {
  if (b.length > NATIVE_SEARCH_BYTES) return before > 0 ? b.lastIndexOf(KEY, before - 1) : -1;
  for (let i = Math.min(before - 1, b.length - KEY.length); i >= 0; i--) if (keyAt(b, i)) return i;
  return -1;
}

/** The first `"usage"` that starts at or after `from`, or -1. */
function firstKey(b: Buffer, from: number): number {
  if (b.length > NATIVE_SEARCH_BYTES) return b.indexOf(KEY, from);
  for (let i = from, end = b.length - KEY.length; i <= end; i++) if (keyAt(b, i)) return i;
  return -1;
}

const anyField = (u: RawUsage | undefined) => !!u && (u.input !== undefined || u.output !== undefined || u.total !== undefined);
const bytes = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * The last usage object in the tail that reports anything (OpenAI's body or final chunk,
 * Anthropic's message_delta), completed from the first one in the head that reports input tokens
 * (Anthropic's message_start) when the last lacks input or output. Occurrences are found from the
 * end and from the start, so a body is scanned only as far as needed.
 */
export function usageFromResponse(headText: string | Buffer, tailText: string | Buffer): RawUsage | undefined {
  const tail = bytes(tailText);
  let last: RawUsage | undefined;
  for (let at = lastKey(tail, tail.length); at >= 0; at = lastKey(tail, at)) {
    const u = usageAt(tail, at);
    if (anyField(u)) {
      last = u;
      break;
    }
  }
  let first: RawUsage | undefined;
  if (last?.input === undefined || last.output === undefined) {
    const head = headText === tailText ? tail : bytes(headText);
    for (let at = firstKey(head, 0); at >= 0; at = firstKey(head, at + 1)) {
      const u = usageAt(head, at);
      if (u?.input !== undefined) {
        first = u;
        break;
      }
    }
  }
  if (!last && !first) return undefined;
  return {
    input: last?.input ?? first?.input,
    output: last?.output ?? first?.output,
    total: last?.total,
  };
}

export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4);
}

/** The characters of prompt text in an OpenAI/Anthropic-style request body: messages, prompt, input, system. */
export function promptChars(body: unknown): number {
  if (!body || typeof body !== 'object') return 0;
  const b = body as Record<string, unknown>;
  let n = 0;
  const add = (v: unknown): void => {
    if (typeof v === 'string') n += v.length;
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string') n += o.text.length;
      if ('content' in o) add(o.content);
    }
  };
  add(b.messages);
  add(b.prompt);
  add(b.input);
  add(b.system);
  return n;
}

/** Text the model produced, from a captured JSON body or SSE stream (OpenAI or Anthropic shapes). */
export function completionChars(text: string): number {
  let n = 0;
  const re = /"(?:content|text|partial_json|arguments)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) n += m[1].length;
  return n;
}

export function resolveUsage(
  raw: RawUsage | undefined,
  estimate: () => { req: number; res: number },
): Usage {
  if (raw && (raw.input !== undefined || raw.output !== undefined || raw.total !== undefined)) {
    const req = raw.input ?? (raw.total !== undefined && raw.output !== undefined ? raw.total - raw.output : 0);
    const res = raw.output ?? (raw.total !== undefined ? Math.max(0, raw.total - req) : 0);
    return { req, res, total: raw.total ?? req + res, estimated: false };
  }
  const e = estimate();
  return { req: e.req, res: e.res, total: e.req + e.res, estimated: true };
}
