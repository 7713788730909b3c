import { randomBytes } from 'node:crypto';

/** Portkey-style slugs: a readable stem from the name plus a random tail, e.g. `pc-my-fallback-1a2b3c`. */
export function makeSlug(name: string, prefix = ''): string {
  const stem = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20)
    .replace(/-+$/, '');
  return `${prefix}${stem || 'item'}-${randomBytes(3).toString('hex')}`;
}
