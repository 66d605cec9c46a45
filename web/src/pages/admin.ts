import type { Role } from '../api.js';
import { clear, h } from '../dom.js';
import { fmtBytes, fmtDateTime, t, tOr } from '../i18n.js';
import { badge, busy, field, notice, pageHeader, select, table, type PageContext } from '../ui.js';

export async function renderUnits(ctx: PageContext): Promise<void> {
  const units = (await ctx.api.units()).items;
  const msg = notice();
  const form = h(
    'form',
    { class: 'card form', id: 'unit-form' },
    h('h2', null, t('units.create')),
    field('units.name', h('input', { name: 'name', required: true, maxLength: 200 })),
    field(
      'units.creditCode',
      h('input', { name: 'creditCode', required: true, maxLength: 18, placeholder: '91320102MA1NXQ3K7C' }),
    ),
    field(
      'units.kind',
      select('kind', [
        ['third_party', t('units.kind.third_party')],
        ['employer', t('units.kind.employer')],
      ]),
    ),
    field(
      'units.region',
      h('input', { name: 'region', maxLength: 100, placeholder: t('units.regionExample') }),
    ),
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'confidential' }),
      t('units.confidential'),
    ),
    h('button', { type: 'submit', class: 'primary' }, t('common.create')),
    msg,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const region = String(d.get('region') ?? '').trim();
    try {
      const u = await ctx.api.createUnit({
        name: String(d.get('name')).trim(),
        creditCode: String(d.get('creditCode')).trim().toUpperCase(),
        kind: d.get('kind') === 'employer' ? 'employer' : 'third_party',
        confidential: d.get('confidential') === 'on',
        ...(region ? { region } : {}),
      });
      await renderUnits(ctx);
      document.querySelector<HTMLElement>('#unit-form .notice')?.replaceWith(
        Object.assign(notice(), {
          textContent: t('units.created', { name: u.name }),
          className: 'notice ok',
        }),
      );
    } catch (err) {
      msg.fail(err);
    }
  };
  clear(
    ctx.main,
    pageHeader('units.title'),
    h(
      'div',
      { class: 'two-col wide-left' },
      table(
        ['units.name', 'units.creditCode', 'units.kind', 'units.region', 'units.confidential'],
        units.map((u) => [
          u.name,
          h('code', null, u.creditCode),
          t(`units.kind.${u.kind}`),
          u.region ?? '',
          u.confidential ? t('common.yes') : t('common.no'),
        ]),
        { id: 'units' },
      ),
      form,
    ),
  );
}

const ROLES: Role[] = ['unit_operator', 'supervisor', 'auditor', 'admin'];

export async function renderUsers(ctx: PageContext): Promise<void> {
  const [users, units] = await Promise.all([ctx.api.users(), ctx.api.units()]);
  const unitName = new Map(units.items.map((u) => [u.id, u.name]));
  const msg = notice();
  const roleSel = select(
    'role',
    ROLES.map((r) => [r, t(`role.${r}`)]),
  );
  const unitField = field(
    'users.unit',
    select('unitId', [['', t('common.none')], ...units.items.map((u): [string, string] => [u.id, u.name])]),
  );
  const kindField = field(
    'users.kind',
    select('supervisorKind', [
      ['external', t('users.kind.external')],
      ['internal', t('users.kind.internal')],
    ]),
  );
  const sync = () => {
    unitField.hidden = roleSel.value !== 'unit_operator' && roleSel.value !== 'supervisor';
    kindField.hidden = roleSel.value !== 'supervisor';
  };
  roleSel.onchange = sync;
  sync();
  const form = h(
    'form',
    { class: 'card form', id: 'user-form' },
    h('h2', null, t('users.create')),
    field(
      'users.username',
      h('input', { name: 'username', required: true, maxLength: 64, autocomplete: 'off' }),
    ),
    field(
      'users.password',
      h('input', {
        name: 'password',
        type: 'password',
        required: true,
        minLength: 8,
        autocomplete: 'new-password',
      }),
    ),
    field('users.role', roleSel),
    unitField,
    kindField,
    h('button', { type: 'submit', class: 'primary' }, t('common.create')),
    msg,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const role = String(d.get('role')) as Role;
    const unitId = String(d.get('unitId') ?? '');
    try {
      const u = await ctx.api.createUser({
        username: String(d.get('username')).trim(),
        password: String(d.get('password')),
        role,
        ...((role === 'unit_operator' || role === 'supervisor') && unitId ? { unitId } : {}),
        ...(role === 'supervisor'
          ? { supervisorKind: d.get('supervisorKind') === 'internal' ? 'internal' : 'external' }
          : {}),
      });
      await renderUsers(ctx);
      document.querySelector<HTMLElement>('#user-form .notice')?.replaceWith(
        Object.assign(notice(), {
          textContent: t('users.created', { name: u.username }),
          className: 'notice ok',
        }),
      );
    } catch (err) {
      msg.fail(err);
    }
  };
  clear(
    ctx.main,
    pageHeader('users.title'),
    h(
      'div',
      { class: 'two-col wide-left' },
      table(
        ['users.username', 'users.role', 'users.unit', 'users.kind'],
        users.items.map((u) => [
          u.username,
          t(`role.${u.role}`),
          u.unitId ? (unitName.get(u.unitId) ?? '') : '',
          u.supervisorKind ? t(`users.kind.${u.supervisorKind}`) : '',
        ]),
        { id: 'users' },
      ),
      form,
    ),
  );
}

