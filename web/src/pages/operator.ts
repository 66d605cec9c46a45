import type { Camera, CameraCreate, Coverage, Discovered, SiteDetail, Unit } from '../api.js';
import { clear, h } from '../dom.js';
import { fmtDateTime, isoToZoned, t, tOr, zonedToIso } from '../i18n.js';
import { badge, busy, field, notice, pageHeader, select, table, type PageContext } from '../ui.js';

const statusText = (s: string) => tOr(`status.${s}`, s);

/** Units the user may create things for: its own unit, or every unit for an administrator. */
async function writableUnits(ctx: PageContext): Promise<Unit[]> {
  const units = (await ctx.api.units()).items;
  return ctx.user.role === 'admin' ? units : units.filter((u) => u.id === ctx.user.unitId);
}

function coverageSummary(site: SiteDetail): HTMLElement {
  const covered = site.coverage.filter((c) => c.covered).length;
  const all = site.coverage.length;
  return badge(
    t('sites.coverageSummary', { covered, total: all }),
    covered === all && all > 0 ? 'good' : 'bad',
  );
}

export async function renderSites(ctx: PageContext): Promise<void> {
  const [sites, units] = await Promise.all([ctx.api.sites(), writableUnits(ctx)]);
  const details = await Promise.all(sites.items.map((s) => ctx.api.site(s.id)));
  const msg = notice();
  const form = h(
    'form',
    { class: 'card form', id: 'site-form' },
    h('h2', null, t('sites.create')),
    units.length > 1 || ctx.user.role === 'admin'
      ? field(
          'sites.unit',
          select(
            'unitId',
            units.map((u) => [u.id, u.name]),
          ),
        )
      : h('input', { type: 'hidden', name: 'unitId', value: units[0]?.id ?? '' }),
    field('sites.name', h('input', { name: 'name', required: true, maxLength: 200 })),
    field('sites.address', h('input', { name: 'address', maxLength: 500 })),
    field('sites.zones', h('textarea', { name: 'zones', rows: 4 })),
    h('button', { type: 'submit', class: 'primary' }, t('common.create')),
    msg,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const zones = String(d.get('zones') ?? '')
      .split('\n')
      .map((z) => z.trim())
      .filter(Boolean)
      .map((name) => ({ name }));
    try {
      const address = String(d.get('address') ?? '').trim();
      const site = await ctx.api.createSite({
        unitId: String(d.get('unitId')),
        name: String(d.get('name')).trim(),
        ...(address ? { address } : {}),
        zones,
      });
      location.hash = `/sites/${site.id}`;
    } catch (err) {
      msg.fail(err);
    }
  };
  const list = h(
    'div',
    { class: 'cards', id: 'sites' },
    details.length === 0 ? h('p', { class: 'empty' }, t('sites.empty')) : null,
    ...details.map((s) =>
      h(
        'a',
        { class: 'card site-card', href: `#/sites/${s.id}`, dataset: { siteId: s.id } },
        h('h2', null, s.name),
        s.address ? h('p', { class: 'muted' }, s.address) : null,
        h(
          'p',
          null,
          t('sites.zoneCount', { n: s.zones.length }),
          ' · ',
          t('sites.cameraCount', { n: s.cameras.length }),
          ' ',
          coverageSummary(s),
        ),
      ),
    ),
  );
  clear(ctx.main, pageHeader('sites.title'), h('div', { class: 'two-col' }, list, form));
}

