import { io, type Socket } from 'socket.io-client';
import type { Alert, Batch, Camera, Session, SiteDetail } from '../api.js';
import { clear, h } from '../dom.js';
import { fmtDateTime, fmtDuration, fmtTime, t, tOr } from '../i18n.js';
import { LivePlayer } from '../player.js';
import { Router } from '../router.js';
import { field, notice, type PageContext } from '../ui.js';

interface LiveEvent {
  seq: number;
  alert?: Alert;
  cameraId?: string;
  status?: string;
}

const LAYOUTS = [1, 4, 9, 16] as const;
const autoLayout = (n: number) => LAYOUTS.find((l) => l >= n) ?? 16;
const statusText = (s: string) => tOr(`status.${s}`, s);
const ruleText = (a: Alert) => tOr(`rule.${a.rule}`, a.rule);

interface SessionChoice {
  batch: Batch;
  session: Session;
}

/** Sessions the supervisor is dispatched to (every session for an administrator), current first. */
function sessionsOf(ctx: PageContext, batches: Batch[]): SessionChoice[] {
  const now = Date.now();
  return batches
    .flatMap((batch) => batch.sessions.map((session) => ({ batch, session })))
    .filter((c) => ctx.user.role !== 'supervisor' || c.session.supervisorIds.includes(ctx.user.id))
    .sort((a, b) => {
      const rank = (c: SessionChoice) => {
        const s = new Date(c.session.startsAt).getTime();
        const e = new Date(c.session.endsAt).getTime();
        return s <= now && e > now ? 0 : s > now ? 1 : 2;
      };
      return rank(a) - rank(b) || a.session.startsAt.localeCompare(b.session.startsAt);
    });
}

