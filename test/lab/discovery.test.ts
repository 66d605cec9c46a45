import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('WS-Discovery', () => {
  it('onvif Discovery.probe finds the lab cameras, inside a private network namespace', async () => {
    // A fresh namespace has only `lo`: multicast on it never reaches any real network.
    const script =
      'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && ' +
      `exec "${process.execPath}" --import tsx lab/discovery-check.ts`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('unshare', ['-n', 'sh', '-c', script], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`discovery check exited ${code}: ${stderr}`));
      });
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      expected: string[];
      scopes: string[][];
      found: string[];
      foundDuringReboot: number;
    };
    expect([...r.found].sort()).toEqual([...r.expected].sort());
    expect(r.scopes[0]).toEqual(
      expect.arrayContaining([
        'onvif://www.onvif.org/name/Lab%20Camera%201',
        expect.stringMatching(/^onvif:\/\/www\.onvif\.org\/hardware\//),
        expect.stringMatching(/^onvif:\/\/www\.onvif\.org\/location\//),
      ]),
    );
    // A rebooting camera is silent.
    expect(r.foundDuringReboot).toBe(1);
  });
});
