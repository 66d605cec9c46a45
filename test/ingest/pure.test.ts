import { describe, expect, it } from 'vitest';
import { CameraState } from '../../src/ingest/camera-state.js';
import { cameraInputList, pullArgs, rtspSnapshotArgs } from '../../src/ingest/ffmpeg-args.js';
import { classifyFailure, parseFrameCrcLine, parseFrameSize } from '../../src/ingest/ffmpeg-output.js';
import { pickStreams } from '../../src/ingest/onboarding.js';
import { parseProbeMatch } from '../../src/ingest/onvif-client.js';
import { Debounce } from '../../src/ingest/picture-checks.js';
import { backoffDelay } from '../../src/ingest/stream-supervisor.js';
import { StreamStats } from '../../src/ingest/stream-stats.js';

describe('ffmpeg command lines', () => {
  it('pulls once with -c copy outputs of every consumer, then the packet log and the grey samples', () => {
    const args = pullArgs({
      ioTimeoutMs: 5000,
      outputs: [
        ['-map', '0:v', '-c', 'copy', '-f', 'segment', 'seg%d.ts'],
        ['-f', 'flv', 'rtmp://x'],
      ],
      sample: { width: 160, height: 90, fps: 2 },
    });
    expect(args).toEqual([
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel',
      'level+info',
      '-analyzeduration',
      '2000000',
      '-threads',
      '1',
      '-skip_frame',
      'nokey',
      '-f',
      'concat',
      '-safe',
      '0',
      '-protocol_whitelist',
      'pipe,tcp,tls',
      '-i',
      'pipe:0',
      '-map',
      '0:v',
      '-c',
      'copy',
      '-f',
      'segment',
      'seg%d.ts',
      '-f',
      'flv',
      'rtmp://x',
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'framecrc',
      '-flush_packets',
      '1',
      'pipe:3',
      '-map',
      '0:v:0',
      '-vf',
      "select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,0.45)',showinfo,scale=160:90:flags=area,format=gray",
      '-fps_mode',
      'passthrough',
      '-f',
      'rawvideo',
      'pipe:1',
    ]);
  });
  it('snapshots decode keyframes only and skip the first', () => {
    const a = rtspSnapshotArgs();
    expect(a.slice(a.indexOf('-skip_frame'), a.indexOf('-skip_frame') + 2)).toEqual(['-skip_frame', 'nokey']);
    expect(a.slice(a.indexOf('-i'), a.indexOf('-i') + 2)).toEqual(['-i', 'pipe:0']);
    expect(a).toContain('select=gte(n\\,1)');
  });
  it('gives the camera address and RTSP options in an ffconcat list on stdin, never in argv', () => {
    expect(cameraInputList('rtsp://u:p@cam/sub', 3000)).toBe(
      "ffconcat version 1.0\nfile 'rtsp://u:p@cam/sub'\noption rtsp_transport tcp\noption timeout 3000000\n",
    );
    expect(() => cameraInputList("rtsp://cam/x'\nfile 'file:///etc/passwd", 3000)).toThrow();
  });
});

describe('reading ffmpeg output', () => {
  it('parses framecrc packets with the time base', () => {
    expect(parseFrameCrcLine('#tb 0: 1/90000', 1)).toEqual({ timeBase: 1 / 90000 });
    expect(
      parseFrameCrcLine('0,      6000,      6000,     6000,     3138, 0x9d94ae40, F=0x0', 1 / 90000),
    ).toEqual({
      packet: { ptsSec: 6000 / 90000, size: 3138, keyframe: false },
    });
    expect(
      parseFrameCrcLine('0,      0,      0,     6000,     2963, 0xf2cc9567', 1 / 90000).packet?.keyframe,
    ).toBe(true);
    expect(parseFrameSize('[Parsed_showinfo_1 @ 0x5] n:   3 pts:  3 s:1280x720 i:P')).toEqual({
      width: 1280,
      height: 720,
    });
  });
  it('names why a pull failed, without the password', () => {
    expect(classifyFailure('[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized\n').reason).toBe(
      'auth_refused',
    );
    expect(classifyFailure('[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found').reason).toBe('not_found');
    const refused = classifyFailure(
      '[tcp @ 0x55aa] Connection to tcp://10.0.0.9:554?timeout=5000000 failed: Connection refused',
    );
    expect(refused).toEqual({
      reason: 'connection_refused',
      detail: 'Connection to tcp://10.0.0.9:554 failed: Connection refused',
    });
    expect(classifyFailure('rtsp://admin:secret@cam/main: Connection timed out').detail).not.toContain(
      'secret',
    );
  });
});

