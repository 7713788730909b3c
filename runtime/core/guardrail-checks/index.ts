import {
  allLowercase,
  allUppercase,
  characterCount,
  containsCode,
  contains,
  endsWith,
  jsonKeys,
  jsonSchema,
  modelWhitelist,
  regexMatch,
  requiredMetadataKeys,
  sentenceCount,
  validUrls,
  wordCount,
} from './basic.js';
import { promptInjection } from './injection.js';
import { pii } from './pii.js';
import type { CheckFn } from './types.js';

export * from './types.js';
export { extractJson, countWords, countSentences } from './basic.js';
export { findPii, redactPii, luhn, ibanValid, PII_CATEGORIES, type PiiCategory, type PiiFinding } from './pii.js';
export { injectionSignals } from './injection.js';

/**
 * The built-in checks by id. Ids follow Portkey's plugin names (`default.regexMatch`, ...); a
 * bare name (`regexMatch`) means `default.<name>`. `portkey.pii` / `portkey.promptInjection`
 * are accepted as aliases so configs written for Portkey's hosted checks keep working.
 * The webhook check (`default.webhook`) needs I/O and is run by the gateway, not listed here.
 */
export const BUILT_IN_CHECKS: Readonly<Record<string, CheckFn>> = Object.freeze({
  'default.regexMatch': regexMatch,
  'default.contains': contains,
  'default.jsonSchema': jsonSchema,
  'default.jsonKeys': jsonKeys,
  'default.wordCount': wordCount,
  'default.sentenceCount': sentenceCount,
  'default.characterCount': characterCount,
  'default.validUrls': validUrls,
  'default.containsCode': containsCode,
  'default.modelWhitelist': modelWhitelist,
  'default.modelwhitelist': modelWhitelist,
  'default.requiredMetadataKeys': requiredMetadataKeys,
  'default.alluppercase': allUppercase,
  'default.allUppercase': allUppercase,
  'default.alllowercase': allLowercase,
  'default.allLowercase': allLowercase,
  'default.endsWith': endsWith,
  'default.pii': pii,
  'portkey.pii': pii,
  'default.promptInjection': promptInjection,
  'portkey.promptInjection': promptInjection,
});

export const ASYNC_CHECK_IDS: readonly string[] = ['default.webhook'];

/** `regexMatch` → `default.regexMatch`. */
export function normaliseCheckId(id: string): string {
  return id.includes('.') ? id : `default.${id}`;
}

export function isKnownCheck(id: string): boolean {
  const n = normaliseCheckId(id);
  return n in BUILT_IN_CHECKS || ASYNC_CHECK_IDS.includes(n);
}
