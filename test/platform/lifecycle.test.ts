import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { seedUnit, startTestService, type TestService } from '../support/service.js';

const CYCLES = 20;
let lab: Lab;
let svc: TestService;

beforeAll(async () => {
  lab = await startLab({ cameras: 1, width: 320, height: 180 });
  // Registers the camera in a database the child then starts and closes the service on.
  svc = await startTestService({ ROLES: 'api' });
  const { operator, site } = await seedUnit(svc);
  const cam = await operator.post('/cameras', {
    siteId: site.id,
    name: 'Cycle',
    rtspUrl: lab.cameras[0]!.rtsp.main,
  });
  expect(cam.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await lab?.stop();
});

describe('the service lifecycle', () => {
  it(`starts and closes ${CYCLES} times in one process and leaves no handle, timer or child process`, async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'lifecycle-child.ts')],
      {
        env: {
          ...process.env,
          LIFECYCLE_CHILD: JSON.stringify({
            cycles: CYCLES,
            config: {
              ROLES: 'api,ingest,worker',
              PORT: '0',
              HOST: '127.0.0.1',
              // The same DATA_DIR holds the SECRET_KEY the camera's credentials were sealed with.
              DATA_DIR: svc.config.DATA_DIR,
              DATABASE_URL: svc.config.DATABASE_URL!,
              DATABASE_SCHEMA: svc.schema,
              REDIS_URL: 'redis://127.0.0.1:6379',
              FLOOR_MIN_HEIGHT: '120',
              LOG_LEVEL: 'warn',
            },
          }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      // Ending by itself is the proof that nothing keeps the event loop alive.
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process did not end by itself after ${CYCLES} cycles; it printed: ${out}`));
      }, 240_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    const report = JSON.parse(out.trim().split('\n').pop()!) as {
      baseline: Record<string, number>;
      after: Record<string, number>;
      pulls: number[];
    };
    console.log('lifecycle:', report);
    // Every cycle really ran the camera's ffmpeg, so closing had a child process to release.
    expect(report.pulls.every((n) => n >= 1)).toBe(true);
    for (const [kind, n] of Object.entries(report.after))
      expect(n, `${kind} left open`).toBeLessThanOrEqual(report.baseline[kind] ?? 0);
  }, 300_000);
});
