import { HttpProblem } from '../../core/errors.js';
import type { GatewayConfig } from '../../core/config-schema.js';
import { isKnownCheck, normaliseCheckId } from '../../core/guardrail-checks/index.js';

/**
 * Hook definitions in Portkey's shapes, normalised. A config attaches them four ways:
 * - `before_request_hooks` / `after_request_hooks`: full hooks `{ type, id, checks: [{ id, parameters }], deny, async, on_fail, on_success }`,
 *   or a string naming a guardrail synced from the control plane;
 * - `input_guardrails` / `output_guardrails`: the same strings, or the shorthand
 *   `{ "default.contains": { operator, words }, deny: true, on_fail: {...} }` (every non-action key is a check).
 */
export type HookEvent = 'beforeRequestHook' | 'afterRequestHook';

export interface Feedback {
  value?: number;
  weight?: number;
  metadata?: Record<string, unknown>;
}

export interface HookAction {
  feedback?: Feedback;
}

export interface CheckDef {
  id: string;
  parameters: Record<string, unknown>;
}

export interface HookDef {
  id: string;
  type: 'guardrail' | 'mutator';
  eventType: HookEvent;
  deny: boolean;
  async: boolean;
  sequential: boolean;
  onFail?: HookAction;
  onSuccess?: HookAction;
  checks: CheckDef[];
}

/** A guardrail as the control plane defines it (Portkey's `/v1/guardrails` shape) and syncs it. */
export interface SyncedGuardrail {
  id: string;
  slug?: string;
  workspace_id?: string | null;
  name?: string;
  checks: { id: string; parameters?: Record<string, unknown>; is_enabled?: boolean }[];
  actions?: {
    deny?: boolean;
    async?: boolean;
    sequential?: boolean;
    on_fail?: HookAction;
    on_success?: HookAction;
    onFail?: HookAction;
    onSuccess?: HookAction;
  };
}

export interface GuardrailLookup {
  get(idOrSlug: string): SyncedGuardrail | undefined;
}

export interface ConfigHooks {
  before: HookDef[];
  after: HookDef[];
}

const ACTION_KEYS = new Set(['deny', 'on_fail', 'on_success', 'onFail', 'onSuccess', 'async', 'id', 'type', 'guardrail_version_id', 'sequential', 'name']);

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function action(v: unknown): HookAction | undefined {
  return isObj(v) ? (v as HookAction) : undefined;
}

function checkDefs(raw: unknown, where: string): CheckDef[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new HttpProblem(400, `${where}.checks: a hook needs a non-empty "checks" array`);
  return raw
    .filter((c) => !(isObj(c) && c.is_enabled === false))
    .map((c, i) => {
      if (!isObj(c) || typeof c.id !== 'string') throw new HttpProblem(400, `${where}.checks[${i}]: a check needs an "id"`);
      const id = normaliseCheckId(c.id);
      if (!isKnownCheck(id)) throw new HttpProblem(400, `${where}.checks[${i}]: unknown check "${c.id}"`);
      return { id, parameters: isObj(c.parameters) ? c.parameters : {} };
    });
}

function fromSynced(g: SyncedGuardrail, eventType: HookEvent, where: string): HookDef {
  const a = g.actions ?? {};
  return {
    id: g.slug ?? g.id,
    type: 'guardrail',
    eventType,
    deny: a.deny === true,
    async: a.async === true,
    sequential: a.sequential === true,
    onFail: a.on_fail ?? a.onFail,
    onSuccess: a.on_success ?? a.onSuccess,
    checks: checkDefs(g.checks, where),
  };
}

function resolveString(id: string, eventType: HookEvent, lookup: GuardrailLookup, where: string): HookDef {
  const g = lookup.get(id);
  if (!g) throw new HttpProblem(400, `${where}: no guardrail "${id}" in this workspace`);
  return fromSynced(g, eventType, where);
}

