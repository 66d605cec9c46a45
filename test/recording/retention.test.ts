import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/access/actor.js';
import { ManualClock } from '../../src/platform/clock.js';
import { newId } from '../../src/platform/ids.js';
import { Retention, type RetentionOptions } from '../../src/recording/retention.js';
import { objectKey } from '../../src/recording/segment-uploader.js';
import { seedUnit, sql, startTestService, type TestService } from '../support/service.js';

const T0 = Date.UTC(2024, 0, 1);
const H = 3600_000;
const D = 24 * H;

describe('retention sweep across policy and clock changes', () => {
  const clock = new ManualClock(new Date(T0));
  let svc: TestService;
  let cameraId: string;
  let unitId: string;
  let siteId: string;
  const ids: Record<string, string> = {};
  const faults: { kind: string; active: boolean }[] = [];

  const retention = (o: Partial<RetentionOptions> = {}) => {
    const s = svc.services;
    return new Retention(s.db, s.store, s.audit, clock, s.events, s.log, {
      retentionDays: 30,
      batchRetentionDays: 730,
      batchMarginMinutes: 15,
      sweepBatch: 2,
      fillLimit: 0.9,
      ...o,
    });
  };
  const seg = async (name: string, startMs: number, durMs = 10_000) => {
    const file = path.join(svc.config.DATA_DIR, `${name}.mp4`);
    await writeFile(file, `footage ${name}`);
    const key = objectKey(unitId, siteId, cameraId, startMs, durMs);
    await svc.services.store.put(key, file);
    const { row } = await svc.services.recording.index.insert({
      cameraId,
      siteId,
      unitId,
      startedAt: new Date(startMs),
      endedAt: new Date(startMs + durMs),
      bytes: 1000,
      codec: 'h264',
      width: 320,
      height: 240,
      sha256: name.padEnd(64, '0'),
      objectKey: key,
    });
    ids[name] = row.id;
  };
  const batch = async (code: string, startMs: number, endMs: number) => {
    const id = newId();
    await sql(
      svc.schema,
      `INSERT INTO batches (id, code, unit_id, occupation_code, level) VALUES ($1, $2, $3, '6-18-01-01', 3)`,
      [id, code, unitId],
    );
    await sql(
      svc.schema,
      `INSERT INTO batch_sessions (id, batch_id, site_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)`,
      [newId(), id, siteId, new Date(startMs), new Date(endMs)],
    );
    return id;
  };
  const remaining = async () =>
    new Set(
      (await sql<{ id: string }>(svc.schema, 'SELECT id FROM segments')).map(
        (r) => Object.entries(ids).find(([, v]) => v === r.id)![0],
      ),
    );
  const stored = async (name: string) => {
    const key = (
      await sql<{ object_key: string }>(svc.schema, 'SELECT object_key FROM segments WHERE id = $1', [
        ids[name],
      ])
    )[0]?.object_key;
    return key ? (await svc.services.store.stat(key)) !== null : false;
  };

  beforeAll(async () => {
    svc = await startTestService({ ROLES: 'api' }, { clock });
    const { site, unit, operator } = await seedUnit(svc, 'Ret');
    unitId = unit.id;
    siteId = site.id;
    void operator;
    cameraId = newId();
    await sql(
      svc.schema,
      `INSERT INTO cameras (id, site_id, unit_id, name, source, rtsp_url) VALUES ($1, $2, $3, 'cam', 'rtsp', 'rtsp://127.0.0.1:9/x')`,
      [cameraId, siteId, unitId],
    );
    svc.services.events.on('service.fault', (f) => faults.push(f));
    await batch('B-1', T0 + 2 * H, T0 + 3 * H);
    await seg('plain', T0 + 1 * H);
    await seg('inBatch', T0 + 2.5 * H);
    await seg('margin', T0 + 2 * H - 10 * 60_000); // 10 min before the session: inside the 15 min margin
    await seg('held', T0 + 4 * H);
    await seg('later', T0 + 5 * H);
    await svc.services.recording.retention.placeHold(systemActor, {
      cameraId,
      from: new Date(T0 + 4 * H - 60_000),
      to: new Date(T0 + 4 * H + 60_000),
      reason: 'disputed',
    });
  });
  afterAll(async () => svc?.stop());

  it('keeps everything inside the retention period', async () => {
    clock.set(new Date(T0 + 2 * D));
    expect(await retention().sweep()).toMatchObject({ expired: 0 });
    expect((await remaining()).size).toBe(5);
  });

  it('deletes only unprotected footage when the policy shortens, storage first and audited', async () => {
    const r = retention({ retentionDays: 1 });
    expect((await r.sweep()).expired).toBe(2);
    expect([...(await remaining())].sort()).toEqual(['held', 'inBatch', 'margin']);
    const audit = await sql<{ subject_id: string; details: { reason: string } }>(
      svc.schema,
      `SELECT subject_id, details FROM audit_log WHERE action = 'recording.deleted'`,
    );
    expect(audit.map((a) => a.subject_id).sort()).toEqual([ids.plain, ids.later].sort());
    expect(audit[0]!.details.reason).toBe('retention');
    const p = await r.protectionOf({ id: ids.inBatch! });
    expect(p.protected).toBe(true);
    expect(p.batchUntil?.toISOString()).toBe(new Date(T0 + 3 * H + 730 * D).toISOString());
    expect((await r.protectionOf({ id: ids.held! })).expiresAt).toBeNull();
  });

  it('deletes nothing when the clock steps back, batch footage only after two years, held never', async () => {
    clock.set(new Date(T0 - 10 * D));
    expect((await retention({ retentionDays: 1 }).sweep()).expired).toBe(0);
    clock.set(new Date(T0 + 729 * D));
    expect((await retention({ retentionDays: 1 }).sweep()).expired).toBe(0);
    clock.set(new Date(T0 + 731 * D));
    expect((await retention({ retentionDays: 1 }).sweep()).expired).toBe(2);
    expect([...(await remaining())]).toEqual(['held']);
    expect(await stored('held')).toBe(true);
    clock.set(new Date(T0 + 5000 * D));
    expect((await retention().sweep()).expired).toBe(0);
    const [hold] = await svc.services.recording.retention.holds({ active: true });
    await svc.services.recording.retention.releaseHold(systemActor, hold!.id);
    expect((await retention().sweep()).expired).toBe(1);
    expect((await remaining()).size).toBe(0);
  });

  it('relieves storage pressure with the oldest unprotected footage, never held or batch footage', async () => {
    const now = T0 + 6000 * D;
    clock.set(new Date(now));
    const rejected = await batch('B-2', now - 3 * H, now - 2 * H);
    await seg('oldFree', now - 5 * H);
    await seg('rejectedBatch', now - 2.5 * H);
    await seg('newFree', now - 1 * H);
    await seg('newest', now - 0.5 * H);
    await svc.services.recording.retention.placeHold(systemActor, {
      batchId: rejected,
      reason: 'batch rejected',
    });
    // 4 segments of 1000 bytes in a 5000-byte store, limit 50 %: two must go, the oldest unprotected.
    const r = retention({ capacityBytes: 5000, fillLimit: 0.5 });
    const out = await r.sweep();
    expect(out.pressure).toBe(2);
    expect([...(await remaining())].sort()).toEqual(['newest', 'rejectedBatch']);
    // Still above the limit? Only protected and new footage is left; more pressure removes 'newest', never the held batch.
    const again = await retention({ capacityBytes: 1000, fillLimit: 0.5 }).sweep();
    expect(again.pressure).toBe(1);
    expect([...(await remaining())]).toEqual(['rejectedBatch']);
    await new Promise((r) => setTimeout(r, 300));
    expect(faults.some((f) => f.kind === 'storage_pressure' && f.active)).toBe(true);
  });
});