/** Batches with their sessions' supervisors, and a random draw per batch. */
export async function renderDispatch(ctx: PageContext): Promise<void> {
  const [batches, units] = await Promise.all([ctx.api.batches(), ctx.api.units()]);
  const unitName = new Map(units.items.map((u) => [u.id, u.name]));
  const details = await Promise.all(batches.items.map((b) => ctx.api.batch(b.id)));
  const rows = details.map((b) => {
    const out = h('div', { class: 'dispatch-result' });
    const names = b.supervisors.map((s) => s.username).join(t('common.listSep'));
    out.textContent = names || t('dispatch.none');
    const btn = h(
      'button',
      { type: 'button', class: 'dispatch', dataset: { batchId: b.id } },
      t('dispatch.run'),
    );
    btn.onclick = () =>
      void busy(btn, async () => {
        try {
          const d = await ctx.api.dispatch(b.id);
          const all = d.sessions.flatMap((s) => s.supervisors.map((x) => x.username));
          const short = d.sessions.reduce((n, s) => n + s.shortfall, 0);
          clear(
            out,
            t('dispatch.done', { names: all.join(t('common.listSep')) || t('common.none') }),
            short ? h('span', { class: 'badge bad' }, t('dispatch.shortfall', { n: short })) : null,
          );
        } catch (err) {
          const n = notice();
          n.fail(err);
          clear(out, n);
        }
      });
    return [
      h('strong', null, b.code),
      unitName.get(b.unitId) ?? '',
      tOr(`batchStatus.${b.status}`, b.status),
      b.sessions.map((s) => fmtDateTime(s.startsAt)).join(t('common.groupSep')),
      out,
      btn,
    ];
  });
  clear(
    ctx.main,
    pageHeader('dispatch.title'),
    table(
      [
        'batches.code',
        'batches.unit',
        'batches.status',
        'batches.sessions',
        'batches.supervisors',
        'common.actions',
      ],
      rows,
      {
        id: 'dispatch',
      },
    ),
  );
}

