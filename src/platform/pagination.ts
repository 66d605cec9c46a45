import { z } from 'zod';
import { invalidField } from './errors.js';

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListQuery = z.infer<typeof listQuery>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Keyed {
  created_at: Date;
  id: string;
}

/** Keyset position (created_at, id) after which the next page starts. */
export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw invalidField('cursor', 'is not a cursor this service issued');
  }
}

/** SQL condition continuing after the cursor; `n` is the next free parameter number. */
export function cursorCondition(q: ListQuery, n: number, alias = ''): { sql: string; params: unknown[] } {
  const pos = decodeCursor(q.cursor);
  if (!pos) return { sql: 'TRUE', params: [] };
  const p = alias ? `${alias}.` : '';
  return { sql: `(${p}created_at, ${p}id) > ($${n}, $${n + 1})`, params: [pos.at, pos.id] };
}

/** Rows were fetched with LIMIT limit+1; the extra row tells whether there is a next page. */
export function toPage<R extends Keyed, T>(rows: R[], q: ListQuery, map: (r: R) => T): Page<T> {
  const more = rows.length > q.limit;
  const kept = more ? rows.slice(0, q.limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    nextCursor:
      more && last
        ? Buffer.from(JSON.stringify([last.created_at.toISOString(), last.id])).toString('base64url')
        : null,
  };
}