function fullHook(raw: Record<string, unknown>, eventType: HookEvent, where: string, index: number): HookDef {
  const type = raw.type === 'mutator' ? 'mutator' : 'guardrail';
  return {
    id: typeof raw.id === 'string' ? raw.id : `${eventType === 'beforeRequestHook' ? 'input' : 'output'}_hook_${index}`,
    type,
    eventType,
    deny: raw.deny === true,
    async: raw.async === true,
    sequential: raw.sequential === true,
    onFail: action(raw.on_fail ?? raw.onFail),
    onSuccess: action(raw.on_success ?? raw.onSuccess),
    checks: checkDefs(raw.checks, where),
  };
}

function shorthand(raw: Record<string, unknown>, eventType: HookEvent, where: string, index: number): HookDef {
  const checks = Object.entries(raw)
    .filter(([k]) => !ACTION_KEYS.has(k))
    .map(([k, v]) => ({ id: isObj(v) && typeof v.id === 'string' ? v.id : k, parameters: isObj(v) ? v : {} }));
  return fullHook({ ...raw, checks, id: raw.id ?? `${eventType === 'beforeRequestHook' ? 'input' : 'output'}_guardrail_${index}` }, eventType, where, index);
}

function normaliseList(list: unknown[] | undefined, eventType: HookEvent, field: string, lookup: GuardrailLookup, short: boolean): HookDef[] {
  if (!list?.length) return [];
  return list.map((entry, i) => {
    const where = `config.${field}[${i}]`;
    if (typeof entry === 'string') return resolveString(entry, eventType, lookup, where);
    if (!isObj(entry)) throw new HttpProblem(400, `${where}: expected a guardrail id or an object`);
    if (Array.isArray(entry.checks)) return fullHook(entry, eventType, where, i);
    if (short) return shorthand(entry, eventType, where, i);
    throw new HttpProblem(400, `${where}.checks: a hook needs a non-empty "checks" array`);
  });
}

/** The four hook fields of one config node, or of what a leaf inherited (pipeline/plan.ts's `Hooks`). */
export type HookFields = Pick<GatewayConfig, 'before_request_hooks' | 'after_request_hooks' | 'input_guardrails' | 'output_guardrails'>;

/** The hooks a config node attaches (or a leaf inherited), normalised; 400 for a bad or unknown one. */
export function configHooks(config: HookFields | GatewayConfig, lookup: GuardrailLookup): ConfigHooks {
  return {
    before: [
      ...normaliseList(config.before_request_hooks, 'beforeRequestHook', 'before_request_hooks', lookup, false),
      ...normaliseList(config.input_guardrails, 'beforeRequestHook', 'input_guardrails', lookup, true),
    ],
    after: [
      ...normaliseList(config.after_request_hooks, 'afterRequestHook', 'after_request_hooks', lookup, false),
      ...normaliseList(config.output_guardrails, 'afterRequestHook', 'output_guardrails', lookup, true),
    ],
  };
}

export function hasHooks(config: HookFields): boolean {
  return !!(config.before_request_hooks?.length || config.after_request_hooks?.length || config.input_guardrails?.length || config.output_guardrails?.length);
}

/** Whether a nested target sets any hook field (even an empty list, which clears an inherited one). */
function nestedSetsHooks(config: GatewayConfig): boolean {
  return (config.targets ?? []).some(
    (t) => t.before_request_hooks !== undefined || t.after_request_hooks !== undefined || t.input_guardrails !== undefined || t.output_guardrails !== undefined || nestedSetsHooks(t),
  );
}

export type HookShape = 'none' | 'top' | 'nested';
const shapes = new WeakMap<GatewayConfig, HookShape>();

/**
 * `none`: no hooks anywhere; `top`: only the config's top level has them (they run once, before the
 * strategy); `nested`: some target sets its own, so each leaf runs what it inherited (plan.ts's rule:
 * a node that sets a field replaces its parent's for that field).
 */
export function hookShape(config: GatewayConfig): HookShape {
  let shape = shapes.get(config);
  if (!shape) {
    shape = nestedSetsHooks(config) ? 'nested' : hasHooks(config) ? 'top' : 'none';
    shapes.set(config, shape);
  }
  return shape;
}

/** Every node's own hooks, normalised: a bad hook anywhere in the tree is a 400 before any call. */
export function validateTree(config: GatewayConfig, lookup: GuardrailLookup): void {
  configHooks(config, lookup);
  for (const t of config.targets ?? []) validateTree(t, lookup);
}
