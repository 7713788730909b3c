import { z } from 'zod';
import { validate } from './validate.js';

/**
 * Portkey's pagination: `page_size` and `current_page` (0-based). The SDK's users/invites list sends
 * them camel-cased (`pageSize`, `currentPage`), so both spellings are accepted.
 */
const paging = z.object({
  page_size: z.coerce.number().int().min(1).max(1000).default(100),
  current_page: z.coerce.number().int().min(0).default(0),
});

export interface Page {
  page_size: number;
  current_page: number;
  limit: number;
  offset: number;
}

export function pageOf(query: Record<string, string | undefined>): Page {
  const p = validate(paging, {
    page_size: query.page_size ?? query.pageSize,
    current_page: query.current_page ?? query.currentPage,
  });
  return { ...p, limit: p.page_size, offset: p.page_size * p.current_page };
}

/** The list envelope every list endpoint answers with. */
export function listBody<T>(data: T[], total: number, page?: Page) {
  return { object: 'list', total, data, ...(page ? { current_page: page.current_page, page_size: page.page_size } : {}) };
}