/** A zone's card: green when a healthy camera covers it, else red with the reason in words. */
function zoneCard(
  ctx: PageContext,
  site: SiteDetail,
  zone: SiteDetail['zones'][number],
  cov: Coverage | undefined,
  refresh: () => void,
): HTMLElement {
  const camName = new Map(site.cameras.map((c) => [c.id, c.name]));
  const names = (ids: string[]) => ids.map((id) => camName.get(id) ?? id).join(t('common.listSep'));
  const reason =
    !cov || cov.cameraIds.length === 0
      ? t('site.noCamera')
      : cov.covered
        ? t('site.coveredBy', { cameras: names(cov.healthyCameraIds) })
        : t('site.camerasUnhealthy', {
            cameras: cov.cameraIds
              .map((id) => {
                const c = site.cameras.find((x) => x.id === id);
                return c ? t('site.cameraStatus', { name: c.name, status: statusText(c.status) }) : id;
              })
              .join(t('common.listSep')),
          });
  const covered = cov?.covered ?? false;
  const renameInput = h('input', {
    name: 'zoneName',
    value: zone.name,
    maxLength: 100,
    'aria-label': t('common.rename'),
  });
  const msg = notice();
  const rename = h(
    'form',
    { class: 'inline rename', hidden: true },
    renameInput,
    h('button', { type: 'submit' }, t('common.save')),
    msg,
  );
  rename.onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await ctx.api.renameZone(site.id, zone.id, renameInput.value.trim());
      refresh();
    } catch (err) {
      msg.fail(err);
    }
  };
  return h(
    'div',
    {
      class: `zone ${covered ? 'covered' : 'uncovered'}`,
      dataset: { zoneId: zone.id, covered: String(covered) },
    },
    h(
      'div',
      { class: 'zone-head' },
      h('strong', { class: 'zone-name' }, zone.name),
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => (rename.hidden = !rename.hidden) },
        t('common.rename'),
      ),
    ),
    h('div', { class: 'zone-state' }, covered ? t('site.covered') : reason),
    covered ? h('div', { class: 'muted' }, reason) : null,
    rename,
  );
}

function healthLine(cam: Camera): HTMLElement {
  const health = cam.health as {
    fps?: number | null;
    bitrate?: number | null;
    width?: number | null;
    height?: number | null;
    picture?: string;
    /** Who says each picture fault is there: our checks, the camera's own analytics, or both. */
    faultSources?: Record<string, string[]>;
  };
  const stream = cam.streams[0];
  const width = health.width ?? stream?.width;
  const height = health.height ?? stream?.height;
  const fps = health.fps ?? stream?.fps;
  return h(
    'dl',
    { class: 'facts' },
    h('dt', null, t('camera.resolution')),
    h('dd', { class: 'resolution' }, width && height ? `${width}×${height}` : '—'),
    h('dt', null, t('camera.fps')),
    h('dd', { class: 'fps' }, fps ? t('camera.fpsValue', { n: Math.round(fps * 10) / 10 }) : '—'),
    h('dt', null, t('camera.bitrate')),
    h('dd', { class: 'bitrate' }, health.bitrate ? t('camera.kbps', { n: Math.round(health.bitrate) }) : '—'),
    h('dt', null, t('camera.picture')),
    h('dd', { class: 'picture' }, tOr(`picture.${health.picture ?? 'unknown'}`, health.picture ?? '')),
    ...Object.entries(health.faultSources ?? {}).flatMap(([fault, sources]) => [
      h('dt', null, tOr(`picture.${fault}`, fault)),
      h(
        'dd',
        { class: 'fault-source', dataset: { fault } },
        sources
          .map((s) => t(s === 'camera' ? 'camera.sourceCamera' : 'camera.sourceChecks'))
          .join(t('common.listSep')),
      ),
    ]),
  );
}

/**
 * The reference picture the moved and blurred checks compare against: when and by whom it was
 * taken, or that the service takes one by itself once the picture has stayed steady.
 */
async function reference(ctx: PageContext, cam: Camera, box: HTMLElement): Promise<void> {
  try {
    const ref = await ctx.api.reference(cam.id);
    const res = await ctx.api.fetch('get', `/api/v1/cameras/${cam.id}/reference.jpg`);
    const img = h('img', { class: 'reference', width: 160, height: 90, alt: t('camera.referencePicture') });
    img.src = URL.createObjectURL(await res.blob());
    clear(
      box,
      img,
      h(
        'div',
        { class: 'muted reference-caption' },
        t(ref.source === 'auto' ? 'camera.referenceAuto' : 'camera.referenceOperator', {
          at: fmtDateTime(ref.takenAt),
        }),
      ),
    );
  } catch {
    clear(box, h('div', { class: 'muted reference-caption' }, t('camera.referenceNone')));
  }
}

