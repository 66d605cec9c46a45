/**
 * Starts a lab with WS-Discovery and probes it with the onvif client's Discovery.probe, printing
 * one JSON line. Meant to run inside a private network namespace (see test/lab/discovery.test.ts),
 * so the multicast probe never leaves the machine.
 */
import { startLab } from './index.js';
import { onvif } from './onvif-client.js';

const lab = await startLab({ cameras: 2, mode: 'scale', width: 320, height: 180, discovery: true });
try {
  onvif.Discovery.on('error', () => undefined);
  const cams = await new Promise<{ hostname: string; port: number }[]>((resolve, reject) =>
    onvif.Discovery.probe({ timeout: 2000, resolve: true }, (err, found) =>
      err ? reject(err) : resolve(found),
    ),
  );
  await lab.inject('cam2', 'reboot');
  const duringReboot = await new Promise<unknown[]>((resolve, reject) =>
    onvif.Discovery.probe({ timeout: 1500, resolve: false }, (err, found) =>
      err ? reject(err) : resolve(found),
    ),
  );
  console.log(
    JSON.stringify({
      expected: lab.cameras.map((c) => c.onvif.xaddr),
      scopes: lab.cameras.map((c) => c.scopes),
      found: cams.map((c) => `http://${c.hostname}:${c.port}/onvif/device_service`),
      foundDuringReboot: duringReboot.length,
    }),
  );
} finally {
  await lab.stop();
}
