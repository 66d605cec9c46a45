import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Lab } from '../../lab/index.js';
import { startSmallLab, startTogether } from './fixtures.js';
import { twoDeploymentsJourney } from './journeys.js';
import { printLogsOnFailure, startEmbedded, type EmbeddedDeployment } from './service.js';

/**
 * Two deployments on embedded defaults: no DATABASE_URL, no REDIS_URL (both find the Redis on
 * 127.0.0.1:6379) and no DATABASE_SCHEMA (both databases call theirs `public`) — deliberately.
 */
describe('f. two deployments on embedded defaults sharing one Redis', () => {
  let labs: Lab[] = [];
  let ds: EmbeddedDeployment[] = [];

  beforeAll(async () => {
    const [l1, l2, d1, d2] = await startTogether<[Lab, Lab, EmbeddedDeployment, EmbeddedDeployment]>(
      [
        () => startSmallLab(2, 'Sys F1'),
        () => startSmallLab(2, 'Sys F2'),
        () => startEmbedded({ label: 'f1' }),
        () => startEmbedded({ label: 'f2' }),
      ],
      [(l) => l.stop(), (l) => l.stop(), (x) => x.stop(), (x) => x.stop()],
    );
    labs = [l1, l2];
    ds = [d1, d2];
  }, 180_000);
  afterAll(async () => {
    await Promise.all(ds.map((d) => d.stop()));
    await Promise.all(labs.map((l) => l.stop()));
  });
  printLogsOnFailure(() => ds);

  it('supervises and records every camera of both', { timeout: 240_000 }, async () => {
    await twoDeploymentsJourney([
      { d: ds[0]!, labCams: labs[0]!.cameras },
      { d: ds[1]!, labCams: labs[1]!.cameras },
    ]);
  });
});
