import { z } from 'zod';

/**
 * Prompts as the control plane stores them and the gateway syncs them. A template is a list of chat
 * messages whose string contents are Mustache templates (`{{variable}}`, `{{#section}}…{{/section}}`,
 * `{{>partial-slug}}` for a partial by reference). Shared by both planes.
 */
export const promptMessageSchema = z
  .object({
    role: z.string().min(1).max(64),
    content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]).nullable(),
  })
  .loose();
export type PromptMessage = z.infer<typeof promptMessageSchema>;

export const promptVersionEntry = z.object({
  version: z.number().int().positive(),
  messages: z.array(promptMessageSchema),
  /** Model parameters merged into the request (temperature, max_tokens, ...). */
  parameters: z.record(z.string(), z.unknown()),
  model: z.string().nullable(),
  virtual_key: z.string().nullable(),
  provider: z.string().nullable(),
  tools: z.array(z.unknown()).nullable().optional(),
  tool_choice: z.unknown().optional(),
});
export type SyncPromptVersion = z.infer<typeof promptVersionEntry>;

export const syncPromptEntry = z.object({
  id: z.string(),
  slug: z.string(),
  workspace_id: z.string(),
  /** Label → version number: `production` (the default), `staging`, `latest`, and any custom labels. */
  labels: z.record(z.string(), z.number().int().positive()),
  /** The versions some label points at (not the whole history). */
  versions: z.array(promptVersionEntry),
});
export type SyncPrompt = z.infer<typeof syncPromptEntry>;

export const syncPromptPartialEntry = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  workspace_id: z.string(),
  version: z.number().int().positive(),
  /** The Mustache text of the partial's default (published) version. */
  string: z.string(),
});
export type SyncPromptPartial = z.infer<typeof syncPromptPartialEntry>;

/** Guardrail definitions (referenced from configs by id or slug) and the merged price catalogue, as synced. */
export const syncGuardrailEntry = z.object({
  id: z.string(),
  slug: z.string(),
  workspace_id: z.string(),
  name: z.string(),
  checks: z.array(z.record(z.string(), z.unknown())),
  actions: z.record(z.string(), z.unknown()),
  version: z.number().int(),
});
export type SyncGuardrail = z.infer<typeof syncGuardrailEntry>;

/** USD per 1M tokens; `cached_input` null when the provider has no cached-input price. */
export const syncPriceEntry = z.object({
  provider: z.string(),
  model: z.string(),
  input: z.number(),
  output: z.number(),
  cached_input: z.number().nullable(),
});
export type SyncPrice = z.infer<typeof syncPriceEntry>;
