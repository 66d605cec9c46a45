import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLab, type Lab, type StartLabOptions } from '../../lab/index.js';
import { printLogsOnFailure, startEmbedded, type EmbeddedDeployment } from './service.js';

/**
 * Lab cameras small enough for two test files at once on two cores: 320×240 at 15 fps, 256 kbit/s
 * main streams (JOURNEY_ENV sets the picture floor so these count as healthy). Live mode (≈3 % of a
 * core per pulled camera) burns the camera clock into the picture, so every recorded segment has its
 * own bytes, as with a real camera. (Scale mode's pre-encoded loop repeats segments byte for byte,
 * and its simple picture runs at ≈40 kbit/s, below a sensible bitrate floor.)
 */
export function startSmallLab(cameras: number, namePrefix: string): Promise<Lab> {
  const opts: StartLabOptions = { cameras, mode: 'live', width: 320, height: 240, fps: 15, namePrefix };
  return startLab(opts);
}

/**
 * Starts several things side by side; when any fails, stops those that started and rethrows, so a
 * failed setup leaves nothing running.
 */
export async function startTogether<T extends readonly unknown[]>(
  starts: { [K in keyof T]: () => Promise<T[K]> },
  stops: { [K in keyof T]: (v: T[K]) => Promise<unknown> },
): Promise<T> {
  const settled = await Promise.allSettled(starts.map((s) => s()));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(
      settled.map((r, i) =>
        r.status === 'fulfilled'
          ? (stops[i] as (v: unknown) => Promise<unknown>)(r.value).catch(() => undefined)
          : null,
      ),
    );
    throw failed.reason;
  }
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * One journey on the built service on embedded defaults with its own lab: the shape of journeys a–d.
 * No DATABASE_SCHEMA: each embedded database has its own deployment identity, which keeps its Redis
 * keys apart from every other test's.
 */
export function embeddedJourney(
  o: { title: string; label: string; cameras: number; it: string; timeoutMs: number },
  journey: (d: EmbeddedDeployment, lab: Lab) => Promise<void>,
): void {
  describe(o.title, () => {
    let lab: Lab;
    let d: EmbeddedDeployment;

    beforeAll(async () => {
      [lab, d] = await startTogether<[Lab, EmbeddedDeployment]>(
        [
          () => startSmallLab(o.cameras, `Sys ${o.label.toUpperCase()}`),
          () => startEmbedded({ label: o.label }),
        ],
        [(l) => l.stop(), (x) => x.stop()],
      );
    }, 180_000);
    afterAll(async () => {
      await d?.stop();
      await lab?.stop();
    });
    printLogsOnFailure(() => [d]);

    it(o.it, { timeout: o.timeoutMs }, () => journey(d, lab));
  });
}