describe('picture checks', () => {
  it('debounces both ways', () => {
    const d = new Debounce(2, 3);
    expect([true, false, true, true].map((v) => d.update(v))).toEqual([false, false, false, true]);
    expect([false, false, true, false, false, false].map((v) => d.update(v))).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });
});

describe('supervision state', () => {
  it('goes connecting → online → degraded → offline with reasons, and back', () => {
    const s = new CameraState(0, 1000);
    expect(s.status).toBe('connecting');
    expect(s.flowing(500, 500)).toEqual([]);
    expect(s.flowing(1000, 1000)).toEqual([{ type: 'status', status: 'online', reason: null }]);
    expect(s.setFault('black', true)).toEqual([
      { type: 'fault', kind: 'black', active: true },
      { type: 'status', status: 'degraded', reason: 'black' },
    ]);
    expect(s.failed('stalled', 'no frames for 2000 ms', 3000)).toEqual([
      { type: 'fault', kind: 'stalled', active: true, detail: 'no frames for 2000 ms' },
      { type: 'status', status: 'offline', reason: 'stalled: no frames for 2000 ms' },
    ]);
    expect(s.failed('connection_refused', 'refused', 4000).map((c) => c.type)).toEqual([
      'fault',
      'fault',
      'status',
    ]);
    expect(s.flowing(1000, 6000)).toEqual([
      { type: 'fault', kind: 'offline', active: false },
      { type: 'status', status: 'degraded', reason: 'black' },
    ]);
    expect(s.uptimeRatio(7000)).toBeCloseTo(3000 / 7000, 3);
  });

  it('backs off exponentially with jitter up to the cap', () => {
    expect(backoffDelay(0, 500, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 10_000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(10, 500, 10_000, () => 0)).toBe(5000);
  });

  it('counts frames by timestamp, so a keyframe sent in two packets is one frame', () => {
    const st = new StreamStats(3000);
    for (let i = 0; i <= 30; i++) {
      st.add({ ptsSec: i / 15, size: 1000, keyframe: false }, i * 66.7);
      if (i % 15 === 0) st.add({ ptsSec: i / 15, size: 500, keyframe: true }, i * 66.7);
    }
    const r = st.rates(2001)!;
    expect(r.fps).toBeCloseTo(15, 1);
  });
});

describe('onboarding choices', () => {
  it('picks main and sub by resolution among H.264/H.265 profiles', () => {
    const p = (token: string, encoding: string, width: number, height: number) => ({
      token,
      name: token,
      encoding,
      width,
      height,
      fps: 15,
      encoderToken: null,
    });
    expect(
      pickStreams([p('a', 'H264', 640, 360), p('b', 'JPEG', 1920, 1080), p('c', 'H265', 1920, 1080)]),
    ).toEqual({
      main: p('c', 'H265', 1920, 1080),
      sub: p('a', 'H264', 640, 360),
    });
    expect(pickStreams([p('b', 'JPEG', 1920, 1080)])).toBeNull();
  });
  it('reads a ProbeMatch', () => {
    const d = parseProbeMatch({
      probeMatches: {
        probeMatch: {
          endpointReference: { address: 'urn:uuid:1' },
          scopes: 'onvif://www.onvif.org/name/Room%20A onvif://www.onvif.org/hardware/IPC',
          XAddrs: 'http://10.0.0.5/onvif/device_service',
        },
      },
    });
    expect(d).toMatchObject({
      endpoint: 'urn:uuid:1',
      xaddr: 'http://10.0.0.5/onvif/device_service',
      name: 'Room A',
      hardware: 'IPC',
    });
  });
});
