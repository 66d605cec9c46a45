import { embeddedJourney } from './fixtures.js';
import { batchJourney } from './journeys.js';

embeddedJourney(
  {
    title: 'b. batch, the built service on embedded defaults',
    label: 'b',
    cameras: 2,
    it: 'reports a 20 s outage as a gap with its reason, verifies, exports, and names a flipped byte',
    timeoutMs: 300_000,
  },
  (d, lab) => batchJourney(d, lab, [lab.cameras[0]!, lab.cameras[1]!]),
);
