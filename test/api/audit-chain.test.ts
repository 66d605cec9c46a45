import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/audit-log.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { makeUser, REGISTRY_ENV } from './fixtures.js';

interface Row {
  seq: number;
  at: Date;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/**
 * Someone with direct database access edits or removes audit rows; POST /audit/verify must name
 * exactly the rows touched.
 */
describe('audit hash chain', () => {
  let svc: TestService;
  let admin: ApiClient;
  let original: Row[];

  /** Runs statements as the database superuser with the append-only trigger off. */
  const tamper = async (statement: string, params: unknown[] = []) => {
    await sql(svc.schema, 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change');
    try {
      await sql(svc.schema, statement, params);
    } finally {
      await sql(svc.schema, 'ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change');
    }
  };
  const verify = async () => {
    const res = await admin.post('/audit/verify');
    expect(res.status).toBe(200);
    return res.body as { ok: boolean; checked: number; problems: { seq: number; kind: string }[] };
  };
  const kinds = (v: Awaited<ReturnType<typeof verify>>) =>
    v.problems.map((p) => ({ seq: p.seq, kind: p.kind }));

  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
    admin = await svc.admin();
    const { site, operator } = await seedUnit(svc, 'Chain');
    await operator.post('/cameras', { siteId: site.id, name: 'C1', rtspUrl: 'rtsp://192.0.2.1/1' });
    await operator.post(`/sites/${site.id}/zones`, { name: 'Room C' });
    await makeUser(svc, 'auditor');
    original = await sql<Row>(svc.schema, 'SELECT * FROM audit_log ORDER BY seq');
    expect(original.length).toBeGreaterThanOrEqual(8);
  });
  afterAll(async () => svc?.stop());

  // Each case starts from the untouched log.
  beforeEach(async () => {
    await tamper('DELETE FROM audit_log');
    await tamper('INSERT INTO audit_log SELECT * FROM jsonb_populate_recordset(NULL::audit_log, $1)', [
      JSON.stringify(original),
    ]);
  });

  it('the untouched chain verifies, and each row links to the one before', async () => {
    const v = await verify();
    expect(v.ok).toBe(true);
    expect(v.problems).toEqual([]);
    expect(v.checked).toBeGreaterThanOrEqual(original.length);
    expect(original[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < original.length; i++) expect(original[i]!.prev_hash).toBe(original[i - 1]!.hash);
  });

  it('the table refuses updates and deletes while its trigger is on', async () => {
    await expect(sql(svc.schema, `UPDATE audit_log SET action = 'x' WHERE seq = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql(svc.schema, 'DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/append-only/);
  });

  it.each([
    ['details', `UPDATE audit_log SET details = '{"name": "forged"}' WHERE seq = $1`],
    ['actor', `UPDATE audit_log SET actor_name = 'someone-else' WHERE seq = $1`],
    ['time', `UPDATE audit_log SET at = at - interval '1 day' WHERE seq = $1`],
    ['action', `UPDATE audit_log SET action = 'unit.view' WHERE seq = $1`],
    ['subject', `UPDATE audit_log SET subject_id = NULL WHERE seq = $1`],
  ])('an edited %s is reported as that row, altered', async (_what, statement) => {
    await tamper(statement, [4]);
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(kinds(v)).toEqual([{ seq: 4, kind: 'altered' }]);
  });

  it('an edited row whose hash was recomputed is still named, by the row after it', async () => {
    const [r] = await sql<Row>(svc.schema, 'SELECT * FROM audit_log WHERE seq = 5');
    const forged = { ...r!, details: { ...r!.details, name: 'forged' } };
    const hash = createHash('sha256')
      .update(forged.prev_hash)
      .update(
        canonicalJson([
          forged.seq,
          forged.at.toISOString(),
          forged.actor_id,
          forged.actor_name,
          forged.action,
          forged.subject_type,
          forged.subject_id,
          forged.details,
        ]),
      )
      .digest('hex');
    await tamper('UPDATE audit_log SET details = $2, hash = $3 WHERE seq = $1', [
      5,
      JSON.stringify(forged.details),
      hash,
    ]);
    expect(kinds(await verify())).toEqual([{ seq: 5, kind: 'altered' }]);
  });

  it('a deleted row is reported as missing, and only it', async () => {
    await tamper('DELETE FROM audit_log WHERE seq = $1', [3]);
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(kinds(v)).toEqual([{ seq: 3, kind: 'missing' }]);
    expect(v.checked).toBe(original.length - 1);
  });

  it('several deleted rows and an edit elsewhere are each named', async () => {
    await tamper('DELETE FROM audit_log WHERE seq IN (2, 3)');
    await tamper(`UPDATE audit_log SET details = '{}' WHERE seq = $1`, [6]);
    expect(kinds(await verify())).toEqual([
      { seq: 2, kind: 'missing' },
      { seq: 3, kind: 'missing' },
      { seq: 6, kind: 'altered' },
    ]);
  });

  it('the first row edited is named too', async () => {
    await tamper(`UPDATE audit_log SET actor_name = 'root' WHERE seq = 1`);
    expect(kinds(await verify())).toEqual([{ seq: 1, kind: 'altered' }]);
  });

  it('an auditor can run the verification as well', async () => {
    await tamper('DELETE FROM audit_log WHERE seq = $1', [7]);
    const auditor = await makeUser(svc, 'auditor');
    const res = await auditor.client.post('/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.problems.map((p: { seq: number }) => p.seq)).toEqual([7]);
  });
});
