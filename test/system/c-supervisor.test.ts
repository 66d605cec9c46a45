import { embeddedJourney } from './fixtures.js';
import { supervisorJourney } from './journeys.js';

embeddedJourney(
  {
    title: 'c. supervisor, the built service on embedded defaults',
    label: 'c',
    cameras: 1,
    it: 'pushes the offline alert within 3 s; the page plays the camera and shows the alert live',
    timeoutMs: 180_000,
  },
  (d, lab) => supervisorJourney(d, lab, lab.cameras[0]!),
);