/** A JPEG of the camera now, fetched with the token (an <img src> cannot carry it). */
async function snapshot(ctx: PageContext, cameraId: string, img: HTMLImageElement): Promise<void> {
  try {
    const res = await ctx.api.fetch('get', `/api/v1/cameras/${cameraId}/snapshot`);
    const blob = await res.blob();
    const old = img.src;
    img.src = URL.createObjectURL(blob);
    if (old.startsWith('blob:')) URL.revokeObjectURL(old);
    img.alt = t('camera.snapshot');
  } catch {
    img.alt = t('camera.snapshotFailed');
  }
}

function cameraCard(ctx: PageContext, site: SiteDetail, cam: Camera, refresh: () => void): HTMLElement {
  const img = h('img', { class: 'snapshot', alt: t('common.loading'), width: 320, height: 180 });
  void snapshot(ctx, cam.id, img);
  const msg = notice();
  const boxes = site.zones.map((z) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'zone', value: z.id, checked: cam.zoneIds.includes(z.id) }),
      z.name,
    ),
  );
  const zonesForm = h(
    'form',
    { class: 'zones-form' },
    h('fieldset', null, h('legend', null, t('camera.zones')), ...boxes),
    h('button', { type: 'submit' }, t('camera.saveZones')),
  );
  zonesForm.onsubmit = async (ev) => {
    ev.preventDefault();
    const ids = [...zonesForm.querySelectorAll<HTMLInputElement>('input[name=zone]:checked')].map(
      (i) => i.value,
    );
    try {
      await ctx.api.setZones(cam.id, ids);
      msg.ok(t('common.saved'));
      refresh();
    } catch (err) {
      msg.fail(err);
    }
  };
  const refBox = h('div', { class: 'reference-box' });
  void reference(ctx, cam, refBox);
  const refBtn = h('button', { type: 'button' }, t('camera.reference'));
  refBtn.onclick = () =>
    void busy(refBtn, async () => {
      try {
        await ctx.api.setReference(cam.id);
        msg.ok(t('camera.referenceSet'));
        void reference(ctx, cam, refBox);
      } catch (err) {
        msg.fail(err);
      }
    });
  const delBtn = h('button', { type: 'button', class: 'danger' }, t('common.delete'));
  delBtn.onclick = async () => {
    if (!confirm(t('common.confirmDelete', { name: cam.name }))) return;
    try {
      await ctx.api.removeCamera(cam.id);
      refresh();
    } catch (err) {
      msg.fail(err);
    }
  };
  return h(
    'article',
    { class: 'card camera', dataset: { cameraId: cam.id, status: cam.status } },
    h(
      'div',
      { class: 'snap-wrap' },
      img,
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => void snapshot(ctx, cam.id, img) },
        t('common.refresh'),
      ),
    ),
    h(
      'div',
      { class: 'camera-body' },
      h(
        'h3',
        null,
        h('span', { class: 'name' }, cam.name),
        ' ',
        badge(statusText(cam.status), `st-${cam.status}`, { class: `badge st-${cam.status} status` }),
      ),
      healthLine(cam),
      refBox,
      zonesForm,
      h('div', { class: 'row' }, refBtn, delBtn),
      msg,
    ),
  );
}

