import { Api, ApiError, type Role, type User } from './api.js';
import { clear, h } from './dom.js';
import {
  browserTimeZone,
  LOCALES,
  locale,
  setLocale,
  setTimeZone,
  t,
  timeZoneChoice,
  TIME_ZONES,
  type Locale,
  type MessageKey,
  type TimeZoneChoice,
} from './i18n.js';
import { Router, type RouteDef } from './router.js';
import { errorText, type PageContext } from './ui.js';
import './style.css';

interface NavItem {
  path: string;
  label: MessageKey;
  roles: Role[];
}

const NAV: NavItem[] = [
  { path: '/health', label: 'nav.health', roles: ['admin'] },
  { path: '/sites', label: 'nav.sites', roles: ['unit_operator', 'admin'] },
  { path: '/batches', label: 'nav.batches', roles: ['unit_operator', 'admin'] },
  { path: '/wall', label: 'nav.wall', roles: ['supervisor', 'admin'] },
  { path: '/review', label: 'nav.audit.batches', roles: ['auditor', 'admin'] },
  { path: '/units', label: 'nav.units', roles: ['admin'] },
  { path: '/users', label: 'nav.users', roles: ['admin'] },
  { path: '/dispatch', label: 'nav.dispatch', roles: ['admin'] },
  { path: '/audit-log', label: 'nav.auditLog', roles: ['auditor', 'admin'] },
];

const HOME: Record<Role, string> = {
  unit_operator: '/sites',
  supervisor: '/wall',
  auditor: '/review',
  admin: '/health',
};

function settings(onChange: () => void): HTMLElement {
  const lang = h(
    'select',
    { name: 'locale', 'aria-label': t('app.language') },
    ...LOCALES.map((l) => h('option', { value: l, selected: l === locale() }, t(`locale.${l}`))),
  );
  lang.onchange = () => {
    setLocale(lang.value as Locale);
    onChange();
  };
  const tzLabel = (z: TimeZoneChoice) =>
    z === 'Asia/Shanghai'
      ? t('tz.shanghai')
      : z === 'UTC'
        ? t('tz.utc')
        : t('tz.browser', { tz: browserTimeZone() });
  const tz = h(
    'select',
    { name: 'timezone', 'aria-label': t('app.timezone') },
    ...TIME_ZONES.map((z) => h('option', { value: z, selected: z === timeZoneChoice() }, tzLabel(z))),
  );
  tz.onchange = () => {
    setTimeZone(tz.value as TimeZoneChoice);
    onChange();
  };
  return h('div', { class: 'settings' }, lang, tz);
}

function loginScreen(root: HTMLElement, onSignedIn: (api: Api, user: User) => void): void {
  document.title = t('app.title');
  const error = h('p', { class: 'notice error', id: 'login-error', role: 'alert' });
  const form = h(
    'form',
    { id: 'login', class: 'login', autocomplete: 'on' },
    h('h1', null, t('app.title')),
    h('h2', null, t('login.title')),
    h(
      'label',
      { class: 'field' },
      h('span', null, t('login.username')),
      h('input', { name: 'username', autocomplete: 'username', required: true }),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, t('login.password')),
      h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    ),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')),
    error,
    settings(() => loginScreen(root, onSignedIn)),
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      const { api, user } = await Api.login(String(data.get('username')), String(data.get('password')));
      onSignedIn(api, user);
    } catch (err) {
      const message =
        err instanceof ApiError && err.status === 401
          ? t('login.badCredentials')
          : err instanceof ApiError && err.status === 429
            ? t('login.tooMany')
            : errorText(err);
      error.textContent = t('login.failed', { message });
    }
  };
  clear(root, h('main', { class: 'login-screen' }, form));
}

