import Hls from 'hls.js/light';
import type { Api, BatchRecordings, Report, Unit } from '../api.js';
import { clear, h } from '../dom.js';
import { fmtBytes, fmtDate, fmtDateTime, fmtTime, t, tOr, zonedDate } from '../i18n.js';
import { Router } from '../router.js';
import { badge, busy, notice, pageHeader, table, type PageContext } from '../ui.js';

const GAP_REASONS = [
  'offline',
  'stalled',
  'restarting',
  'stopped',
  'crash',
  'storage_full',
  'corrupt',
  'interrupted',
  'unexplained',
];
const gapText = (r: string) => tOr(`gap.${r}`, r);

/** Batches by code, unit and date. */
export async function renderReview(ctx: PageContext, query: URLSearchParams): Promise<void> {
  const [batches, units] = await Promise.all([ctx.api.batches(), ctx.api.units()]);
  const unitName = new Map(units.items.map((u: Unit) => [u.id, u.name]));
  const code = query.get('code') ?? '';
  const unit = query.get('unit') ?? '';
  const date = query.get('date') ?? '';
  const form = h(
    'form',
    { class: 'filters', id: 'batch-filter' },
    h('label', null, t('audit.code'), ' ', h('input', { name: 'code', value: code, type: 'search' })),
    h(
      'label',
      null,
      t('audit.unit'),
      ' ',
      h(
        'select',
        { name: 'unit' },
        h('option', { value: '' }, t('common.all')),
        ...units.items.map((u) => h('option', { value: u.id, selected: u.id === unit }, u.name)),
      ),
    ),
    h('label', null, t('audit.date'), ' ', h('input', { name: 'date', type: 'date', value: date })),
    h('button', { type: 'submit', class: 'primary' }, t('common.search')),
  );
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const q = new URLSearchParams();
    for (const k of ['code', 'unit', 'date']) {
      const v = String(d.get(k) ?? '').trim();
      if (v) q.set(k, v);
    }
    Router.go(`/review${[...q].length ? `?${q}` : ''}`);
  };
  const found = batches.items.filter(
    (b) =>
      (!code || b.code.toLowerCase().includes(code.toLowerCase())) &&
      (!unit || b.unitId === unit) &&
      (!date || b.sessions.some((s) => zonedDate(s.startsAt) <= date && zonedDate(s.endsAt) >= date)),
  );
  clear(
    ctx.main,
    pageHeader('audit.find'),
    form,
    found.length === 0
      ? h('p', { class: 'empty' }, t('audit.noMatch'))
      : table(
          [
            'batches.code',
            'batches.unit',
            'batches.occupation',
            'batches.level',
            'batches.status',
            'batches.sessions',
          ],
          found.map((b) => [
            h('a', { href: `#/review/${b.id}`, class: 'batch-link' }, b.code),
            unitName.get(b.unitId) ?? '',
            b.occupationCode,
            t(`level.${b.level as 1 | 2 | 3 | 4 | 5}`),
            tOr(`batchStatus.${b.status}`, b.status),
            b.sessions
              .map((s) => `${fmtDateTime(s.startsAt)}–${fmtTime(s.endsAt)}`)
              .join(t('common.groupSep')),
          ]),
          { id: 'batches' },
        ),
  );
}

/** Recorded footage with hls.js; `at` is a wall-clock instant mapped through the playlist's dates. */
class Playback {
  private hls: Hls | null = null;
  readonly video = h('video', { controls: true, muted: true, playsInline: true, id: 'playback' });
  readonly caption = h('p', { class: 'caption', id: 'playback-caption' });

  constructor(private readonly api: Api) {}

  play(cameraId: string, cameraName: string, from: string, to: string, at: Date): void {
    this.stop();
    const hls = new Hls({
      xhrSetup: (xhr) => {
        if (this.api.token) xhr.setRequestHeader('authorization', `Bearer ${this.api.token}`);
      },
    });
    this.hls = hls;
    this.caption.textContent = t('audit.playing', { camera: cameraName, time: fmtDateTime(at) });
    this.video.dataset.cameraId = cameraId;
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
      const frags = data.details.fragments;
      const frag =
        frags.find(
          (f) => f.programDateTime !== null && f.programDateTime + f.duration * 1000 > at.getTime(),
        ) ?? frags[0];
      const offset = frag?.programDateTime ? Math.max(0, (at.getTime() - frag.programDateTime) / 1000) : 0;
      this.video.currentTime = (frag?.start ?? 0) + Math.min(offset, frag?.duration ?? 0);
      void this.video.play().catch(() => undefined);
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      this.caption.textContent = t('audit.playFailed', { message: data.details });
      this.video.dataset.error = data.details;
    });
    hls.loadSource(this.api.url('/api/v1/cameras/{id}/playback.m3u8', { id: cameraId }, { from, to }));
    hls.attachMedia(this.video);
  }

  /** The wall-clock time being shown. */
  playingDate(): Date | null {
    return this.hls?.playingDate ?? null;
  }

  stop(): void {
    this.hls?.destroy();
    this.hls = null;
  }
}

