import { isIP } from 'node:net';
import { CheckParamError, withNot, type CheckFn } from './types.js';

/**
 * PII detection and redaction: email, phone, credit card (Luhn), US SSN, IBAN (ISO 13616 mod-97),
 * IP address (v4 and v6). Candidates come from linear-time regexes and are then validated
 * (Luhn, mod-97, net.isIP), so digit runs that merely look like a card or IBAN are not flagged.
 */
export type PiiCategory = 'email' | 'phone' | 'credit_card' | 'ssn' | 'iban' | 'ip_address';
export const PII_CATEGORIES: readonly PiiCategory[] = ['credit_card', 'iban', 'ssn', 'email', 'ip_address', 'phone'];

export interface PiiFinding {
  category: PiiCategory;
  start: number;
  end: number;
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters to 10..35, remainder mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (s.length < 15 || s.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 65) {
      const v = c - 55; // two digits
      rem = (rem * 100 + v) % 97;
    } else {
      rem = (rem * 10 + (c - 48)) % 97;
    }
  }
  return rem === 1;
}

interface Detector {
  category: PiiCategory;
  re: RegExp;
  valid?: (match: string) => boolean;
  /** A faster candidate scan than running `re` from every position (yields [start, end]). */
  scan?: (text: string) => Iterable<[number, number]>;
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const EMAIL_DOMAIN = /(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}\b/y;

/** Emails, found from each "@" outwards: linear in the text, whatever its length. */
function* scanEmails(text: string): Iterable<[number, number]> {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1])) start--;
    if (start === at || (start > 0 && LOCAL_CHAR.test(text[start - 1]))) continue;
    EMAIL_DOMAIN.lastIndex = at + 1;
    const m = EMAIL_DOMAIN.exec(text);
    if (m) yield [start, at + 1 + m[0].length];
  }
}

const DETECTORS: Detector[] = [
  // 13-19 digits, optionally grouped by single spaces or dashes.
  { category: 'credit_card', re: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g, valid: (m) => luhn(m.replace(/[ -]/g, '')) },
  { category: 'iban', re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, valid: ibanValid },
  { category: 'ssn', re: /(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])/g },
  { category: 'email', re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}\b/g, scan: scanEmails },
  {
    category: 'ip_address',
    re: /(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|(?=[0-9a-fA-F:]*:[0-9a-fA-F]*:)[0-9a-fA-F:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![\w.:])/g,
    valid: (m) => isIP(m) !== 0 && m !== '::',
  },
  // International (+CC) or national numbers with 7-15 digits in groups; bare digit runs are not phones.
  {
    category: 'phone',
    re: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])|(?<![\w+])\+\d{7,15}(?!\w)/g,
    valid: (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 7 && digits.length <= 15 && (/[+(]/.test(m) || /[ .-]/.test(m)) && digits.length >= (m.startsWith('+') ? 8 : 10);
    },
  },
];

function parseCategories(raw: unknown): readonly PiiCategory[] {
  if (raw === undefined) return PII_CATEGORIES;
  if (!Array.isArray(raw)) throw new CheckParamError('parameter "categories" must be an array');
  const aliases: Record<string, PiiCategory> = {
    email: 'email', email_address: 'email', phone: 'phone', phone_number: 'phone', credit_card: 'credit_card', card: 'credit_card',
    ssn: 'ssn', us_ssn: 'ssn', iban: 'iban', iban_code: 'iban', ip: 'ip_address', ip_address: 'ip_address',
  };
  return raw.map((c) => {
    const cat = typeof c === 'string' ? aliases[c.toLowerCase()] : undefined;
    if (!cat) throw new CheckParamError(`unknown PII category "${String(c)}"; use ${Object.keys(aliases).join(', ')}`);
    return cat;
  });
}

/** Every PII span, earlier detectors winning overlaps (a card number is not also a phone). */
export function findPii(text: string, categories: readonly PiiCategory[] = PII_CATEGORIES): PiiFinding[] {
  const found: PiiFinding[] = [];
  const taken = (s: number, e: number) => found.some((f) => s < f.end && e > f.start);
  for (const det of DETECTORS) {
    if (!categories.includes(det.category)) continue;
    if (det.scan) {
      for (const [start, end] of det.scan(text)) if (!taken(start, end)) found.push({ category: det.category, start, end });
      continue;
    }
    det.re.lastIndex = 0;
    for (let m = det.re.exec(text); m; m = det.re.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      if (det.valid && !det.valid(m[0])) continue;
      if (!taken(start, end)) found.push({ category: det.category, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

export const redactionLabel = (c: PiiCategory) => `[REDACTED_${c.toUpperCase()}]`;

export function redactPii(text: string, categories: readonly PiiCategory[] = PII_CATEGORIES): string {
  const found = findPii(text, categories);
  if (!found.length) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + redactionLabel(f.category);
    at = f.end;
  }
  return out + text.slice(at);
}

/**
 * `categories` (default: all), `redact` (rewrite the text; the check then passes since nothing leaves),
 * `not`. Without `redact`, any PII fails the check.
 */
export const pii: CheckFn = (input, params) => {
  const categories = parseCategories(params.categories);
  const found = findPii(input.text, categories);
  const counts: Record<string, number> = {};
  for (const f of found) counts[f.category] = (counts[f.category] ?? 0) + 1;
  const redact = params.redact === true;
  if (redact && found.length) {
    return {
      verdict: true,
      explanation: `redacted ${found.length} PII item(s)`,
      data: { detected: counts, redacted: true },
      rewrite: (t) => redactPii(t, categories),
    };
  }
  return {
    verdict: withNot(params, found.length === 0),
    explanation: found.length ? `found PII: ${Object.entries(counts).map(([k, n]) => `${k} ×${n}`).join(', ')}` : 'no PII found',
    data: { detected: counts, redacted: false },
  };
};
