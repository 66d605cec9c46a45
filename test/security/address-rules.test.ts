import { describe, expect, it } from 'vitest';
import {
  formatCameraUrl,
  NetworkPolicy,
  parseCameraUrl,
  STREAM_SCHEMES,
} from '../../src/ingest/camera-address.js';
import { parseProbeMatch, ReplyGuard } from '../../src/ingest/onvif-client.js';

const operator = { field: 'rtspUrl', from: 'operator' } as const;

describe('camera URLs', () => {
  it('are rebuilt from their parts: credentials encoded, quotes escaped, port explicit', () => {
    const u = parseCameraUrl(
      "rtsp://ad%27min:p%40ss@Cam.Local:554/live/main?x='1'",
      STREAM_SCHEMES,
      operator,
    );
    expect(u).toMatchObject({ host: 'cam.local', port: 554, username: "ad'min", password: 'p@ss' });
    expect(formatCameraUrl(u)).toBe('rtsp://cam.local:554/live/main?x=%271%27');
    expect(formatCameraUrl(u, true)).toBe('rtsp://ad%27min:p%40ss@cam.local:554/live/main?x=%271%27');
    expect(formatCameraUrl(parseCameraUrl('rtsp://[::1]:8554/a', STREAM_SCHEMES, operator))).toBe(
      'rtsp://[::1]:8554/a',
    );
  });

  it('refuse control characters anywhere, also percent-encoded in credentials, naming only the field', () => {
    for (const raw of ['rtsp://h/\r\nSET k v', 'rtsp://h/\t', 'rtsp://a%0Ab:c@h/', 'rtsp://a:b%00@h/']) {
      expect(() => parseCameraUrl(raw, STREAM_SCHEMES, operator)).toThrow(
        expect.objectContaining({
          details: [{ path: 'rtspUrl', message: 'must not contain control characters' }],
        }),
      );
    }
  });

  it('from a device are 422 naming the reply', () => {
    expect(() =>
      parseCameraUrl('file:///x.mp4', STREAM_SCHEMES, { field: 'GetStreamUri answer', from: 'device' }),
    ).toThrow(expect.objectContaining({ status: 422, code: 'device_address_refused' }));
  });
});

describe('the network policy', () => {
  const policy = new NetworkPolicy({
    networks: ['10.0.0.0/8', '127.0.0.0/8'],
    ownPorts: [{ port: 6379, label: 'Redis' }],
  });
  it('allows configured networks, refuses others, unspecified addresses and own local ports', () => {
    expect(policy.problem('10.1.2.3', 554)).toBeNull();
    expect(policy.problem('127.0.0.1', 8554)).toBeNull();
    expect(policy.problem('192.168.1.1', 554)).toMatch(/outside the camera networks/);
    expect(policy.problem('0.0.0.0', 554)).toMatch(/unspecified/);
    expect(policy.problem('127.0.0.1', 6379)).toMatch(/own Redis/);
    expect(policy.problem('::ffff:7f00:1', 6379)).toMatch(/own Redis/);
    expect(policy.problem('::ffff:127.0.0.1', 6379)).toMatch(/own Redis/);
    expect(policy.problem('10.1.2.3', 6379)).toBeNull();
  });
  it('learns ports that are only known once listening', async () => {
    policy.refusePort({ port: 18080, label: 'HTTP API' });
    await expect(policy.check({ host: 'localhost', port: 18080 }, operator)).rejects.toMatchObject({
      details: [{ path: 'rtspUrl', message: expect.stringContaining('HTTP API') }],
    });
  });
});

describe('ONVIF replies', () => {
  it('are refused past the byte limit, and when xmlns runs long without =', () => {
    const small = new ReplyGuard(100);
    expect(small.problem(Buffer.alloc(60))).toBeNull();
    expect(small.problem(Buffer.alloc(60))).toMatch(/larger than 100 bytes/);
    const guard = new ReplyGuard(1_000_000);
    expect(guard.problem(Buffer.from('<a xmlns:s="x" xmlns="y">'.repeat(100)))).toBeNull();
    expect(guard.problem(Buffer.from('xmlns'.repeat(100)))).toMatch(/not well-formed/);
  });

  it('from WS-Discovery keep only XAddrs that are http(s) addresses', () => {
    const dev = parseProbeMatch({
      probeMatches: {
        probeMatch: {
          endpointReference: { address: 'urn:uuid:1' },
          XAddrs: 'http://10.0.0.5/onvif/device_service file:///etc/passwd http://h/\u0001',
          scopes: '',
        },
      },
    });
    expect(dev?.xaddrs).toEqual(['http://10.0.0.5/onvif/device_service']);
  });
});