/** The signed-in application: header with the role's navigation, and the routed page. */
function appShell(root: HTMLElement, api: Api, user: User, signOut: () => void): Router {
  document.title = t('app.title');
  const main = h('main', { id: 'page', class: 'page' });
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': t('app.title') },
    ...NAV.filter((n) => n.roles.includes(user.role)).map((n) =>
      h('a', { href: `#${n.path}`, dataset: { path: n.path } }, t(n.label)),
    ),
  );
  const header = h(
    'header',
    { class: 'top' },
    h('strong', { class: 'brand' }, t('app.title')),
    nav,
    h('span', { class: 'spacer' }),
    h('span', { id: 'who', class: 'who' }, `${user.username} · ${t(`role.${user.role}`)}`),
    settings(() => location.reload()),
    h('button', { id: 'logout', type: 'button', onclick: signOut }, t('nav.signOut')),
  );
  clear(root, h('div', { class: 'shell', dataset: { role: user.role } }, header, main));
  const ctx: PageContext = { api, user, main };
  const allowed = (roles: Role[]) => roles.includes(user.role);
  // Each role's pages are loaded when first opened: the wall's and playback's players stay out of the rest.
  const operator = () => import('./pages/operator.js');
  const supervisor = () => import('./pages/supervisor.js');
  const auditor = () => import('./pages/auditor.js');
  const admin = () => import('./pages/admin.js');
  const defs: [string, Role[], RouteDef['render']][] = [
    ['/sites', ['unit_operator', 'admin'], async () => (await operator()).renderSites(ctx)],
    [
      '/sites/:id',
      ['unit_operator', 'admin'],
      async ({ params }) => (await operator()).renderSite(ctx, params.id!),
    ],
    ['/batches', ['unit_operator', 'admin'], async () => (await operator()).renderBatches(ctx)],
    ['/wall', ['supervisor', 'admin'], async ({ query }) => (await supervisor()).renderWall(ctx, query)],
    ['/review', ['auditor', 'admin'], async ({ query }) => (await auditor()).renderReview(ctx, query)],
    [
      '/review/:id',
      ['auditor', 'admin'],
      async ({ params }) => (await auditor()).renderReviewBatch(ctx, params.id!),
    ],
    ['/units', ['admin'], async () => (await admin()).renderUnits(ctx)],
    ['/users', ['admin'], async () => (await admin()).renderUsers(ctx)],
    ['/dispatch', ['admin'], async () => (await admin()).renderDispatch(ctx)],
    ['/audit-log', ['auditor', 'admin'], async () => (await admin()).renderAuditLog(ctx)],
    ['/health', ['admin'], async () => (await admin()).renderHealth(ctx)],
  ];
  const routes: RouteDef[] = defs
    .filter(([, roles]) => allowed(roles))
    .map(([pattern, , render]) => ({
      pattern,
      render: async (m) => {
        const base = `/${pattern.split('/')[1]}`;
        for (const a of nav.querySelectorAll<HTMLAnchorElement>('a'))
          a.classList.toggle('active', a.dataset.path === base);
        clear(main, h('p', { class: 'loading' }, t('common.loading')));
        try {
          return await render(m);
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) return;
          clear(main, h('p', { class: 'notice error', role: 'alert' }, errorText(err)));
        }
      },
    }));
  const router = new Router(routes, () => HOME[user.role]);
  router.start();
  return router;
}

function boot(): void {
  setLocale(locale());
  const root = document.getElementById('root')!;
  let router: Router | null = null;
  const signOut = () => {
    router?.stop();
    router = null;
    sessionStorage.removeItem('token');
    sessionStorage.removeItem('user');
    history.replaceState(null, '', location.pathname);
    loginScreen(root, open);
  };
  const open = (api: Api, user: User) => {
    router = appShell(root, api, user, signOut);
  };
  window.addEventListener('ess:unauthorized', signOut);
  const stored = sessionStorage.getItem('user');
  if (stored && sessionStorage.getItem('token')) open(new Api(), JSON.parse(stored) as User);
  else loginScreen(root, open);
}

boot();
