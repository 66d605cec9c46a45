import { ApiError, type Api, type User } from './api.js';
import { h, type Child } from './dom.js';
import { has, t, tOr, type MessageKey } from './i18n.js';

/** What a page gets: the API client, the signed-in user, and its content element. */
export interface PageContext {
  api: Api;
  user: User;
  main: HTMLElement;
}

/** An error as words for the user: device errors and field errors from the catalogue. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const key = `deviceError.${err.code}`;
    if (err.status === 422 && has(key)) return t(key, { message: err.message });
    if (err.status === 404) return t('common.notFound');
    if (err.status === 403) return t('common.forbidden');
    if (err.status === 503) return t('common.unavailable');
    if (err.details.length)
      return err.details
        .map((d) =>
          t('common.field', {
            field: tOr(`fieldName.${d.path.replace(/\.\d+(?=\.|$)/g, '')}`, d.path),
            message: d.message,
          }),
        )
        .join(t('common.groupSep'));
    return t('common.error', { message: err.message });
  }
  return t('common.error', { message: err instanceof Error ? err.message : String(err) });
}

/** A line of feedback under a form: role=status for success, role=alert for errors. */
export function notice(): HTMLElement & { ok(text: string): void; fail(err: unknown): void; clear(): void } {
  const el = h('p', { class: 'notice', 'aria-live': 'polite' }) as unknown as HTMLElement & {
    ok(text: string): void;
    fail(err: unknown): void;
    clear(): void;
  };
  el.ok = (text) => {
    el.className = 'notice ok';
    el.setAttribute('role', 'status');
    el.textContent = text;
  };
  el.fail = (err) => {
    el.className = 'notice error';
    el.setAttribute('role', 'alert');
    el.textContent = errorText(err);
  };
  el.clear = () => {
    el.className = 'notice';
    el.textContent = '';
  };
  return el;
}

export function field(label: MessageKey, input: HTMLElement, extra?: Child): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', null, t(label)), input, extra);
}

export function pageHeader(title: MessageKey | string, ...actions: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'page-head' },
    h('h1', null, has(title) ? t(title) : title),
    h('div', { class: 'actions' }, ...actions),
  );
}

export function table(heads: MessageKey[], rows: Child[][], attrs: Record<string, unknown> = {}) {
  return h(
    'table',
    { class: 'grid', ...attrs },
    h('thead', null, h('tr', null, ...heads.map((k) => h('th', null, t(k))))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => h('td', null, c))))),
  );
}

export function badge(text: string, kind: string, attrs: Record<string, unknown> = {}): HTMLElement {
  return h('span', { class: `badge ${kind}`, ...attrs }, text);
}

/** Runs an async action from a button, disabling it meanwhile. */
export async function busy<T>(button: HTMLButtonElement, fn: () => Promise<T>): Promise<T | undefined> {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

export const select = (name: string, options: [string, string][], value?: string) =>
  h(
    'select',
    { name },
    ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
  );
