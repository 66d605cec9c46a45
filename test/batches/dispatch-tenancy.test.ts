import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSupervisors } from '../../src/batches/dispatch.js';
import { makeUser } from '../api/fixtures.js';
import {
  makeCreditCode,
  seedUnit,
  startTestService,
  type ApiClient,
  type TestService,
} from '../support/service.js';

const hour = 3600_000;

describe('supervisor dispatch, opinions, spot checks and tenancy', () => {
  let svc: TestService;
  let admin: ApiClient;
  let own: Awaited<ReturnType<typeof seedUnit>>;
  let other: Awaited<ReturnType<typeof seedUnit>>;
  let batch: any;
  const base = Date.now() + 48 * hour;
  const iso = (ms: number) => new Date(ms).toISOString();
  const sups: Record<string, { id: string; client: ApiClient }> = {};

  beforeAll(async () => {
    svc = await startTestService({ ROLES: 'api', PROBE_ON_REGISTER: 'false' });
    admin = await svc.admin();
    own = await seedUnit(svc, 'Own unit');
    other = await seedUnit(svc, 'Other unit');
    const sup = async (name: string, kind: 'internal' | 'external', unitId?: string) => {
      const username = `${name}_${Math.random().toString(36).slice(2, 8)}`;
      const r = await admin.post('/users', {
        username,
        password: 'supervisor-pass',
        role: 'supervisor',
        supervisorKind: kind,
        ...(unitId ? { unitId } : {}),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      sups[name] = { id: r.body.id, client: await svc.api.login(username, 'supervisor-pass') };
    };
    await sup('ext1', 'external');
    await sup('ext2', 'external');
    await sup('int_other1', 'internal', other.unit.id);
    await sup('int_other2', 'internal', other.unit.id);
    await sup('int_own', 'internal', own.unit.id);
    // Sessions 1 and 2 overlap; session 3 is the next day.
    batch = (
      await own.operator.post('/batches', {
        code: 'PJ-D-1',
        unitId: own.unit.id,
        occupationCode: '4-01-02-03',
        level: 4,
        sessions: [
          { siteId: own.site.id, startsAt: iso(base), endsAt: iso(base + 2 * hour) },
          { siteId: own.site.id, startsAt: iso(base + hour), endsAt: iso(base + 3 * hour) },
          { siteId: own.site.id, startsAt: iso(base + 24 * hour), endsAt: iso(base + 26 * hour) },
        ],
      })
    ).body;
  });
  afterAll(async () => svc?.stop());

  it('draws conflict-free supervisors outside the unit, one external per session, reproducibly', async () => {
    const r = await admin.post(`/batches/${batch.id}/dispatch`, { seed: 'fair-seed-1', perSession: 2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const picked = r.body.sessions.map((s: any) => s.supervisors.map((x: any) => x.id));
    for (const s of r.body.sessions) {
      expect(s.supervisors).toHaveLength(2);
      expect(s.supervisors.filter((x: any) => x.kind === 'external')).not.toHaveLength(0);
      expect(s.supervisors.map((x: any) => x.id)).not.toContain(sups.int_own!.id);
    }
    // Overlapping sessions 1 and 2 share nobody.
    expect(picked[0].filter((id: string) => picked[1].includes(id))).toEqual([]);

    const again = await admin.post(`/batches/${batch.id}/dispatch`, { seed: 'fair-seed-1', perSession: 2 });
    expect(again.body.sessions.map((s: any) => s.supervisors.map((x: any) => x.id))).toEqual(picked);
    const draws = await admin.get(`/batches/${batch.id}/draws`);
    expect(draws.body.items).toHaveLength(2);
    expect(draws.body.items.every((d: any) => d.replayMatches && d.seed === 'fair-seed-1')).toBe(true);
    const audit = await admin.get(`/audit?subject=${batch.id}`);
    const actions = audit.body.items.map((i: any) => i.action);
    expect(actions).toContain('batch.dispatch');
    expect(actions).toContain('batch.redispatch');
    expect((await own.operator.post(`/batches/${batch.id}/dispatch`, {})).status).toBe(403);

    const detail = await admin.get(`/batches/${batch.id}`);
    expect(detail.body.supervisors.map((s: any) => s.id).sort()).toEqual([...new Set(picked.flat())].sort());
  });

  it('spreads load: with as many free supervisors as sessions, each gets one', () => {
    const sessions = [0, 1, 2, 3].map((i) => ({
      id: `s${i}`,
      from: i * 10 * hour,
      to: i * 10 * hour + hour,
    }));
    const pool = ['a', 'b', 'c', 'd'].map((id) => ({ id, kind: 'internal' as const, load: 0, busy: [] }));
    for (const seed of ['x', 'y', 'z']) {
      const d = drawSupervisors(seed, { sessions, pool }, 1);
      expect(new Set(d.map((s) => s.supervisors[0]!.id)).size).toBe(4);
      expect(drawSupervisors(seed, { sessions, pool }, 1)).toEqual(d);
    }
    const busy = drawSupervisors(
      'x',
      { sessions: sessions.slice(0, 1), pool: [{ ...pool[0]!, busy: [{ from: 0, to: 1 }] }] },
      1,
    );
    expect(busy[0]).toMatchObject({ supervisors: [], shortfall: 1 });
  });

  it('lets only an assigned supervisor file an opinion, and shows it in the report', async () => {
    const detail = (await admin.get(`/batches/${batch.id}`)).body;
    const session = detail.sessions[0];
    const assigned = Object.values(sups).find((s) => session.supervisorIds.includes(s.id))!;
    const outsider = Object.values(sups).find((s) => !detail.supervisors.some((x: any) => x.id === s.id));
    const filed = await assigned.client.post(`/batches/${batch.id}/opinions`, {
      sessionId: session.id,
      text: '考场秩序良好 <ok>',
      score: 92,
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    if (outsider) {
      const r = await outsider.client.post(`/batches/${batch.id}/opinions`, {
        sessionId: session.id,
        text: 'x',
        score: 1,
      });
      expect(r.status).toBe(404);
    }
    const report = await admin.get(`/batches/${batch.id}/report`);
    const sup = report.body.sessions[0].supervisors.find((s: any) => s.userId === assigned.id);
    expect(sup.opinion).toMatchObject({ text: '考场秩序良好 <ok>', score: 92 });
    const bad = await assigned.client.post(`/batches/${batch.id}/opinions`, {
      sessionId: session.id,
      text: 'x',
      score: 101,
    });
    expect(bad.status).toBe(400);
  });

  it('keeps batches to their unit and their assigned supervisors', async () => {
    const mine = await own.operator.get(`/batches/${batch.id}`);
    expect(mine.status).toBe(200);
    for (const p of ['', '/recordings', '/report'])
      expect((await other.operator.get(`/batches/${batch.id}${p}`)).status).toBe(404);
    expect((await other.operator.post(`/batches/${batch.id}/verify`)).status).toBe(404);
    expect((await other.operator.post(`/batches/${batch.id}/exports`)).status).toBe(404);
    const list = await other.operator.get('/batches');
    expect(list.body.items.map((b: any) => b.id)).not.toContain(batch.id);

    const detail = (await admin.get(`/batches/${batch.id}`)).body;
    const assigned = Object.values(sups).find((s) => detail.supervisors.some((x: any) => x.id === s.id))!;
    expect((await assigned.client.get(`/batches/${batch.id}`)).status).toBe(200);
    const unassigned = Object.values(sups).find((s) => !detail.supervisors.some((x: any) => x.id === s.id));
    if (unassigned) expect((await unassigned.client.get(`/batches/${batch.id}`)).status).toBe(404);
    expect((await assigned.client.post(`/batches/${batch.id}/exports`)).status).toBe(403);
  });

  it("keeps a confidential unit's footage from platform roles", async () => {
    const unit = (
      await admin.post('/units', {
        name: 'Classified works',
        creditCode: makeCreditCode(),
        kind: 'employer',
        confidential: true,
      })
    ).body;
    const site = (
      await admin.post('/sites', { unitId: unit.id, name: 'Secure hall', zones: [{ name: 'Z' }] })
    ).body;
    const op = await makeUser(svc, 'unit_operator', unit.id);
    const auditor = await makeUser(svc, 'auditor');
    const b = (
      await op.client.post('/batches', {
        code: 'PJ-C-1',
        unitId: unit.id,
        occupationCode: '6-18-01-01',
        level: 5,
        sessions: [{ siteId: site.id, startsAt: iso(Date.now() - 2 * hour), endsAt: iso(Date.now() - hour) }],
      })
    ).body;
    expect((await admin.post(`/batches/${b.id}/exports`)).status).toBe(403);
    expect((await auditor.client.post(`/batches/${b.id}/exports`)).status).toBe(403);
    expect((await auditor.client.get(`/batches/${b.id}/report`)).status).toBe(200);
    expect((await op.client.post(`/batches/${b.id}/exports`)).status).toBe(202);
  });

  it('draws spot checks with a recorded seed that replays to the same picks', async () => {
    const auditor = await makeUser(svc, 'auditor');
    const body = { count: 1, seed: 'spot-2026-q4', spanMinutes: 5 };
    const r = await auditor.client.post('/spot-checks', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.picks).toHaveLength(1);
    const pick = r.body.picks[0];
    expect(new Date(pick.to).getTime() - new Date(pick.from).getTime()).toBe(5 * 60_000);
    const again = await auditor.client.post('/spot-checks', body);
    expect(again.body.picks).toEqual(r.body.picks);
    const stored = await auditor.client.get(`/spot-checks/${r.body.id}`);
    expect(stored.body).toMatchObject({ seed: 'spot-2026-q4', replayMatches: true, picks: r.body.picks });
    expect((await own.operator.post('/spot-checks', body)).status).toBe(403);
    const audit = await admin.get(`/audit?subject=${r.body.id}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'spot_check.draw' });
  });
});
