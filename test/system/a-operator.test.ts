import { embeddedJourney } from './fixtures.js';
import { operatorJourney } from './journeys.js';

embeddedJourney(
  {
    title: 'a. unit operator, the built service on embedded defaults',
    label: 'a',
    cameras: 2,
    it: 'registers an ONVIF and an RTSP camera, lists their footage in time, serves it intact and plays it',
    timeoutMs: 240_000,
  },
  (d, lab) => operatorJourney(d, [lab.cameras[0]!, lab.cameras[1]!]),
);
