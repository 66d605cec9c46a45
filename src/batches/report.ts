import { FAULT_KINDS } from '../ingest/camera-state.js';
import type { SessionFootage } from './footage.js';
import { bridge } from './footage.js';
import { clip, intersect, measure, overlaps, subtract, union, type Span } from './spans.js';
import type { BatchContext } from './context.js';

/** Gap reasons that are picture faults rather than missing signal. */
export const PICTURE_FAULTS = new Set<string>(FAULT_KINDS.filter((k) => k !== 'offline' && k !== 'stalled'));

export interface GapReason {
  cameraId: string | null;
  reason: string;
  detail: string | null;
  from: string;
  to: string;
}

export interface ZoneReport {
  zoneId: string;
  name: string;
  totalSeconds: number;
  coveredSeconds: number;
  /** Covered share of the session so far, 0..1. */
  coverage: number;
  cameraIds: string[];
  gaps: { from: string; to: string; seconds: number; reasons: GapReason[] }[];
}

export interface SessionReport {
  sessionId: string;
  siteId: string;
  siteName: string;
  startsAt: string;
  endsAt: string;
  /** Up to when the session was evaluated (its end, or now while it runs). */
  evaluatedUntil: string;
  zones: ZoneReport[];
  incidents: GapReason[];
  pictureFaults: GapReason[];
  supervisors: {
    userId: string;
    username: string;
    kind: string | null;
    opinion: { text: string; score: number; filedAt: string } | null;
  }[];
}

export interface BatchReport {
  batch: BatchContext['batch'];
  generatedAt: string;
  sessions: SessionReport[];
}