function addCameraForm(ctx: PageContext, site: SiteDetail, refresh: () => void): HTMLElement {
  const msg = notice();
  const found = h('ul', { class: 'discovered', id: 'discovered' });
  const mode = { current: 'onvif' as 'onvif' | 'rtsp' };
  const onvifFields = h(
    'div',
    { class: 'mode onvif' },
    field('camera.host', h('input', { name: 'host', placeholder: '192.168.1.64' })),
    field('camera.port', h('input', { name: 'port', type: 'number', min: 1, max: 65535, value: '80' })),
    field('camera.username', h('input', { name: 'username', autocomplete: 'off', value: 'admin' })),
    field(
      'camera.password',
      h('input', { name: 'password', type: 'password', autocomplete: 'new-password' }),
    ),
  );
  const rtspFields = h(
    'div',
    { class: 'mode rtsp', hidden: true },
    field(
      'camera.rtspUrl',
      h('input', { name: 'rtspUrl', placeholder: 'rtsp://user:password@192.168.1.64:554/stream1' }),
    ),
  );
  const tabs = h(
    'div',
    { class: 'tabs', role: 'radiogroup' },
    ...(['onvif', 'rtsp'] as const).map((m) =>
      h(
        'label',
        null,
        h('input', {
          type: 'radio',
          name: 'mode',
          value: m,
          checked: m === 'onvif',
          onchange: () => {
            mode.current = m;
            onvifFields.hidden = m !== 'onvif';
            rtspFields.hidden = m !== 'rtsp';
          },
        }),
        t(m === 'onvif' ? 'camera.byOnvif' : 'camera.byRtsp'),
      ),
    ),
  );
  const zoneBoxes = h(
    'fieldset',
    null,
    h('legend', null, t('camera.zones')),
    ...site.zones.map((z) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'zone', value: z.id }), z.name),
    ),
  );
  const submit = h('button', { type: 'submit', class: 'primary' }, t('common.add'));
  const form = h(
    'form',
    { class: 'card form', id: 'camera-form' },
    h('h2', null, t('camera.add')),
    field('camera.name', h('input', { name: 'name', required: true, maxLength: 200 })),
    tabs,
    onvifFields,
    rtspFields,
    zoneBoxes,
    submit,
    msg,
  );
  const input = (name: string) => form.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
  const discoverBtn = h('button', { type: 'button', id: 'discover' }, t('camera.discover'));
  const discoverMsg = notice();
  discoverBtn.onclick = () =>
    void busy(discoverBtn, async () => {
      discoverMsg.ok(t('camera.discovering'));
      clear(found);
      try {
        const r = await ctx.api.discover(3000);
        discoverMsg.ok(
          r.items.length ? t('camera.discovered', { n: r.items.length }) : t('camera.noneFound'),
        );
        clear(found, ...r.items.map((d) => discoveredItem(d)));
      } catch (err) {
        discoverMsg.fail(err);
      }
    });
  const discoveredItem = (d: Discovered) => {
    const url = new URL(d.xaddr);
    return h(
      'li',
      null,
      h('strong', null, d.name ?? url.host),
      d.hardware ? ` · ${d.hardware}` : '',
      ` · ${url.host}`,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            input('host').value = url.hostname;
            input('port').value = url.port || '80';
            if (!input('name').value) input('name').value = d.name ?? url.host;
            input('password').focus();
          },
        },
        t('camera.use'),
      ),
    );
  };
  form.onsubmit = (ev) => {
    ev.preventDefault();
    void busy(submit, async () => {
      const name = input('name').value.trim();
      const body: CameraCreate =
        mode.current === 'onvif'
          ? {
              siteId: site.id,
              name,
              onvif: {
                host: input('host').value.trim(),
                port: Number(input('port').value) || 80,
                username: input('username').value,
                password: input('password').value,
              },
            }
          : { siteId: site.id, name, rtspUrl: input('rtspUrl').value.trim() };
      msg.ok(t('camera.adding'));
      try {
        const cam = await ctx.api.createCamera(body);
        const zoneIds = [...form.querySelectorAll<HTMLInputElement>('input[name=zone]:checked')].map(
          (i) => i.value,
        );
        if (zoneIds.length) await ctx.api.setZones(cam.id, zoneIds);
        msg.ok(t('camera.added', { name: cam.name }));
        form.reset();
        refresh();
      } catch (err) {
        msg.fail(err);
      }
    });
  };
  return h('div', { class: 'stack' }, h('div', { class: 'card' }, discoverBtn, discoverMsg, found), form);
}

