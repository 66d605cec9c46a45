import { z } from 'zod';
import { uuidPattern } from './ids.js';

// Control characters (NUL included) are refused: Postgres rejects NUL and they hide text from auditors.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// A lone surrogate (JSON "\ud800") is not text: Postgres would silently store U+FFFD instead.
const loneSurrogate = /[\uD800-\uDFFF]/u;

/** A human-entered text field: trimmed, not empty, bounded, no control characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !controlChars.test(v), 'must not contain control characters')
    .refine((v) => !loneSurrogate.test(v), 'must be valid Unicode text');

/** A UUID; upper-case hex is the same id (RFC 9562 says to accept it) and is lowered. */
export const id = z
  .string()
  .regex(new RegExp(uuidPattern.source, 'i'), 'must be an id (UUID)')
  .transform((v) => v.toLowerCase());

/** ISO 8601 date-time with an explicit offset, parsed to a Date. */
export const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
  .transform((v) => new Date(v));

const CREDIT_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Why a unified social credit code (GB 32100-2015) is invalid, or null when it is valid. */
export function creditCodeProblem(code: string): string | null {
  if (code.length !== 18) return 'must be 18 characters';
  for (const ch of code) {
    if (!CREDIT_CHARS.includes(ch)) {
      return /[a-z]/.test(ch)
        ? 'must use upper-case letters'
        : `contains '${ch}', which is not allowed (allowed: digits and ${CREDIT_CHARS.slice(10)})`;
    }
  }
  const sum = CREDIT_WEIGHTS.reduce((acc, w, i) => acc + CREDIT_CHARS.indexOf(code[i]!) * w, 0);
  const expected = CREDIT_CHARS[(31 - (sum % 31)) % 31];
  return code[17] === expected ? null : `check character is wrong (expected '${expected}')`;
}

export const creditCode = z
  .string()
  .superRefine((v, ctx) => {
    const problem = creditCodeProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'Unified social credit code (GB 32100-2015), upper case, with its check character',
    pattern: '^[0-9A-HJ-NPQRTUWXY]{18}$',
  });

/** 《国家职业分类大典》 code: major-middle-minor-detail, e.g. 6-18-01-01. */
export const occupationCode = z
  .string()
  .regex(/^\d-\d{2}-\d{2}-\d{2}$/, 'must look like 6-18-01-01 (major-middle-minor-detail)');