/** The supervisor's wall: one session's site fills the screen; alerts on the right; the session clock. */
export async function renderWall(ctx: PageContext, query: URLSearchParams): Promise<() => void> {
  const choices = sessionsOf(ctx, (await ctx.api.batches()).items);
  const chosen = choices.find((c) => c.session.id === query.get('session')) ?? choices[0];
  const layoutChoice = query.get('layout');
  const goto = (session: string, layout: string | null, page = 1) =>
    Router.go(
      `/wall?session=${session}${layout ? `&layout=${layout}` : ''}${page > 1 ? `&page=${page}` : ''}`,
    );

  const picker = h(
    'select',
    { id: 'session-picker', name: 'session', 'aria-label': t('wall.pickSession') },
    ...choices.map((c) =>
      h(
        'option',
        { value: c.session.id, selected: c === chosen },
        `${c.batch.code} · ${fmtDateTime(c.session.startsAt)}–${fmtTime(c.session.endsAt)}`,
      ),
    ),
  );
  picker.onchange = () => goto(picker.value, layoutChoice);
  const layoutSel = h(
    'select',
    { id: 'layout', name: 'layout', 'aria-label': t('wall.layout') },
    h('option', { value: '' }, t('wall.layoutAuto')),
    ...LAYOUTS.map((n) =>
      h('option', { value: String(n), selected: String(n) === layoutChoice }, t('wall.layoutN', { n })),
    ),
  );
  layoutSel.onchange = () => chosen && goto(chosen.session.id, layoutSel.value || null);
  const clock = h('span', { id: 'clock', class: 'clock', 'aria-live': 'polite' });
  const link = h(
    'span',
    { id: 'link', class: 'link', dataset: { state: 'connecting' } },
    t('wall.connecting'),
  );
  const wall = h('section', { id: 'wall', class: 'wall', 'aria-label': t('nav.wall') });
  const list = h('ol', { id: 'alerts', 'aria-live': 'polite' });
  const opinion = h('div', { class: 'opinion' });
  const bar = h(
    'div',
    { class: 'wall-bar' },
    h('label', null, t('wall.session'), ' ', picker),
    h('label', null, t('wall.layout'), ' ', layoutSel),
    clock,
    link,
  );
  const aside = h('aside', { class: 'feed' }, h('h2', null, t('wall.alerts')), list, opinion);
  clear(ctx.main, h('div', { class: 'wall-page' }, bar, h('div', { class: 'wall-body' }, wall, aside)));
  ctx.main.classList.add('full');

  if (!chosen) {
    clear(wall, h('p', { class: 'empty' }, t('wall.noSessions')));
    clock.dataset.state = 'none';
    clock.textContent = t('wall.noSession');
    // Nothing to watch, so nothing connects: no "connecting…" that never ends.
    link.hidden = true;
    return () => ctx.main.classList.remove('full');
  }

  const session = chosen.session;
  const site: SiteDetail = await ctx.api.site(session.siteId);
  const zoneName = new Map(site.zones.map((z) => [z.id, z.name]));
  const sessionZones = session.zoneIds ?? site.zones.map((z) => z.id);
  const cameras: Camera[] = site.cameras.filter(
    (c) => c.zoneIds.length === 0 || c.zoneIds.some((z) => sessionZones.includes(z)),
  );
  const cameraName = new Map(site.cameras.map((c) => [c.id, c.name]));
  const layout = Number(layoutChoice) || autoLayout(cameras.length);
  wall.dataset.layout = String(layout);
  wall.style.setProperty('--cols', String(Math.sqrt(layout)));
  // More cameras than tiles: pages of `layout` cameras each.
  const pages = Math.max(1, Math.ceil(cameras.length / layout));
  const pageNo = Math.min(pages, Math.max(1, Number(query.get('page')) || 1));
  const shown = cameras.slice((pageNo - 1) * layout, pageNo * layout);
  if (pages > 1) {
    const step = (d: number) =>
      h(
        'button',
        {
          type: 'button',
          disabled: pageNo + d < 1 || pageNo + d > pages,
          onclick: () => goto(session.id, layoutChoice, pageNo + d),
        },
        d < 0 ? t('wall.prevPage') : t('wall.nextPage'),
      );
    layoutSel.parentElement!.after(
      h(
        'span',
        { class: 'pager' },
        step(-1),
        h('span', { id: 'wall-page-no' }, t('wall.page', { n: pageNo, total: pages })),
        step(1),
      ),
    );
  }

  const players: LivePlayer[] = [];
  const tiles = new Map<string, HTMLElement>();
  for (const cam of shown) {
    const video = h('video', { muted: true, autoplay: true, playsInline: true });
    const status = h('span', { class: 'status' }, statusText(cam.status));
    const fault = h('div', { class: 'fault', hidden: true });
    const tile = h(
      'figure',
      { class: 'tile', dataset: { cameraId: cam.id, status: cam.status } },
      video,
      fault,
      h(
        'figcaption',
        { class: 'meta' },
        h('span', { class: 'name' }, cam.name),
        h(
          'span',
          { class: 'zones' },
          cam.zoneIds
            .map((z) => zoneName.get(z) ?? '')
            .filter(Boolean)
            .join(t('common.listSep')),
        ),
        status,
      ),
    );
    wall.append(tile);
    tiles.set(cam.id, tile);
    const player = new LivePlayer(ctx.api, cam.id, video, (n) => (tile.dataset.errors = String(n)));
    players.push(player);
    void player.start();
  }
  for (let i = shown.length; i < layout; i++)
    wall.append(h('figure', { class: 'tile empty' }, h('span', null, t('wall.emptyTile'))));

  const alerts = new Map<string, Alert>();
  const subjectName = (a: Alert) => {
    if (a.cameraId) return cameraName.get(a.cameraId) ?? t('audit.camera');
    if (a.zoneId) return zoneName.get(a.zoneId) ?? t('audit.zone');
    if (a.subject.type === 'batch') return chosen.batch.code;
    if (a.siteId) return site.name;
    return t('alert.service');
  };
  const renderAlerts = () => {
    const items = [...alerts.values()]
      .filter((a) => a.state !== 'resolved')
      .sort((a, b) => b.openedAt.localeCompare(a.openedAt));
    clear(
      list,
      items.length === 0 ? h('li', { class: 'empty' }, t('wall.noAlerts')) : null,
      ...items.map((a) => {
        const ack = h('button', { type: 'button', class: 'ack' }, t('alert.ack'));
        ack.onclick = async () => {
          ack.disabled = true;
          try {
            const updated = await ctx.api.ack(a.id);
            alerts.set(updated.id, updated);
            renderAlerts();
          } catch {
            ack.disabled = false;
          }
        };
        return h(
          'li',
          {
            class: 'alert',
            dataset: { alertId: a.id, state: a.state, severity: a.severity, cameraId: a.cameraId ?? '' },
          },
          h(
            'div',
            { class: 'alert-head' },
            h('strong', null, ruleText(a)),
            h('span', { class: `sev ${a.severity}` }, t(`severity.${a.severity}`)),
          ),
          h(
            'div',
            { class: 'about' },
            `${subjectName(a)} · ${fmtTime(a.openedAt)}${a.occurrences > 1 ? ` · ${t('alert.times', { n: a.occurrences })}` : ''}`,
          ),
          h(
            'div',
            { class: 'state' },
            a.state === 'acknowledged'
              ? a.acknowledgedBy
                ? t('alert.acknowledgedBy', { who: a.acknowledgedBy })
                : t('alert.acknowledged')
              : t('alert.open'),
          ),
          a.state === 'open' ? ack : null,
        );
      }),
    );
    // A fault is drawn on the tile of the camera it concerns.
    for (const [id, tile] of tiles) {
      const open = items.filter((a) => a.cameraId === id);
      const fault = tile.querySelector<HTMLElement>('.fault')!;
      fault.hidden = open.length === 0;
      fault.textContent = open.map(ruleText).join(t('common.listSep'));
      tile.classList.toggle('has-fault', open.length > 0);
    }
  };
  for (const a of (await ctx.api.alerts({ siteId: site.id, state: 'unresolved' })).items) alerts.set(a.id, a);
  renderAlerts();

  let lastSeq = 0;
  const socket: Socket = io({ path: '/live', auth: { token: ctx.api.token }, transports: ['websocket'] });
  const setLink = (state: 'live' | 'reconnecting') => {
    link.dataset.state = state;
    link.textContent = state === 'live' ? t('wall.live') : t('wall.reconnecting');
  };
  socket.on('connect', () => {
    socket.emit('subscribe', { siteId: site.id, afterSeq: lastSeq }, () => setLink('live'));
  });
  socket.on('disconnect', () => setLink('reconnecting'));
  socket.on('connect_error', () => setLink('reconnecting'));
  const onAlert = (e: LiveEvent) => {
    lastSeq = Math.max(lastSeq, e.seq);
    if (e.alert && (e.alert.siteId === site.id || e.alert.siteId === null)) alerts.set(e.alert.id, e.alert);
    renderAlerts();
  };
  socket.on('alert.opened', onAlert);
  socket.on('alert.updated', onAlert);
  socket.on('alert.resolved', onAlert);
  socket.on('camera.status', (e: LiveEvent) => {
    lastSeq = Math.max(lastSeq, e.seq);
    const tile = e.cameraId ? tiles.get(e.cameraId) : undefined;
    if (!tile || !e.status) return;
    tile.dataset.status = e.status;
    tile.querySelector('.status')!.textContent = statusText(e.status);
  });

  // Opinion and score, filed by an assigned supervisor (at the end of the session).
  if (ctx.user.role === 'supervisor') {
    const msg = notice();
    const form = h(
      'form',
      { class: 'form', id: 'opinion-form' },
      h('h2', null, t('wall.opinion')),
      field('wall.opinionText', h('textarea', { name: 'text', rows: 3, required: true, maxLength: 10000 })),
      field('wall.score', h('input', { name: 'score', type: 'number', min: 0, max: 100, required: true })),
      h('button', { type: 'submit', class: 'primary' }, t('wall.submitOpinion')),
      msg,
    );
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const d = new FormData(form);
      try {
        await ctx.api.fileOpinion(chosen.batch.id, {
          sessionId: session.id,
          text: String(d.get('text')),
          score: Number(d.get('score')),
        });
        msg.ok(t('wall.opinionFiled'));
      } catch (err) {
        msg.fail(err);
      }
    };
    opinion.append(form);
  }

  const tick = () => {
    const now = Date.now();
    const start = new Date(session.startsAt).getTime();
    const end = new Date(session.endsAt).getTime();
    if (now < start) {
      clock.dataset.state = 'waiting';
      clock.textContent = t('wall.waiting', { left: fmtDuration(start - now) });
    } else if (now < end) {
      clock.dataset.state = 'running';
      clock.textContent = t('wall.running', {
        elapsed: fmtDuration(now - start),
        left: fmtDuration(end - now),
      });
    } else {
      clock.dataset.state = 'ended';
      clock.textContent = t('wall.ended');
    }
    opinion.classList.toggle('due', now >= end - 10 * 60_000);
  };
  tick();
  const timer = window.setInterval(tick, 1000);
  return () => {
    clearInterval(timer);
    socket.close();
    for (const p of players) p.close();
    ctx.main.classList.remove('full');
  };
}