function timeline(
  recs: BatchRecordings,
  report: Report,
  onPick: (cameraId: string, name: string, from: string, to: string, at: Date) => void,
): HTMLElement {
  const out = h('div', { class: 'timelines', id: 'timeline' });
  for (const [i, span] of recs.sessions.entries()) {
    const from = new Date(span.from).getTime();
    const to = new Date(span.to).getTime();
    const pct = (ms: number) =>
      `${(((Math.min(Math.max(ms, from), to) - from) / (to - from)) * 100).toFixed(3)}%`;
    const width = (a: number, b: number) =>
      `${(((Math.min(b, to) - Math.max(a, from)) / (to - from)) * 100).toFixed(3)}%`;
    const rep = report.sessions.find((s) => s.sessionId === span.sessionId);
    const cams = recs.cameras.filter((c) => c.sessionId === span.sessionId);
    const zones = rep?.zones ?? [];
    const rows: HTMLElement[] = [];
    const bar = (cam: (typeof cams)[number]) => {
      const el = h(
        'div',
        {
          class: 'bar',
          role: 'button',
          tabIndex: 0,
          title: t('audit.timelineHint'),
          dataset: { cameraId: cam.cameraId },
        },
        ...cam.segments.map((s) =>
          h('span', {
            class: 'seg',
            style: {
              left: pct(new Date(s.startedAt).getTime()),
              width: width(new Date(s.startedAt).getTime(), new Date(s.endedAt).getTime()),
            },
          }),
        ),
        ...cam.gaps.map((g) =>
          h('span', {
            class: `gap gap-${g.reason}`,
            dataset: { reason: g.reason },
            title: `${gapText(g.reason)} ${fmtTime(g.from)}–${fmtTime(g.to)}${g.detail ? ` · ${g.detail}` : ''}`,
            style: {
              left: pct(new Date(g.from).getTime()),
              width: width(new Date(g.from).getTime(), new Date(g.to).getTime()),
            },
          }),
        ),
      );
      el.onclick = (ev) => {
        const r = el.getBoundingClientRect();
        const at = new Date(from + ((ev.clientX - r.left) / r.width) * (to - from));
        onPick(cam.cameraId, cam.name, span.from, span.to, at);
      };
      return el;
    };
    for (const z of zones) {
      const zoneCams = cams.filter((c) => c.zoneIds.includes(z.zoneId));
      rows.push(
        h(
          'div',
          { class: 'tl-zone', dataset: { zoneId: z.zoneId } },
          h(
            'div',
            { class: 'tl-label' },
            h('strong', null, z.name),
            h('span', { class: 'muted' }, `${t('audit.coverage')} ${(z.coverage * 100).toFixed(1)}%`),
            z.gaps.length ? h('span', { class: 'muted' }, t('audit.gapCount', { n: z.gaps.length })) : null,
          ),
          h(
            'div',
            { class: 'tl-cams' },
            zoneCams.length === 0
              ? h(
                  'div',
                  { class: 'bar none' },
                  h('span', { class: 'gap gap-unexplained', style: { left: '0', width: '100%' } }),
                )
              : zoneCams.map((c) =>
                  h('div', { class: 'tl-cam' }, h('span', { class: 'cam-name' }, c.name), bar(c)),
                ),
          ),
        ),
      );
    }
    const unzoned = cams.filter((c) => !zones.some((z) => c.zoneIds.includes(z.zoneId)));
    for (const c of unzoned)
      rows.push(
        h(
          'div',
          { class: 'tl-zone' },
          h('div', { class: 'tl-label' }, h('strong', null, c.name)),
          h('div', { class: 'tl-cams' }, h('div', { class: 'tl-cam' }, bar(c))),
        ),
      );
    const ticks = h(
      'div',
      { class: 'ticks' },
      ...[0, 0.25, 0.5, 0.75, 1].map((f) =>
        h('span', { style: { left: `${f * 100}%` } }, fmtTime(new Date(from + f * (to - from)))),
      ),
    );
    out.append(
      h(
        'section',
        { class: 'card session-tl', dataset: { sessionId: span.sessionId } },
        h(
          'h3',
          null,
          t('batches.session', { n: i + 1 }),
          ' · ',
          rep?.siteName ?? '',
          ' · ',
          `${fmtDateTime(span.from)} – ${fmtTime(span.to)}`,
        ),
        cams.length === 0 ? h('p', { class: 'empty' }, t('audit.noFootage')) : null,
        ...rows,
        ticks,
      ),
    );
  }
  out.append(
    h(
      'div',
      { class: 'legend' },
      h('span', null, h('i', { class: 'seg' }), t('audit.recorded')),
      ...GAP_REASONS.map((r) => h('span', null, h('i', { class: `gap gap-${r}` }), gapText(r))),
    ),
  );
  return out;
}

