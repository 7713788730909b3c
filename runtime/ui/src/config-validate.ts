import { z } from 'zod';
import { gatewayConfigSchema } from '../../core/config-schema.ts';

/** The gateway's own schema, bundled into the UI: what validates here is what the gateway runs. */

export interface ConfigIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type ConfigCheck = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Where each path's value starts in valid JSON text: a small scanner, run only after JSON.parse
 * succeeded, so it can assume well-formed input. Keys map to the offset of the key itself.
 */
export function locatePaths(text: string): Map<string, number> {
  const at = new Map<string, number>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    if (!at.has(path)) at.set(path, i);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const keyAt = i;
        const key = str();
        const child = path ? `${path}.${key}` : key;
        at.set(child, keyAt);
        ws();
        i++; // :
        const save = at.get(child);
        value(child);
        at.set(child, save!);
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value(path ? `${path}.${n}` : String(n));
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') str();
    else while (i < text.length && /[^,\]}\s]/.test(text[i])) i++;
  };
  try {
    value('');
  } catch {
    /* best effort */
  }
  return at;
}

export function checkConfigText(text: string): ConfigCheck {
  if (!text.trim()) return { ok: false, issues: [{ path: '', message: 'The config is empty. Start with {"provider": "openai"} or a strategy with targets.' }] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos ? lineCol(text, Number(pos[1])) : undefined;
    return { ok: false, issues: [{ path: '', message: `Not valid JSON: ${msg.replace(/^JSON\.parse: /, '')}`, ...where }] };
  }
  const result = gatewayConfigSchema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const located = locatePaths(text);
  return {
    ok: false,
    issues: result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      // An unknown key's issue names its parent; point at the key itself when there is one.
      const keys = (issue as { keys?: string[] }).keys;
      const target = keys?.length ? (path ? `${path}.${keys[0]}` : keys[0]) : path;
      const offset = located.get(target) ?? located.get(path);
      return { path: path || '(top level)', message: issue.message, ...(offset !== undefined ? lineCol(text, offset) : {}) };
    }),
  };
}

let cachedSchema: Record<string, unknown> | null | undefined;

/** The JSON Schema of the gateway config, for the reference panel. */
export function configJsonSchema(): Record<string, unknown> | null {
  if (cachedSchema !== undefined) return cachedSchema;
  try {
    cachedSchema = z.toJSONSchema(gatewayConfigSchema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  } catch {
    cachedSchema = null;
  }
  return cachedSchema;
}
