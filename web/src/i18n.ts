import { en, zh, type MessageKey } from './messages.js';

export type Locale = 'zh-CN' | 'en';
export type { MessageKey };

const catalogues: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zh, en };

/** Each language is named in itself (both catalogues carry the same names). */
export const LOCALES: Locale[] = ['zh-CN', 'en'];

export const TIME_ZONES = ['Asia/Shanghai', 'browser', 'UTC'] as const;
export type TimeZoneChoice = (typeof TIME_ZONES)[number];

export function locale(): Locale {
  const stored = localStorage.getItem('locale');
  return stored === 'en' ? 'en' : 'zh-CN';
}

export function setLocale(l: Locale): void {
  localStorage.setItem('locale', l);
  document.documentElement.lang = l;
}

export function timeZoneChoice(): TimeZoneChoice {
  const stored = localStorage.getItem('tz') as TimeZoneChoice | null;
  return stored && (TIME_ZONES as readonly string[]).includes(stored) ? stored : 'Asia/Shanghai';
}

export function setTimeZone(tz: TimeZoneChoice): void {
  localStorage.setItem('tz', tz);
}

export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The IANA zone times are shown in: Asia/Shanghai unless the user chose otherwise. */
export function timeZone(): string {
  const c = timeZoneChoice();
  return c === 'browser' ? browserTimeZone() : c;
}

/** A message from the catalogue with {placeholders} filled. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = catalogues[locale()][key] ?? zh[key];
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** Whether a dynamic key (rule names, statuses from the API) is in the catalogue. */
export function has(key: string): key is MessageKey {
  return key in zh;
}

/** t() for keys built from API values, falling back to the value itself. */
export function tOr(key: string, fallback: string, vars: Record<string, string | number> = {}): string {
  return has(key) ? t(key, vars) : fallback;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const tz = timeZone();
  const key = `${locale()}|${tz}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), { ...opts, timeZone: tz, hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f;
}

export const fmtDateTime = (iso: string | Date) =>
  formatter({
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(iso));
export const fmtDate = (iso: string | Date) =>
  formatter({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
export const fmtTime = (iso: string | Date) =>
  formatter({ hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));

/** The calendar date (YYYY-MM-DD) of an instant in the chosen time zone. */
export function zonedDate(iso: string | Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timeZone(),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Offset of the chosen zone from UTC at an instant, in minutes. */
function offsetMinutes(at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timeZone(),
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** A datetime-local value ('2030-06-01T09:00') read in the chosen zone, as an ISO instant. */
export function zonedToIso(local: string): string {
  const naive = new Date(`${local}:00Z`);
  const guess = new Date(naive.getTime() - offsetMinutes(naive) * 60_000);
  return new Date(naive.getTime() - offsetMinutes(guess) * 60_000).toISOString();
}

/** An ISO instant as a datetime-local value in the chosen zone. */
export function isoToZoned(iso: string | Date): string {
  const d = new Date(iso);
  return new Date(d.getTime() + offsetMinutes(d) * 60_000).toISOString().slice(0, 16);
}

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return t('size.bytes', { n });
  if (n < 1024 ** 2) return t('size.kb', { n: (n / 1024).toFixed(1) });
  if (n < 1024 ** 3) return t('size.mb', { n: (n / 1024 ** 2).toFixed(1) });
  return t('size.gb', { n: (n / 1024 ** 3).toFixed(2) });
}
