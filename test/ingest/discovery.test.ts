import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `unshare -n` (root, or user namespaces) with loopback up and multicast routed over it. */
function runInNetns(script: string): Promise<{ code: number | null; out: string; err: string }> {
  const setup = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-n', 'sh', '-c', `${setup} && exec npx tsx ${script}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('WS-Discovery', () => {
  it('finds every lab camera over real multicast, once each, in a private network namespace', async () => {
    const r = await runInNetns('test/ingest/fixtures/discover-in-netns.ts');
    expect(r.code, r.err).toBe(0);
    const { found, cameras } = JSON.parse(r.out.trim().split('\n').at(-1)!) as {
      found: { endpoint: string; xaddr: string; name: string | null; scopes: string[] }[];
      cameras: { endpoint: string; xaddr: string; name: string }[];
    };
    expect(found.map((f) => f.endpoint).sort()).toEqual(cameras.map((c) => c.endpoint).sort());
    for (const c of cameras) {
      const f = found.find((x) => x.endpoint === c.endpoint)!;
      expect(f.xaddr).toBe(c.xaddr);
      expect(f.name).toBe(c.name);
      expect(f.scopes.length).toBeGreaterThan(0);
    }
  }, 90_000);
});