export async function renderSite(ctx: PageContext, id: string): Promise<() => void> {
  let site = await ctx.api.site(id);
  const coverageEl = h('div', { class: 'zones', id: 'coverage' });
  const coverageHead = h('p', { class: 'coverage-head' });
  const camerasEl = h('div', { class: 'cameras', id: 'cameras' });
  const title = h('h1', null, site.name);
  let cameraKey = '';

  const renameInput = h('input', {
    name: 'siteName',
    value: site.name,
    maxLength: 200,
    'aria-label': t('common.rename'),
  });
  const renameMsg = notice();
  const renameForm = h(
    'form',
    { class: 'inline', hidden: true },
    renameInput,
    h('button', { type: 'submit' }, t('common.save')),
    renameMsg,
  );
  renameForm.onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await ctx.api.renameSite(site.id, renameInput.value.trim());
      renameForm.hidden = true;
      void refresh();
    } catch (err) {
      renameMsg.fail(err);
    }
  };
  const zoneInput = h('input', {
    name: 'zone',
    placeholder: t('site.newZone'),
    maxLength: 100,
    required: true,
  });
  const zoneMsg = notice();
  const zoneForm = h(
    'form',
    { class: 'inline', id: 'zone-form' },
    zoneInput,
    h('button', { type: 'submit' }, t('common.add')),
    zoneMsg,
  );
  zoneForm.onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await ctx.api.addZone(site.id, zoneInput.value.trim());
      zoneInput.value = '';
      zoneMsg.clear();
      void refresh();
    } catch (err) {
      zoneMsg.fail(err);
    }
  };

  const draw = () => {
    title.textContent = site.name;
    const uncovered = site.coverage.filter((c) => !c.covered).length;
    coverageHead.textContent =
      uncovered === 0 ? t('site.allCovered') : t('site.notAllCovered', { n: uncovered });
    coverageHead.className = `coverage-head ${uncovered === 0 ? 'good' : 'bad'}`;
    clear(
      coverageEl,
      ...site.zones.map((z) =>
        zoneCard(
          ctx,
          site,
          z,
          site.coverage.find((c) => c.zoneId === z.id),
          () => void refresh(),
        ),
      ),
    );
    // Camera cards are rebuilt only when cameras or their zones change, so forms keep their input.
    const key =
      JSON.stringify(site.cameras.map((c) => [c.id, c.zoneIds, c.name])) + JSON.stringify(site.zones);
    if (key !== cameraKey) {
      cameraKey = key;
      clear(
        camerasEl,
        site.cameras.length === 0 ? h('p', { class: 'empty' }, t('site.noCameras')) : null,
        ...site.cameras.map((c) => cameraCard(ctx, site, c, () => void refresh())),
      );
    } else {
      for (const c of site.cameras) {
        const card = camerasEl.querySelector<HTMLElement>(`[data-camera-id="${c.id}"]`);
        if (!card) continue;
        card.dataset.status = c.status;
        const st = card.querySelector('.status')!;
        st.textContent = statusText(c.status);
        st.className = `badge st-${c.status} status`;
        card.querySelector('.facts')!.replaceWith(healthLine(c));
      }
    }
  };
  const refresh = async () => {
    site = await ctx.api.site(id);
    draw();
  };
  draw();
  clear(
    ctx.main,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('a', { href: '#/sites', class: 'back' }, t('sites.title')), title),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', onclick: () => (renameForm.hidden = !renameForm.hidden) },
          t('common.rename'),
        ),
        renameForm,
      ),
    ),
    h('section', { class: 'card' }, h('h2', null, t('site.coverage')), coverageHead, coverageEl, zoneForm),
    h(
      'div',
      { class: 'two-col' },
      h('section', null, h('h2', null, t('site.cameras')), camerasEl),
      addCameraForm(ctx, site, () => void refresh()),
    ),
  );
  const timer = window.setInterval(() => void refresh().catch(() => undefined), 2000);
  return () => clearInterval(timer);
}

