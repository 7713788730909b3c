import Mustache from 'mustache';
import type { PromptMessage } from './prompt-contract.js';

/**
 * The one prompt renderer both planes use (control-plane previews, the gateway's
 * `/v1/prompts/:id/render` and `/completions`). Pure: no I/O. Mustache without HTML escaping
 * (prompts are not HTML). Variables used outside any section must be supplied, else
 * `MissingVariablesError` (the routes answer 400); inside sections Mustache's own rules apply.
 */
export class MissingVariablesError extends Error {
  constructor(readonly missing: string[]) {
    super(`missing prompt variables: ${missing.join(', ')}`);
  }
}

export class UnknownPartialError extends Error {
  constructor(readonly partial: string) {
    super(`unknown prompt partial: ${partial}`);
  }
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];
const noEscape = (s: string) => s;
const MAX_PARTIAL_DEPTH = 8;

/** Top-level variable names (and partials) a template uses; recurses into partials. */
export function templateVariables(template: string, partials: Record<string, string> = {}, depth = 0): { variables: Set<string>; partials: Set<string> } {
  const variables = new Set<string>();
  const used = new Set<string>();
  const walk = (tokens: Token[], inSection: boolean) => {
    for (const t of tokens) {
      const [type, name] = t;
      if ((type === 'name' || type === '&' || type === '{') && !inSection && name !== '.') variables.add(name.split('.')[0]);
      else if (type === '#' || type === '^') walk(t[4] ?? [], true);
      else if (type === '>') {
        used.add(name);
        if (!(name in partials)) throw new UnknownPartialError(name);
        if (depth >= MAX_PARTIAL_DEPTH) throw new UnknownPartialError(`${name} (nested too deep)`);
        if (!inSection) {
          const inner = templateVariables(partials[name], partials, depth + 1);
          inner.variables.forEach((v) => variables.add(v));
          inner.partials.forEach((p) => used.add(p));
        }
      }
    }
  };
  walk(Mustache.parse(template) as unknown as Token[], false);
  return { variables, partials: used };
}

function renderString(template: string, variables: Record<string, unknown>, partials: Record<string, string>, missing: Set<string>): string {
  for (const v of templateVariables(template, partials).variables) if (!(v in variables)) missing.add(v);
  return Mustache.render(template, variables, partials, { escape: noEscape });
}

/** Renders every string (and text part) of the messages; throws MissingVariablesError listing all missing names. */
export function renderPromptMessages(
  messages: readonly PromptMessage[],
  variables: Record<string, unknown> = {},
  partials: Record<string, string> = {},
): PromptMessage[] {
  const missing = new Set<string>();
  const out = messages.map((m) => {
    if (typeof m.content === 'string') return { ...m, content: renderString(m.content, variables, partials, missing) };
    if (Array.isArray(m.content)) {
      const content = m.content.map((part) =>
        part.type === 'text' && typeof part.text === 'string' ? { ...part, text: renderString(part.text, variables, partials, missing) } : part,
      );
      return { ...m, content };
    }
    return m;
  });
  if (missing.size) throw new MissingVariablesError([...missing].sort());
  return out;
}

/** All partial names the messages reference (to validate references on save). */
export function referencedPartials(messages: readonly PromptMessage[], partials: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const m of messages) {
    const texts = typeof m.content === 'string' ? [m.content] : Array.isArray(m.content) ? m.content.map((p) => (typeof p.text === 'string' ? p.text : '')) : [];
    for (const text of texts) templateVariables(text, partials).partials.forEach((p) => names.add(p));
  }
  return [...names];
}
