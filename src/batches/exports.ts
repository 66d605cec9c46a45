import type { Readable } from 'node:stream';
import type { Actor } from '../access/actor.js';
import { assertMayTakeFootage, requireRole } from '../access/policy.js';
import type { SiteRepository } from '../sites/site-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import type { Jobs } from '../platform/jobs.js';
import type { BatchJobs } from './jobs.js';
import type { Logger } from '../platform/logger.js';
import type { ExportManifest } from './archive.js';
import type { BatchExportBuilder } from './export-builder.js';
import type { BatchFootage } from './footage.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { BatchService } from './batches.js';

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ExportView {
  id: string;
  batchId: string;
  status: ExportStatus;
  progress: number;
  requestedAt: string;
  finishedAt: string | null;
  bytes: number | null;
  error: string | null;
  downloadUrl?: string;
  manifest?: ExportManifest;
}

interface ExportRow {
  id: string;
  batch_id: string;
  status: ExportStatus;
  progress: number;
  requested_by: string | null;
  requested_by_name: string | null;
  requested_at: Date;
  finished_at: Date | null;
  object_key: string | null;
  bytes: number | null;
  manifest: ExportManifest | null;
  error: string | null;
}

const ATTEMPTS = 2;

/** Batch exports: requested over the API, built by the `export.build` job, downloaded as one tar. */
export class ExportService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly batches: BatchService,
    private readonly footage: BatchFootage,
    private readonly store: FootageStore,
    private readonly jobs: Jobs<BatchJobs>,
    private readonly builder: BatchExportBuilder,
    private readonly log: Logger,
    private readonly apiBase: string,
    /** Answered by sites: the zones of the batch's sites, for the manifest. */
    private readonly sites: Pick<SiteRepository, 'zonesOfSites'>,
  ) {}

  async request(actor: Actor, batchId: string): Promise<{ exportId: string }> {
    requireRole(actor, 'admin', 'auditor', 'unit_operator');
    await this.batches.getRow(actor, batchId);
    const ctx = await this.batches.context(batchId, this.clock.now());
    assertMayTakeFootage(actor, ctx.batch);
    const id = newId();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO batch_exports (id, batch_id, status, requested_by, requested_by_name, requested_at)
         VALUES ($1, $2, 'queued', $3, $4, $5)`,
        [id, batchId, actor.userId, actor.username, this.clock.now()],
      );
      await this.audit.record(
        actor,
        { action: 'batch.export', subjectType: 'batch', subjectId: batchId, details: { exportId: id } },
        tx,
      );
    });
    await this.jobs.add('export.build', { exportId: id }, { jobId: id, attempts: ATTEMPTS });
    return { exportId: id };
  }

  private async row(actor: Actor, exportId: string): Promise<ExportRow> {
    const [row] = await this.db.query<ExportRow>('SELECT * FROM batch_exports WHERE id = $1', [exportId]);
    if (!row) throw new NotFoundError('export');
    await this.batches.getRow(actor, row.batch_id).catch(() => {
      throw new NotFoundError('export');
    });
    return row;
  }

  async get(actor: Actor, exportId: string): Promise<ExportView> {
    const r = await this.row(actor, exportId);
    return {
      id: r.id,
      batchId: r.batch_id,
      status: r.status,
      progress: r.progress,
      requestedAt: r.requested_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      bytes: r.bytes,
      error: r.error,
      ...(r.status === 'done'
        ? { downloadUrl: `${this.apiBase}/exports/${r.id}/download`, manifest: r.manifest ?? undefined }
        : {}),
    };
  }

  async download(
    actor: Actor,
    exportId: string,
  ): Promise<{ stream: Readable; bytes: number; filename: string }> {
    const r = await this.row(actor, exportId);
    const ctx = await this.batches.context(r.batch_id, this.clock.now());
    assertMayTakeFootage(actor, ctx.batch);
    if (r.status !== 'done' || !r.object_key)
      throw new ConflictError(`export is ${r.status}, not ready to download`);
    const stat = await this.store.stat(r.object_key);
    if (!stat) throw new NotFoundError('export archive');
    await this.audit.record(actor, {
      action: 'export.download',
      subjectType: 'batch',
      subjectId: r.batch_id,
      details: { exportId, bytes: stat.bytes },
    });
    return {
      stream: await this.store.get(r.object_key),
      bytes: stat.bytes,
      filename: `batch-${ctx.batch.code.replace(/[^A-Za-z0-9_.-]/g, '_')}-${exportId}.tar`,
    };
  }

  /** The job: idempotent; a finished export is skipped, a failed attempt starts over. */
  async build(exportId: string, attempt: number): Promise<'done' | 'skipped'> {
    const [row] = await this.db.query<ExportRow>('SELECT * FROM batch_exports WHERE id = $1', [exportId]);
    if (!row || row.status === 'done') return 'skipped';
    await this.db.query(
      `UPDATE batch_exports SET status = 'running', progress = 0, error = NULL WHERE id = $1`,
      [exportId],
    );
    let reported = 0;
    const progress = async (f: number) => {
      if (f - reported < 0.05 && f < 1) return;
      reported = f;
      await this.db.query('UPDATE batch_exports SET progress = $2 WHERE id = $1', [
        exportId,
        Math.round(f * 1000) / 1000,
      ]);
    };
    try {
      const now = this.clock.now();
      const ctx = await this.batches.context(row.batch_id, now);
      const footage = await this.footage.forSessions(ctx.sessions, now);
      const zones = await this.sites.zonesOfSites([...new Set(ctx.sessions.map((s) => s.siteId))]);
      const built = await this.builder.build(
        {
          exportId,
          batch: {
            id: ctx.batch.id,
            code: ctx.batch.code,
            unitId: ctx.batch.unitId,
            unitName: ctx.batch.unitName,
            occupationCode: ctx.batch.occupationCode,
            level: ctx.batch.level,
            status: ctx.batch.status,
          },
          exportedBy: { userId: row.requested_by ?? 'system', username: row.requested_by_name ?? 'system' },
          exportedAt: now,
          zones: zones.map((z) => ({ id: z.id, siteId: z.siteId, name: z.name })),
          sessions: footage.map((f, i) => ({ footage: f, supervisorIds: ctx.sessions[i]!.supervisorIds })),
        },
        progress,
      );
      try {
        const key = `exports/${exportId}.tar`;
        await this.store.put(key, built.archiveFile);
        await this.db.query(
          `UPDATE batch_exports SET status = 'done', progress = 1, finished_at = $2, object_key = $3, bytes = $4, manifest = $5 WHERE id = $1`,
          [exportId, this.clock.now(), key, built.bytes, JSON.stringify(built.manifest)],
        );
      } finally {
        await built.cleanup();
      }
      this.log.info(
        { exportId, bytes: built.bytes, problems: built.manifest.problems.length },
        'export built',
      );
      return 'done';
    } catch (err) {
      const last = attempt >= ATTEMPTS;
      await this.db.query(`UPDATE batch_exports SET status = $2, error = $3 WHERE id = $1`, [
        exportId,
        last ? 'failed' : 'queued',
        (err as Error).message.slice(0, 2000),
      ]);
      throw err;
    }
  }

  /** Starts the export worker of this process (worker role). */
  work(): void {
    this.jobs.work('export.build', (payload, job) => this.build(payload.exportId, job.attemptsMade + 1), {
      concurrency: 1,
    });
  }
}
