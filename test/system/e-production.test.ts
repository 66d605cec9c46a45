import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Lab } from '../../lab/index.js';
import { startSmallLab, startTogether } from './fixtures.js';
import { batchJourney, operatorJourney, supervisorJourney } from './journeys.js';
import { printLogsOnFailure, startProduction, type Deployment } from './service.js';

/**
 * e. The production shape: journeys a–c against three processes (ROLES=api, ROLES=ingest,
 * ROLES=worker), each with its own DATA_DIR, on PostgreSQL, Redis and an S3 server.
 */
describe('e. production shape: api, ingest and worker processes on PostgreSQL, Redis and S3', () => {
  let lab: Lab;
  let d: Deployment;

  beforeAll(async () => {
    [lab, d] = await startTogether<[Lab, Deployment]>(
      [() => startSmallLab(5, 'Sys E'), () => startProduction()],
      [(l) => l.stop(), (x) => x.stop()],
    );
  }, 240_000);
  afterAll(async () => {
    await d?.stop();
    await lab?.stop();
  });
  printLogsOnFailure(() => [d]);

  it(
    'a. unit operator: ONVIF and RTSP cameras recorded to S3, served intact, played',
    { timeout: 240_000 },
    async () => {
      await operatorJourney(d, [lab.cameras[0]!, lab.cameras[1]!]);
    },
  );

  it(
    'b. batch: the outage gap, verify, offline export check, a flipped byte in S3 named by both',
    {
      timeout: 300_000,
    },
    async () => {
      await batchJourney(d, lab, [lab.cameras[2]!, lab.cameras[3]!]);
    },
  );

  it(
    'c. supervisor: the offline alert through the api process within 3 s, live on the page',
    {
      timeout: 180_000,
    },
    async () => {
      await supervisorJourney(d, lab, lab.cameras[4]!);
    },
  );
});