/** Download with the token: fetched as a blob, then saved through a temporary link. */
async function download(api: Api, url: string, fallbackName: string): Promise<void> {
  const res = await api.fetch('get', url);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = h('a', { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

export async function renderReviewBatch(ctx: PageContext, id: string): Promise<() => void> {
  const [batch, recs, report] = await Promise.all([
    ctx.api.batch(id),
    ctx.api.recordings(id),
    ctx.api.report(id),
  ]);
  const player = new Playback(ctx.api);
  const verifyBtn = h('button', { type: 'button', id: 'verify' }, t('audit.verify'));
  const verifyOut = h('div', { id: 'verify-result', class: 'result' });
  verifyBtn.onclick = () =>
    void busy(verifyBtn, async () => {
      verifyOut.textContent = t('audit.verifying');
      delete verifyOut.dataset.ok;
      try {
        const v = await ctx.api.verify(id);
        verifyOut.dataset.ok = String(v.ok);
        clear(
          verifyOut,
          badge(
            v.ok
              ? t('audit.verifyOk', { n: v.checkedSegments })
              : t('audit.verifyBad', { problems: v.problems.length, n: v.checkedSegments }),
            v.ok ? 'good' : 'bad',
          ),
          v.problems.length
            ? h(
                'ul',
                null,
                ...v.problems.map((p) =>
                  h('li', null, `${tOr(`audit.problem.${p.kind}`, p.kind)} · ${p.detail}`),
                ),
              )
            : null,
        );
      } catch (err) {
        const n = notice();
        n.fail(err);
        clear(verifyOut, n);
      }
    });

  const exportBtn = h('button', { type: 'button', id: 'export' }, t('audit.export'));
  const exportOut = h('div', { id: 'export-status', class: 'result' });
  const progress = h('progress', { max: 1, value: 0 });
  let poll = 0;
  exportBtn.onclick = () =>
    void busy(exportBtn, async () => {
      try {
        const { exportId } = await ctx.api.requestExport(id);
        exportOut.dataset.status = 'queued';
        clear(exportOut, progress, h('span', { class: 'pct' }, t('audit.exporting', { percent: 0 })));
        await new Promise<void>((resolve) => {
          const step = async () => {
            try {
              const e = await ctx.api.exportStatus(exportId);
              exportOut.dataset.status = e.status;
              progress.value = e.progress;
              if (e.status === 'done' && e.downloadUrl) {
                const url = e.downloadUrl;
                const link = h(
                  'a',
                  { href: '#', id: 'download', class: 'button primary' },
                  t('audit.download'),
                );
                link.onclick = (ev) => {
                  ev.preventDefault();
                  void download(ctx.api, url, `${batch.code}.tar`);
                };
                clear(
                  exportOut,
                  badge(t('audit.exportDone', { size: fmtBytes(e.bytes ?? 0) }), 'good'),
                  ' ',
                  link,
                );
                return resolve();
              }
              if (e.status === 'failed') {
                clear(exportOut, badge(t('audit.exportFailed', { message: e.error ?? '' }), 'bad'));
                return resolve();
              }
              exportOut.querySelector('.pct')!.textContent = t('audit.exporting', {
                percent: Math.round(e.progress * 100),
              });
            } catch {
              // Try again on the next tick.
            }
            poll = window.setTimeout(() => void step(), 1000);
          };
          void step();
        });
      } catch (err) {
        const n = notice();
        n.fail(err);
        clear(exportOut, n);
      }
    });

  const reportBtn = h('button', { type: 'button', id: 'report' }, t('audit.report'));
  reportBtn.onclick = () =>
    void busy(reportBtn, async () => {
      const win = window.open('', '_blank');
      const res = await ctx.api.fetch('get', `/api/v1/batches/${id}/report?format=html`);
      const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }));
      if (win) win.location.href = url;
      else location.href = url;
    });

  const unit = report.batch.unitName;
  clear(
    ctx.main,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('a', { href: '#/review', class: 'back' }, t('audit.find')), h('h1', null, batch.code)),
      h('div', { class: 'actions' }, verifyBtn, exportBtn, reportBtn),
    ),
    h(
      'p',
      { class: 'batch-facts' },
      `${unit} · ${batch.occupationCode} · ${t(`level.${batch.level as 1 | 2 | 3 | 4 | 5}`)} · ${tOr(`batchStatus.${batch.status}`, batch.status)} · ${fmtDate(batch.sessions[0]?.startsAt ?? batch.createdAt)}`,
    ),
    h('div', { class: 'row results' }, verifyOut, exportOut),
    h(
      'div',
      { class: 'review' },
      h(
        'section',
        null,
        h('h2', null, t('audit.timeline')),
        h('p', { class: 'muted' }, t('audit.timelineHint')),
        timeline(recs, report, (cam, name, from, to, at) => player.play(cam, name, from, to, at)),
      ),
      h('section', { class: 'player card' }, player.video, player.caption),
    ),
  );
  return () => {
    clearTimeout(poll);
    player.stop();
  };
}