export async function renderAuditLog(ctx: PageContext): Promise<void> {
  const subject = h('input', { name: 'subject', placeholder: t('auditLog.filterSubject') });
  const actor = h('input', { name: 'actor', placeholder: t('auditLog.filterActor') });
  const body = h('div', { id: 'audit-log' });
  const load = async () => {
    const r = await ctx.api.audit({
      subject: subject.value.trim() || undefined,
      actor: actor.value.trim() || undefined,
      limit: 200,
      order: 'desc',
    });
    clear(
      body,
      table(
        ['auditLog.at', 'auditLog.actor', 'auditLog.action', 'auditLog.subject'],
        r.items.map((a) => [
          fmtDateTime(a.at),
          a.actorName ?? '',
          h('span', { title: a.action, dataset: { action: a.action } }, tOr(`action.${a.action}`, a.action)),
          h('code', { class: 'subject' }, `${a.subjectType} ${a.subjectId ?? ''}`),
        ]),
      ),
    );
  };
  const filter = h(
    'form',
    { class: 'filters' },
    subject,
    actor,
    h('button', { type: 'submit' }, t('common.search')),
  );
  filter.onsubmit = (ev) => {
    ev.preventDefault();
    void load();
  };
  const verifyBtn = h(
    'button',
    { type: 'button', id: 'audit-verify', class: 'primary' },
    t('auditLog.verify'),
  );
  const result = h('div', { id: 'audit-verify-result', class: 'result' });
  verifyBtn.onclick = () =>
    void busy(verifyBtn, async () => {
      try {
        const v = await ctx.api.verifyAudit();
        result.dataset.ok = String(v.ok);
        clear(
          result,
          badge(
            v.ok ? t('auditLog.ok', { n: v.checked }) : t('auditLog.bad', { n: v.problems.length }),
            v.ok ? 'good' : 'bad',
          ),
          v.problems.length
            ? h('ul', null, ...v.problems.map((p) => h('li', null, `#${p.seq} ${p.kind}: ${p.message}`)))
            : null,
        );
      } catch (err) {
        const n = notice();
        n.fail(err);
        clear(result, n);
      }
    });
  clear(ctx.main, pageHeader('auditLog.title', verifyBtn), result, filter, body);
  await load();
}

export async function renderHealth(ctx: PageContext): Promise<() => void> {
  const body = h('div', { class: 'health', id: 'health' });
  const draw = async () => {
    const s = await ctx.api.health();
    const fill = s.storage.fill;
    clear(
      body,
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('health.cameras')),
        h(
          'div',
          { class: 'tiles-stats' },
          ...(['online', 'degraded', 'connecting', 'offline'] as const).map((st) =>
            h(
              'div',
              { class: `stat st-${st}`, dataset: { state: st } },
              h('b', null, String(s.cameras[st])),
              h('span', null, t(`status.${st}`)),
            ),
          ),
          h(
            'div',
            { class: 'stat', dataset: { state: 'alerts' } },
            h('b', null, String(s.openAlerts)),
            h('span', null, t('health.openAlerts')),
          ),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('health.storage')),
        h('p', null, t('health.storageKind', { kind: tOr(`storeKind.${s.storage.kind}`, s.storage.kind) })),
        s.storage.ok
          ? h(
              'div',
              null,
              fill === null
                ? h('p', null, t('health.fillUnknown'))
                : h(
                    'div',
                    null,
                    h('progress', { max: 1, value: fill, class: fill > s.storage.fillLimit ? 'bad' : '' }),
                    h(
                      'p',
                      null,
                      t('health.fill', {
                        percent: Math.round(fill * 100),
                        limit: Math.round(s.storage.fillLimit * 100),
                      }),
                    ),
                  ),
              h(
                'p',
                null,
                t('health.objectLock', { value: s.storage.objectLock ? t('common.yes') : t('common.no') }),
              ),
            )
          : badge(t('health.storageDown', { message: s.storage.error ?? '' }), 'bad'),
        h('h2', null, t('health.spool')),
        h(
          'p',
          null,
          t('health.spoolValue', {
            size: fmtBytes(s.spool.bytes),
            n: s.spool.cameras,
            max: fmtBytes(s.spool.maxBytes),
          }),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('health.queues')),
        table(
          ['health.queue', 'health.waiting', 'health.active', 'health.delayed', 'health.failed'],
          s.queues.map((q) => [tOr(`queue.${q.name}`, q.name), q.waiting, q.active, q.delayed, q.failed]),
        ),
      ),
    );
  };
  await draw();
  clear(ctx.main, pageHeader('health.title'), body);
  const timer = window.setInterval(() => void draw().catch(() => undefined), 5000);
  return () => clearInterval(timer);
}
