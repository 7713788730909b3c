import { z } from 'zod';
import {
  CheckParamError,
  isInt,
  isNonEmptyString,
  isObject,
  isString,
  isStringArray,
  param,
  withNot,
  type CheckFn,
  type CheckParams,
} from './types.js';

/** Compiled regexes by source+flags: a rule is compiled once, not per request. */
const regexCache = new Map<string, RegExp>();
function compile(rule: string, flags: string): RegExp {
  const key = `${flags}/${rule}`;
  let re = regexCache.get(key);
  if (!re) {
    try {
      re = new RegExp(rule, flags);
    } catch (err) {
      throw new CheckParamError(`parameter "rule" is not a valid regular expression: ${(err as Error).message}`);
    }
    if (regexCache.size > 5000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

export const regexMatch: CheckFn = (input, params) => {
  const rule = param(params, 'rule', isNonEmptyString, 'a regular expression');
  const flags = typeof params.flags === 'string' ? params.flags.replace(/[gy]/g, '') : '';
  const match = compile(rule, flags).exec(input.text);
  const verdict = withNot(params, match !== null);
  return {
    verdict,
    explanation: match ? `the pattern matched "${match[0].slice(0, 100)}"` : 'the pattern did not match',
    data: { rule, not: params.not === true, matched: match !== null, ...(match ? { index: match.index } : {}) },
  };
};

type Operator = 'any' | 'all' | 'none';
function operator(params: CheckParams, fallback: Operator = 'any'): Operator {
  const op = params.operator ?? fallback;
  if (op !== 'any' && op !== 'all' && op !== 'none') throw new CheckParamError('parameter "operator" must be "any", "all" or "none"');
  return op;
}

function judge(op: Operator, found: string[], total: number): boolean {
  if (op === 'any') return found.length > 0;
  if (op === 'all') return found.length === total;
  return found.length === 0;
}

/** `words` with `operator` any (at least one present), all, or none (a blocklist). Case-insensitive unless `caseSensitive`. */
export const contains: CheckFn = (input, params) => {
  const words = param(params, 'words', isStringArray, 'an array of strings').filter((w) => w.length > 0);
  const op = operator(params);
  const cs = params.caseSensitive === true;
  const text = cs ? input.text : input.text.toLowerCase();
  const found = words.filter((w) => text.includes(cs ? w : w.toLowerCase()));
  const verdict = judge(op, found, words.length);
  return {
    verdict,
    explanation: verdict ? `the text satisfies "${op}" for the listed words` : `the text fails "${op}": found ${found.length} of ${words.length} words`,
    data: { operator: op, found, missing: words.filter((w) => !found.includes(w)) },
  };
};

/** The JSON in a text: the whole text, a ```json fenced block, or the outermost {...} / [...]. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const attempts: string[] = [text.trim()];
  const fence = /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(text);
  if (fence) attempts.push(fence[1].trim());
  const o = text.indexOf('{');
  const oe = text.lastIndexOf('}');
  if (o !== -1 && oe > o) attempts.push(text.slice(o, oe + 1));
  const a = text.indexOf('[');
  const ae = text.lastIndexOf(']');
  if (a !== -1 && ae > a) attempts.push(text.slice(a, ae + 1));
  for (const candidate of attempts) {
    if (!candidate) continue;
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch {
      // next candidate
    }
  }
  return { ok: false };
}

/** JSON Schemas compiled with zod 4's `z.fromJSONSchema`, once per distinct schema. */
const schemaCache = new Map<string, z.ZodType>();
function compileSchema(schema: Record<string, unknown>): z.ZodType {
  const key = JSON.stringify(schema);
  let compiled = schemaCache.get(key);
  if (!compiled) {
    try {
      compiled = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (err) {
      throw new CheckParamError(`parameter "schema" is not a usable JSON Schema: ${(err as Error).message}`);
    }
    if (schemaCache.size > 1000) schemaCache.clear();
    schemaCache.set(key, compiled);
  }
  return compiled;
}

export const jsonSchema: CheckFn = (input, params) => {
  const schema = param(params, 'schema', isObject, 'a JSON Schema object');
  const compiled = compileSchema(schema);
  const found = extractJson(input.text);
  if (!found.ok) return { verdict: withNot(params, false), explanation: 'no JSON found in the text', data: { found: false } };
  const result = compiled.safeParse(found.value);
  const issues = result.success ? [] : result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return {
    verdict: withNot(params, result.success),
    explanation: result.success ? 'the JSON matches the schema' : `the JSON does not match the schema: ${issues.join('; ')}`,
    data: { found: true, valid: result.success, issues },
  };
};

export const jsonKeys: CheckFn = (input, params) => {
  const keys = param(params, 'keys', isStringArray, 'an array of strings');
  const op = operator(params);
  const found = extractJson(input.text);
  const obj = found.ok && isObject(found.value) ? found.value : undefined;
  if (!obj) return { verdict: op === 'none', explanation: 'no JSON object found in the text', data: { found: false, operator: op } };
  const present = keys.filter((k) => Object.hasOwn(obj, k));
  const verdict = judge(op, present, keys.length);
  return {
    verdict,
    explanation: verdict ? `the JSON keys satisfy "${op}"` : `the JSON keys fail "${op}": ${present.length} of ${keys.length} present`,
    data: { operator: op, present, missing: keys.filter((k) => !present.includes(k)) },
  };
};

function countBounds(name: string, count: number, min: unknown, max: unknown, params: CheckParams) {
  if (min !== undefined && !isInt(min)) throw new CheckParamError(`parameter "min${name}" must be a non-negative integer`);
  if (max !== undefined && !isInt(max)) throw new CheckParamError(`parameter "max${name}" must be a non-negative integer`);
  if (min === undefined && max === undefined) throw new CheckParamError(`give "min${name}" and/or "max${name}"`);
  const inRange = (min === undefined || count >= min) && (max === undefined || count <= max);
  const range = `${min ?? 0}-${max ?? '∞'}`;
  return {
    verdict: withNot(params, inRange),
    explanation: `${count} ${name.toLowerCase()} ${inRange ? 'within' : 'outside'} ${range}`,
    data: { count, min: min ?? null, max: max ?? null, not: params.not === true },
  };
}

export function countWords(text: string): number {
  const m = text.trim().match(/\S+/g);
  return m ? m.length : 0;
}

/** Sentences: runs of text ending in . ! or ? (or the end of the text), ignoring empty ones. */
export function countSentences(text: string): number {
  const m = text.match(/[^.!?\s][^.!?]*(?:[.!?]+|$)/g);
  return m ? m.length : 0;
}

export const wordCount: CheckFn = (input, p) => countBounds('Words', countWords(input.text), p.minWords, p.maxWords, p);
export const sentenceCount: CheckFn = (input, p) => countBounds('Sentences', countSentences(input.text), p.minSentences, p.maxSentences, p);
export const characterCount: CheckFn = (input, p) => countBounds('Characters', [...input.text].length, p.minCharacters, p.maxCharacters, p);

const URL_RE = /\bhttps?:\/\/[^\s<>"'`)\]]+/gi;
const HOST_RE = /^(?:localhost|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;

/** Every http(s) URL in the text parses and has a plausible host. No DNS lookups: deterministic. */
export const validUrls: CheckFn = (input, params) => {
  const urls = (input.text.match(URL_RE) ?? []).map((u) => u.replace(/[.,;:!?]+$/, ''));
  const invalid = urls.filter((u) => {
    try {
      return !HOST_RE.test(new URL(u).hostname);
    } catch {
      return true;
    }
  });
  const ok = urls.length > 0 && invalid.length === 0;
  return {
    verdict: withNot(params, ok),
    explanation: urls.length === 0 ? 'no URLs found' : invalid.length ? `${invalid.length} invalid URL(s)` : `all ${urls.length} URL(s) are valid`,
    data: { urls, invalid },
  };
};

const LANG_ALIASES: Record<string, string> = {
  js: 'javascript', javascript: 'javascript', node: 'javascript', jsx: 'javascript',
  ts: 'typescript', typescript: 'typescript', tsx: 'typescript',
  py: 'python', python: 'python', python3: 'python',
  sh: 'shell', bash: 'shell', shell: 'shell', zsh: 'shell',
  sql: 'sql', postgresql: 'sql', mysql: 'sql',
  rb: 'ruby', ruby: 'ruby', go: 'go', golang: 'go', rs: 'rust', rust: 'rust',
  java: 'java', kotlin: 'kotlin', kt: 'kotlin', c: 'c', cpp: 'cpp', 'c++': 'cpp', cs: 'csharp', csharp: 'csharp', 'c#': 'csharp',
  php: 'php', html: 'html', css: 'css', json: 'json', yaml: 'yaml', yml: 'yaml', xml: 'xml', swift: 'swift',
};
const norm = (lang: string) => LANG_ALIASES[lang.toLowerCase()] ?? lang.toLowerCase();

/** Unfenced code: a few strong signals per line (keywords at line start, braces/semicolon endings, SQL verbs). */
const CODE_LINE = /^\s*(?:(?:def|class|import|from|function|const|let|var|return|if|for|while|public|private|#include|package|fn|func)\b.*|.*[{};]\s*$|(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP)\s+[\w*].*)$/m;

export const containsCode: CheckFn = (input, params) => {
  const format = typeof params.format === 'string' && params.format ? norm(params.format) : undefined;
  const fences = [...input.text.matchAll(/```([\w+#-]*)[^\n]*\n[\s\S]*?```/g)].map((m) => norm(m[1] || 'unknown'));
  let found: boolean;
  if (format) found = fences.includes(format);
  else found = fences.length > 0 || CODE_LINE.test(input.text);
  return {
    verdict: withNot(params, found),
    explanation: found ? `code found${format ? ` (${format})` : ''}` : `no code found${format ? ` in ${format}` : ''}`,
    data: { languages: fences, format: format ?? null },
  };
};

export const modelWhitelist: CheckFn = (input, params) => {
  const models = param(params, 'models', isStringArray, 'an array of model names');
  const model = input.model ?? '';
  const listed = models.some((m) => (m.endsWith('*') ? model.startsWith(m.slice(0, -1)) : m === model));
  return {
    verdict: withNot(params, listed),
    explanation: listed ? `model "${model}" is allowed` : `model "${model}" is not in the allowed list`,
    data: { model, models },
  };
};

export const requiredMetadataKeys: CheckFn = (input, params) => {
  const keys = param(params, 'metadataKeys', isStringArray, 'an array of strings');
  const op = operator(params, 'all');
  const metadata = input.metadata ?? {};
  const present = keys.filter((k) => Object.hasOwn(metadata, k));
  const verdict = judge(op, present, keys.length);
  return {
    verdict,
    explanation: verdict ? `metadata keys satisfy "${op}"` : `metadata keys fail "${op}": missing ${keys.filter((k) => !present.includes(k)).join(', ')}`,
    data: { operator: op, present, missing: keys.filter((k) => !present.includes(k)) },
  };
};

function letterCase(upper: boolean): CheckFn {
  return (input, params) => {
    const letters = input.text.replace(/[^\p{L}]/gu, '');
    const ok = letters.length > 0 && (upper ? letters === letters.toUpperCase() : letters === letters.toLowerCase());
    return {
      verdict: withNot(params, ok),
      explanation: ok ? `the text is all ${upper ? 'upper' : 'lower'}case` : `the text is not all ${upper ? 'upper' : 'lower'}case`,
      data: { not: params.not === true },
    };
  };
}
export const allUppercase = letterCase(true);
export const allLowercase = letterCase(false);

export const endsWith: CheckFn = (input, params) => {
  const suffix = param(params, 'suffix', isString, 'a string');
  const ok = input.text.trimEnd().endsWith(suffix);
  return {
    verdict: withNot(params, ok),
    explanation: ok ? `the text ends with "${suffix}"` : `the text does not end with "${suffix}"`,
    data: { suffix, not: params.not === true },
  };
};