/** The unit's batches with their sessions and each session's readiness. */
export async function renderBatches(ctx: PageContext): Promise<void> {
  const [batches, sites, units] = await Promise.all([ctx.api.batches(), ctx.api.sites(), writableUnits(ctx)]);
  const details = await Promise.all(batches.items.map((b) => ctx.api.batch(b.id)));
  const siteName = new Map(sites.items.map((s) => [s.id, s.name]));
  const msg = notice();
  const start = new Date(Date.now() + 86_400_000);
  start.setUTCMinutes(0, 0, 0);
  const form = h(
    'form',
    { class: 'card form', id: 'batch-form' },
    h('h2', null, t('batches.create')),
    field('batches.code', h('input', { name: 'code', required: true, maxLength: 64 })),
    ctx.user.role === 'admin'
      ? field(
          'batches.unit',
          select(
            'unitId',
            units.map((u) => [u.id, u.name]),
          ),
        )
      : h('input', { type: 'hidden', name: 'unitId', value: ctx.user.unitId ?? '' }),
    field(
      'batches.occupation',
      h('input', { name: 'occupationCode', required: true, placeholder: '6-31-01-03' }),
    ),
    field(
      'batches.level',
      select(
        'level',
        [1, 2, 3, 4, 5].map((l) => [String(l), t(`level.${l as 1 | 2 | 3 | 4 | 5}`)]),
        '4',
      ),
    ),
    field(
      'batches.site',
      select(
        'siteId',
        sites.items.map((s) => [s.id, s.name]),
      ),
    ),
    field(
      'batches.startsAt',
      h('input', { name: 'startsAt', type: 'datetime-local', required: true, value: isoToZoned(start) }),
    ),
    field(
      'batches.endsAt',
      h('input', {
        name: 'endsAt',
        type: 'datetime-local',
        required: true,
        value: isoToZoned(new Date(start.getTime() + 2 * 3600_000)),
      }),
    ),
    h('button', { type: 'submit', class: 'primary' }, t('common.create')),
    msg,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    try {
      const b = await ctx.api.createBatch({
        code: String(d.get('code')).trim(),
        unitId: String(d.get('unitId')),
        occupationCode: String(d.get('occupationCode')).trim(),
        level: Number(d.get('level')),
        sessions: [
          {
            siteId: String(d.get('siteId')),
            startsAt: zonedToIso(String(d.get('startsAt'))),
            endsAt: zonedToIso(String(d.get('endsAt'))),
          },
        ],
      });
      msg.ok(t('batches.created', { code: b.code }));
      void renderBatches(ctx);
    } catch (err) {
      msg.fail(err);
    }
  };
  const readiness = (b: (typeof details)[number], sessionId: string) => {
    const r = b.readiness && b.readiness.sessionId === sessionId ? b.readiness : null;
    if (!r) return h('span', { class: 'muted' }, t('batches.notChecked'));
    return h(
      'div',
      { class: 'readiness' },
      badge(r.ready ? t('batches.ready') : t('batches.notReady'), r.ready ? 'good' : 'bad'),
      ' ',
      h('span', { class: 'muted' }, t('batches.checkedAt', { time: fmtDateTime(r.checkedAt) })),
      r.problems.length ? h('ul', { class: 'problems' }, ...r.problems.map((p) => h('li', null, p))) : null,
    );
  };
  const rows = details.flatMap((b) =>
    b.sessions.map((s, i) => [
      i === 0 ? h('strong', null, b.code) : '',
      i === 0 ? tOr(`batchStatus.${b.status}`, b.status) : '',
      siteName.get(s.siteId) ?? s.siteId,
      fmtDateTime(s.startsAt),
      fmtDateTime(s.endsAt),
      b.supervisors
        .filter((x) => x.sessionIds.includes(s.id))
        .map((x) => x.username)
        .join(t('common.listSep')) || '—',
      readiness(b, s.id),
    ]),
  );
  clear(
    ctx.main,
    pageHeader('batches.title'),
    h(
      'div',
      { class: 'two-col wide-left' },
      details.length === 0
        ? h('p', { class: 'empty' }, t('batches.empty'))
        : table(
            [
              'batches.code',
              'batches.status',
              'batches.site',
              'batches.startsAt',
              'batches.endsAt',
              'batches.supervisors',
              'batches.readiness',
            ],
            rows,
            { id: 'batches' },
          ),
      form,
    ),
  );
}