export interface ReportInputs {
  ctx: BatchContext;
  footage: SessionFootage[];
  zones: Map<string, { name: string; siteId: string }>;
  siteNames: Map<string, string>;
  supervisors: Map<string, { username: string; kind: string | null }>;
  opinions: Map<string, { text: string; score: number; filedAt: Date }>;
  now: Date;
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * The completeness report: per session and zone, the seconds on record from a camera assigned to
 * that zone at that time, and every gap with the reasons recorded for it.
 */
export function buildReport(input: ReportInputs): BatchReport {
  const sessions = input.footage.map((f, i): SessionReport => {
    const s = input.ctx.sessions[i]!;
    const session: Span = { from: s.startsAt.getTime(), to: s.endsAt.getTime() };
    const evaluated: Span = {
      from: session.from,
      to: Math.max(session.from, Math.min(session.to, input.now.getTime())),
    };
    const zoneIds = s.zoneIds?.length
      ? s.zoneIds
      : [...input.zones.entries()].filter(([, z]) => z.siteId === s.siteId).map(([id]) => id);
    const zones = zoneIds.map((zoneId): ZoneReport => {
      const perCamera = f.cameras.map((cam) => {
        const assigned = union(
          cam.assignments
            .filter((a) => a.zoneId === zoneId)
            .map((a) => ({ from: a.from.getTime(), to: a.to?.getTime() ?? Infinity })),
        );
        const footage = bridge(
          cam.segments.map((x) => ({ from: x.startedAt.getTime(), to: x.endedAt.getTime() })),
        );
        return { cam, assigned, covered: clip(intersect(footage, assigned), evaluated) };
      });
      const covered = union(perCamera.flatMap((c) => c.covered));
      const gaps = subtract(evaluated, covered).map((g) => {
        const reasons: GapReason[] = [];
        const withCamera = union(perCamera.flatMap((c) => clip(c.assigned, g)));
        for (const hole of subtract(g, withCamera))
          reasons.push({
            cameraId: null,
            reason: 'no_camera',
            detail: 'no camera was assigned to the zone',
            from: iso(hole.from),
            to: iso(hole.to),
          });
        for (const c of perCamera) {
          for (const part of clip(c.assigned, g)) {
            for (const gap of c.cam.gaps) {
              const cut = clip([{ from: gap.from.getTime(), to: gap.to.getTime() }], part)[0];
              if (cut)
                reasons.push({
                  cameraId: c.cam.cameraId,
                  reason: gap.reason,
                  detail: gap.detail,
                  from: iso(cut.from),
                  to: iso(cut.to),
                });
            }
          }
        }
        reasons.sort((a, b) => a.from.localeCompare(b.from));
        return { from: iso(g.from), to: iso(g.to), seconds: seconds(g.to - g.from), reasons };
      });
      const coveredMs = measure(covered);
      const elapsed = evaluated.to - evaluated.from;
      return {
        zoneId,
        name: input.zones.get(zoneId)?.name ?? zoneId,
        totalSeconds: seconds(session.to - session.from),
        coveredSeconds: seconds(coveredMs),
        coverage: elapsed > 0 ? Math.round((coveredMs / elapsed) * 10_000) / 10_000 : 0,
        cameraIds: perCamera
          .filter((c) => c.assigned.some((a) => overlaps(a, session)))
          .map((c) => c.cam.cameraId),
        gaps,
      };
    });
    const incidents: GapReason[] = f.cameras
      .flatMap((cam) =>
        cam.gaps
          .filter((g) => g.reason !== 'unexplained')
          .flatMap((g) =>
            clip([{ from: g.from.getTime(), to: g.to.getTime() }], session).map((c) => ({
              cameraId: cam.cameraId,
              reason: g.reason,
              detail: g.detail,
              from: iso(c.from),
              to: iso(c.to),
            })),
          ),
      )
      .sort((a, b) => a.from.localeCompare(b.from));
    return {
      sessionId: s.sessionId,
      siteId: s.siteId,
      siteName: input.siteNames.get(s.siteId) ?? s.siteId,
      startsAt: s.startsAt.toISOString(),
      endsAt: s.endsAt.toISOString(),
      evaluatedUntil: iso(evaluated.to),
      zones,
      incidents,
      pictureFaults: incidents.filter((x) => PICTURE_FAULTS.has(x.reason)),
      supervisors: s.supervisorIds.map((userId) => {
        const u = input.supervisors.get(userId);
        const o = input.opinions.get(`${s.sessionId}:${userId}`);
        return {
          userId,
          username: u?.username ?? userId,
          kind: u?.kind ?? null,
          opinion: o ? { text: o.text, score: o.score, filedAt: o.filedAt.toISOString() } : null,
        };
      }),
    };
  });
  return { batch: input.ctx.batch, generatedAt: input.now.toISOString(), sessions };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A self-contained printable page of the report; every value is escaped. */
export function reportHtml(r: BatchReport): string {
  const e = escapeHtml;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const sessions = r.sessions
    .map((s) => {
      const zones = s.zones
        .map(
          (z) =>
            `<tr><td>${e(z.name)}</td><td>${e(z.coveredSeconds)}</td><td>${e(z.totalSeconds)}</td><td>${pct(z.coverage)}</td><td>${
              z.gaps.length === 0
                ? '—'
                : `<ul>${z.gaps
                    .map(
                      (g) =>
                        `<li>${e(g.from)} – ${e(g.to)} (${e(g.seconds)} s): ${
                          g.reasons
                            .map(
                              (x) =>
                                `${e(x.reason)}${x.cameraId ? ` [${e(x.cameraId)}]` : ''}${x.detail ? ` — ${e(x.detail)}` : ''}`,
                            )
                            .join('; ') || 'unexplained'
                        }</li>`,
                    )
                    .join('')}</ul>`
            }</td></tr>`,
        )
        .join('');
      const faults = s.pictureFaults.length
        ? `<ul>${s.pictureFaults.map((f) => `<li>${e(f.from)} – ${e(f.to)} ${e(f.reason)} [${e(f.cameraId)}] ${e(f.detail)}</li>`).join('')}</ul>`
        : '<p>None recorded.</p>';
      const sups = s.supervisors.length
        ? `<ul>${s.supervisors
            .map(
              (x) =>
                `<li>${e(x.username)} (${e(x.kind ?? 'supervisor')}): ${
                  x.opinion
                    ? `score ${e(x.opinion.score)} — ${e(x.opinion.text)} (${e(x.opinion.filedAt)})`
                    : 'no opinion filed'
                }</li>`,
            )
            .join('')}</ul>`
        : '<p>No supervisor assigned.</p>';
      return `<section><h2>Session ${e(s.startsAt)} – ${e(s.endsAt)}, ${e(s.siteName)}</h2>
<table><thead><tr><th>Zone</th><th>Covered s</th><th>Total s</th><th>Coverage</th><th>Gaps and reasons</th></tr></thead><tbody>${zones}</tbody></table>
<h3>Picture faults</h3>${faults}<h3>Supervisors and opinions</h3>${sups}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Batch ${e(r.batch.code)} completeness report</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}@media print{section{page-break-inside:avoid}}</style>
</head><body>
<h1>Completeness report — batch ${e(r.batch.code)}</h1>
<p>Unit: ${e(r.batch.unitName)} · Occupation ${e(r.batch.occupationCode)} · Level ${e(r.batch.level)} · Status ${e(r.batch.status)}${
    r.batch.statusReason ? ` (${e(r.batch.statusReason)})` : ''
  }</p>
<p>Generated ${e(r.generatedAt)}</p>
${sessions}
</body></html>
`;
}
