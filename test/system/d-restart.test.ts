import { embeddedJourney } from './fixtures.js';
import { restartJourney } from './journeys.js';

embeddedJourney(
  {
    title: 'd. restart, the built service on embedded defaults',
    label: 'd',
    cameras: 1,
    it: 'SIGKILLed mid-recording and started again: recording resumes, the lost span is a crash gap, nothing corrupt',
    timeoutMs: 300_000,
  },
  (d, lab) => restartJourney(d, lab.cameras[0]!),
);
