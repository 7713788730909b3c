import { withNot, type CheckFn } from './types.js';

/**
 * Heuristics for the common prompt-injection and jailbreak phrasings. Deterministic and cheap; a
 * first line of defence, not a classifier. Each rule has a name reported in the result's data.
 */
const RULES: [string, RegExp][] = [
  ['ignore_instructions', /\b(?:ignore|disregard|forget|skip|bypass|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|all|any|the|your|these|those|system)\b[^.\n]{0,30}?\b(?:instructions?|prompts?|rules?|directions?|guidelines?|context|messages?|constraints?)\b/i],
  ['new_instructions', /\b(?:new|updated|real|actual|true)\s+(?:instructions?|system\s+prompt|rules)\s*(?::|are|follow)/i],
  ['reveal_system_prompt', /\b(?:reveal|show|print|display|repeat|output|leak|tell\s+me|what\s+(?:is|are))\b[^.\n]{0,30}?\b(?:your|the)\s+(?:system\s+prompt|initial\s+(?:prompt|instructions)|hidden\s+(?:prompt|instructions)|original\s+instructions|instructions\s+above)/i],
  ['role_override', /\byou\s+are\s+(?:now|no\s+longer)\b[^.\n]{0,40}?\b(?:DAN|unrestricted|unfiltered|jailbroken|evil|free\s+from|without\s+(?:any\s+)?(?:rules|restrictions|limits|filters))/i],
  ['dan', /\b(?:DAN|do\s+anything\s+now|developer\s+mode|god\s+mode|jailbreak(?:ed)?)\b/i],
  ['pretend_unrestricted', /\b(?:pretend|act|behave|roleplay)\b[^.\n]{0,30}?\b(?:as|like|to\s+be)\b[^.\n]{0,40}?\b(?:no|without)\s+(?:any\s+)?(?:rules|restrictions|limitations|filters|guidelines|morals|ethics)/i],
  ['disable_safety', /\b(?:disable|turn\s+off|ignore|bypass|remove)\b[^.\n]{0,20}?\b(?:safety|content)\s+(?:filters?|policy|policies|guidelines|restrictions|mode)/i],
  ['token_smuggling', /<\|im_start\|>\s*system|<\|system\|>|\[\/?INST\]|<<SYS>>|<\/?system>|###\s*(?:system|instruction)\s*:/i],
];

export function injectionSignals(text: string): string[] {
  const hits: string[] = [];
  for (const [name, re] of RULES) if (re.test(text)) hits.push(name);
  return hits;
}

/** Fails when at least `threshold` (default 1) rules fire. */
export const promptInjection: CheckFn = (input, params) => {
  const threshold = Number.isInteger(params.threshold) && (params.threshold as number) > 0 ? (params.threshold as number) : 1;
  const hits = injectionSignals(input.text);
  const flagged = hits.length >= threshold;
  return {
    verdict: withNot(params, !flagged),
    explanation: flagged ? `possible prompt injection: ${hits.join(', ')}` : 'no prompt-injection phrasing found',
    data: { signals: hits, threshold },
  };
};
