import { Type } from '@sinclair/typebox';
import { invalid } from '../errors.js';

/**
 * Keyset pages for the console's lists [EXT]: newest first, ordered by (time, id), so a row
 * written while a client pages never shifts a page or shows twice. The cursor is opaque to
 * clients: base64url of `<epoch ms>.<row id>` of the last row of the previous page.
 */
export interface PagePosition {
  /** The time of the last row already shown (epoch ms). */
  at: number;
  id: string;
}

export interface PageRequest {
  limit: number;
  /** Rows strictly older than this position; null for the first page. */
  after: PagePosition | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** Row ids are made by reprise (`led_…`, 32 hex task ids): a cursor holding anything else is not one of ours. */
const ROW_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const encodeCursor = (position: PagePosition): string => Buffer.from(`${position.at}.${position.id}`, 'utf8').toString('base64url');

export function parseCursor(value: unknown): PagePosition | null {
  if (value === undefined || value === '') return null;
  const bad = () => invalid('cursor', 'is not a cursor this server handed out (pass nextCursor from the previous page as it was)');
  if (typeof value !== 'string' || value.length > 200 || !/^[A-Za-z0-9_-]+$/.test(value)) throw bad();
  const match = /^(\d{1,16})\.(.+)$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match) throw bad();
  const at = Number(match[1]);
  const id = match[2] ?? '';
  if (!Number.isSafeInteger(at) || !ROW_ID.test(id)) throw bad();
  return { at, id };
}

export function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_PAGE_LIMIT;
  const text = typeof value === 'string' ? value : '';
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE_LIMIT) {
    throw invalid('limit', `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return Number(text);
}

/** `?limit=&cursor=` → the page asked for, or a 422 naming the bad parameter. */
export function parsePage(query: { limit?: unknown; cursor?: unknown }): PageRequest {
  return { limit: parseLimit(query.limit), after: parseCursor(query.cursor) };
}

/** The cursor of the page after `rows`, or null when they were the last (one row more than the limit was read to tell). */
export function nextCursor<Row>(rows: Row[], limit: number, positionOf: (row: Row) => PagePosition): { rows: Row[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const shown = rows.slice(0, limit);
  return { rows: shown, nextCursor: encodeCursor(positionOf(shown[shown.length - 1] as Row)) };
}

/** The query parameters of a paged list, for the OpenAPI document (app.ts validates nothing itself). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: 'Rows per page' })),
  cursor: Type.Optional(Type.String({ description: '`nextCursor` of the previous page; absent for the first page' })),
};
