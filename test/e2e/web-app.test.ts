import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { makeCreditCode } from '../support/service.js';
import {
  addLabCameras,
  E2E_ENV,
  launchBrowser,
  ROOT,
  runningBatch,
  seedWorld,
  shoot,
  signIn,
  startBuiltService,
  until,
  type Browser,
  type Service,
  type World,
} from './support.js';

/**
 * Each role's main task in Chromium, against the built service (`node dist/src/main.js`, as `npm start`
 * runs it) and four live lab cameras. The tests run in order on one world: the operator's camera is the
 * fourth tile on the supervisor's wall, and the auditor reviews the footage recorded meanwhile.
 */
describe('the web application in Chromium, per role', () => {
  let lab: Lab;
  let svc: Service;
  let world: World;
  let browser: Browser;
  let batch: { id: string; code: string; sessionId: string };
  let gapInjectedAt = 0;
  const pages: Page[] = [];

  const video = (page: Page, cameraId: string) => page.locator(`.tile[data-camera-id="${cameraId}"] video`);
  const currentTime = (page: Page, cameraId: string) =>
    video(page, cameraId).evaluate((v: HTMLVideoElement) => v.currentTime);

  beforeAll(async () => {
    [lab, svc] = await Promise.all([
      startLab({ cameras: 4, mode: 'live', width: 640, height: 360, fps: 15, namePrefix: 'Lab' }),
      startBuiltService(E2E_ENV),
    ]);
    world = await seedWorld(svc);
    // Cameras 2–4 on zones 2–4; the operator adds camera 1 for zone 1 in the browser.
    await addLabCameras(world, lab.cameras.slice(1), [1, 2, 3]);
    batch = await runningBatch(svc, world, '2026-电工-0101', 60_000);
    browser = await launchBrowser();
    // The gap the auditor must find: camera 2 goes offline for 6 s once it records.
    const cam2 = world.cameras.get(lab.cameras[1]!.id)!;
    await until(
      'camera 2 online',
      async () => (await svc.admin.get(`/cameras/${cam2.id}`)).body.status === 'online',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 6000));
    gapInjectedAt = Date.now();
    await lab.inject(lab.cameras[1]!.id, 'offline', { durationMs: 6000 });
  }, 300_000);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await svc?.stop();
    await lab?.stop();
  });

  const open = async (username: string) => {
    const page = await signIn(browser, svc.url, username);
    pages.push(page);
    return page;
  };

  it(
    'administrator: system health, registers a unit and a user, dispatches a batch, verifies the audit chain',
    { timeout: 90_000 },
    async () => {
      const page = await open('admin');
      await page.waitForURL(/#\/health$/);
      await expect.poll(() => page.locator('.stat[data-state=online] b').textContent()).not.toBe('0');
      await shoot(page, 'admin-health');

      await page.click('nav a[href="#/units"]');
      const unitName = '苏州市工业园区职业技能评价中心';
      await page.fill('#unit-form input[name=name]', unitName);
      const good = makeCreditCode();
      const wrong = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
      await page.fill('#unit-form input[name=creditCode]', wrong);
      await page.click('#unit-form button[type=submit]');
      // A wrong check character is refused with the field named, in words.
      await expect
        .poll(() => page.locator('#unit-form .notice.error').textContent())
        .toContain('统一社会信用代码');
      await page.fill('#unit-form input[name=creditCode]', good);
      await page.fill('#unit-form input[name=region]', '江苏 苏州');
      await page.click('#unit-form button[type=submit]');
      await page.locator('#units td', { hasText: unitName }).waitFor();
      await shoot(page, 'admin-units');

      await page.click('nav a[href="#/users"]');
      await page.fill('#user-form input[name=username]', 'sun_supervisor');
      await page.fill('#user-form input[name=password]', 'supervisor-pass-1');
      await page.selectOption('#user-form select[name=role]', 'supervisor');
      await page.click('#user-form button[type=submit]');
      await page.locator('#users td', { hasText: 'sun_supervisor' }).waitFor();
      expect(await page.locator('#users tr', { hasText: 'sun_supervisor' }).textContent()).toContain(
        '督导员',
      );
      await shoot(page, 'admin-users');

      // A batch planned for tomorrow gets supervisors at random.
      const planned = await world.operatorClient.post('/batches', {
        code: '2026-焊工-0201',
        unitId: world.unit.id,
        occupationCode: '6-18-02-04',
        level: 3,
        sessions: [
          {
            siteId: world.site.id,
            startsAt: new Date(Date.now() + 86_400_000).toISOString(),
            endsAt: new Date(Date.now() + 86_400_000 + 7_200_000).toISOString(),
          },
        ],
      });
      expect(planned.status).toBe(201);
      await page.click('nav a[href="#/dispatch"]');
      const row = page.locator('#dispatch tr', { hasText: '2026-焊工-0201' });
      await row.locator('button.dispatch').click();
      await expect.poll(() => row.locator('.dispatch-result').textContent()).toContain('已派遣');
      await shoot(page, 'admin-dispatch');

      await page.click('nav a[href="#/audit-log"]');
      await page.click('#audit-verify');
      await expect.poll(() => page.locator('#audit-verify-result').getAttribute('data-ok')).toBe('true');
      // Newest first, actions in words: the unit registered above is near the top.
      const actions = await page
        .locator('#audit-log [data-action]')
        .evaluateAll((els) =>
          els.slice(0, 50).map((e) => [(e as HTMLElement).dataset.action, e.textContent]),
        );
      expect(actions).toContainEqual(['unit.create', '登记单位']);
      await shoot(page, 'admin-audit-log');
      await page.close();
    },
  );

  it(
    'unit operator: adds a lab camera by ONVIF and sees its zone turn green',
    { timeout: 120_000 },
    async () => {
      const page = await open(world.users.operator.username);
      await page.waitForURL(/#\/sites$/);
      await shoot(page, 'operator-sites');
      await page.click(`.site-card[data-site-id="${world.site.id}"]`);
      const zone1 = world.site.zones[0]!;
      const zoneCard = page.locator(`.zone[data-zone-id="${zone1.id}"]`);
      expect(await zoneCard.getAttribute('data-covered')).toBe('false');
      expect(await zoneCard.locator('.zone-state').textContent()).toBe('没有摄像机');

      const cam = lab.cameras[0]!;
      const form = page.locator('#camera-form');
      // An RTSP address nothing answers on: the refusal in words.
      await form.locator('input[name=name]').fill('工位 1 摄像机');
      await form.locator('input[name=mode][value=rtsp]').check();
      await form.locator('input[name=rtspUrl]').fill('rtsp://127.0.0.1:9/stream1');
      await form.locator('button[type=submit]').click();
      await expect
        .poll(() => form.locator('.notice.error').textContent(), { timeout: 20_000 })
        .toContain('无法连接视频流');
      await form.locator('input[name=mode][value=onvif]').check();
      await form.locator('input[name=name]').fill('工位 1 摄像机');
      await form.locator('input[name=host]').fill(cam.onvif.host);
      await form.locator('input[name=port]').fill(String(cam.onvif.port));
      await form.locator('input[name=username]').fill(cam.username);
      // A wrong password first: the device's refusal is shown in words.
      await form.locator('input[name=password]').fill('not-the-password');
      await form.locator(`input[name=zone][value="${zone1.id}"]`).check();
      await form.locator('button[type=submit]').click();
      await expect
        .poll(() => form.locator('.notice.error').textContent(), { timeout: 20_000 })
        .toContain('ONVIF 认证失败');

      await form.locator('input[name=password]').fill(cam.password);
      await form.locator('button[type=submit]').click();
      await expect
        .poll(() => form.locator('.notice').textContent(), { timeout: 30_000 })
        .toBe('已添加“工位 1 摄像机”');
      await expect.poll(() => zoneCard.getAttribute('data-covered'), { timeout: 30_000 }).toBe('true');
      expect(await zoneCard.textContent()).toContain('由 工位 1 摄像机 覆盖');
      expect(await page.locator('.coverage-head').textContent()).toBe('每个区域都已覆盖');
      const card = page.locator('.camera', { hasText: '工位 1 摄像机' });
      await expect.poll(() => card.locator('.resolution').textContent()).toBe('640×360');
      await expect.poll(() => card.locator('.fps').textContent()).toMatch(/帧\/秒/);
      await expect
        .poll(() => card.locator('img.snapshot').evaluate((i: HTMLImageElement) => i.naturalWidth), {
          timeout: 20_000,
        })
        .toBeGreaterThan(0);
      // No reference yet: the card says the service will take one; taking it shows the picture.
      await expect.poll(() => card.locator('.reference-caption').textContent()).toContain('尚无参考画面');
      await card.locator('button', { hasText: '设为参考画面' }).click();
      await expect
        .poll(() => card.locator('.reference-caption').textContent(), { timeout: 20_000 })
        .toContain('操作员于');
      await expect
        .poll(() => card.locator('img.reference').evaluate((i: HTMLImageElement) => i.naturalWidth))
        .toBeGreaterThan(0);
      await shoot(page, 'operator-site');

      await page.click('nav a[href="#/batches"]');
      await page.locator('#batches td', { hasText: batch.code }).waitFor();
      await shoot(page, 'operator-batches');
      await page.close();
    },
  );

  it(
    'supervisor: four tiles play, a lab fault shows on its tile and in the list by name within 5 s, acknowledged',
    { timeout: 120_000 },
    async () => {
      const page = await open(world.users.supervisor.username);
      await page.waitForURL(/#\/wall$/);
      const tiles = page.locator('.tile[data-camera-id]');
      await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(4);
      expect(await page.locator('#wall').getAttribute('data-layout')).toBe('4');
      await expect.poll(() => page.locator('#clock').getAttribute('data-state')).toBe('running');
      const ids = await tiles.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.cameraId!));
      const names = await tiles.locator('.name').allTextContents();
      expect(names.sort()).toEqual(['工位 1 摄像机', '工位 2 摄像机', '工位 3 摄像机', '工位 4 摄像机']);

      // Every tile plays: its clock advances, with no media or player errors.
      for (const id of ids)
        await expect.poll(() => currentTime(page, id), { timeout: 30_000 }).toBeGreaterThan(0.5);
      const before = await Promise.all(ids.map((id) => currentTime(page, id)));
      await page.waitForTimeout(2000);
      const after = await Promise.all(ids.map((id) => currentTime(page, id)));
      for (const [i, id] of ids.entries()) {
        expect(after[i]!, `tile ${id}`).toBeGreaterThan(before[i]! + 1);
        const tile = page.locator(`.tile[data-camera-id="${id}"]`);
        expect(await tile.getAttribute('data-errors'), `player errors on ${id}`).toBeNull();
        expect(await video(page, id).evaluate((v: HTMLVideoElement) => v.error?.message ?? null)).toBeNull();
        const q = await video(page, id).evaluate((v: HTMLVideoElement) => {
          const p = v.getVideoPlaybackQuality();
          return { total: p.totalVideoFrames, corrupted: p.corruptedVideoFrames };
        });
        expect(q.total, `frames decoded on ${id}`).toBeGreaterThan(0);
        expect(q.corrupted, `corrupted frames on ${id}`).toBe(0);
      }
      await page.waitForFunction(() => document.getElementById('link')?.dataset.state === 'live');

      // A lab fault: the camera of zone 3 covered. On its tile and in the list, by name, within 5 s.
      const labCam = lab.cameras[2]!;
      const target = world.cameras.get(labCam.id)!;
      const tile = page.locator(`.tile[data-camera-id="${target.id}"]`);
      const injected = Date.now();
      await lab.inject(labCam.id, 'covered');
      const alert = page.locator(`.alert[data-camera-id="${target.id}"]`, { hasText: '镜头遮挡' });
      await alert.waitFor({ timeout: 5000 });
      await expect.poll(() => tile.locator('.fault').textContent(), { timeout: 1000 }).toContain('镜头遮挡');
      expect(Date.now() - injected).toBeLessThan(5000);
      expect(await alert.locator('.about').textContent()).toContain('工位 3 摄像机');
      expect(await alert.textContent()).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(await alert.getAttribute('data-severity')).toBe('critical');
      for (const id of ids.filter((x) => x !== target.id))
        expect(await page.locator(`.tile[data-camera-id="${id}"] .fault`).textContent()).not.toContain(
          '镜头遮挡',
        );
      await shoot(page, 'supervisor-wall', 800);

      await alert.locator('button.ack').click();
      await expect.poll(() => alert.getAttribute('data-state')).toBe('acknowledged');
      const listed = await world.users.supervisor.client.get(
        `/alerts?siteId=${world.site.id}&state=unresolved`,
      );
      expect(
        listed.body.items.find((a: any) => a.cameraId === target.id && a.rule === 'picture_covered').state,
      ).toBe('acknowledged');
      await lab.clear(labCam.id, 'covered');

      // The user picks one tile at a time and pages through the cameras.
      await page.selectOption('#layout', '1');
      await expect.poll(() => page.locator('.tile[data-camera-id]').count()).toBe(1);
      expect(await page.locator('#wall').getAttribute('data-layout')).toBe('1');
      expect(await page.locator('#wall-page-no').textContent()).toBe('第 1/4 页');
      await page.locator('.pager button').last().click();
      await expect.poll(() => page.locator('#wall-page-no').textContent()).toBe('第 2/4 页');
      await page.selectOption('#layout', '');
      await expect.poll(() => page.locator('.tile[data-camera-id]').count()).toBe(4);

      // Opinion and score for the session.
      await page.fill(
        '#opinion-form textarea[name=text]',
        '考场秩序良好，画面清晰；工位 3 镜头曾被遮挡，已确认。',
      );
      await page.fill('#opinion-form input[name=score]', '92');
      await page.click('#opinion-form button[type=submit]');
      await expect.poll(() => page.locator('#opinion-form .notice').textContent()).toBe('意见已提交');

      // English is one choice away; the catalogue covers the wall.
      await Promise.all([page.waitForEvent('load'), page.selectOption('header select[name=locale]', 'en')]);
      await page.locator('#clock[data-state=running]').waitFor();
      expect(await page.locator('#clock').textContent()).toContain('Session running');
      await Promise.all([
        page.waitForEvent('load'),
        page.selectOption('header select[name=locale]', 'zh-CN'),
      ]);
      await page.close();
    },
  );

  it(
    'auditor: finds the batch, plays a minute of it, sees the injected gap, verifies, downloads an export verify-export accepts',
    { timeout: 300_000 },
    async () => {
      const cam2 = world.cameras.get(lab.cameras[1]!.id)!;
      const cam3 = world.cameras.get(lab.cameras[2]!.id)!;
      // A minute of camera 3 on record, and camera 2's offline gap closed.
      await until(
        'a minute of footage',
        async () => {
          const r = await svc.admin.get(`/batches/${batch.id}/recordings`);
          const c3 = r.body.cameras.find((c: any) => c.cameraId === cam3.id);
          const c2 = r.body.cameras.find((c: any) => c.cameraId === cam2.id);
          const seconds = (c3?.segments ?? []).reduce(
            (n: number, s: any) => n + (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000,
            0,
          );
          return (
            seconds >= 62 &&
            c2?.gaps.some((g: any) => g.reason === 'offline' && Date.parse(g.to) > gapInjectedAt)
          );
        },
        90_000,
      );

      const page = await open(world.users.auditor.username);
      await page.waitForURL(/#\/review$/);
      await page.fill('#batch-filter input[name=code]', '电工');
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
      await page.fill('#batch-filter input[name=date]', today);
      await page.selectOption('#batch-filter select[name=unit]', world.unit.id);
      await page.click('#batch-filter button[type=submit]');
      await expect.poll(() => page.locator('#batches a.batch-link').allTextContents()).toEqual([batch.code]);
      await shoot(page, 'auditor-batches');
      await page.click(`#batches a.batch-link`);

      // The injected gap, on camera 2's timeline, coloured as offline.
      const gap = page.locator(`.bar[data-camera-id="${cam2.id}"] .gap[data-reason=offline]`);
      await gap.first().waitFor();
      expect(await gap.first().getAttribute('title')).toContain('摄像机离线');
      expect(await gap.first().evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(207, 34, 46)');

      // Click early on camera 3's bar: playback starts there; then a minute of it at 8× speed.
      const bar = page.locator(`.bar[data-camera-id="${cam3.id}"]`);
      const seg = bar.locator('.seg').first();
      const box = (await seg.boundingBox())!;
      await page.mouse.click(box.x + 2, box.y + box.height / 2);
      const player = page.locator('#playback');
      await expect.poll(() => player.getAttribute('data-camera-id')).toBe(cam3.id);
      await expect
        .poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
        .toBeGreaterThan(0.5);
      const start = await player.evaluate((v: HTMLVideoElement) => {
        v.playbackRate = 8;
        return v.currentTime;
      });
      await expect
        .poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
        .toBeGreaterThan(start + 60);
      expect(await player.getAttribute('data-error')).toBeNull();
      // Seeking back works too.
      await player.evaluate((v: HTMLVideoElement) => {
        v.playbackRate = 1;
        v.currentTime = 5;
      });
      await expect
        .poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
        .toBeGreaterThan(5.3);
      await player.evaluate((v: HTMLVideoElement) => v.pause());

      await page.click('#verify');
      await expect
        .poll(() => page.locator('#verify-result').getAttribute('data-ok'), { timeout: 60_000 })
        .toBe('true');
      expect(await page.locator('#verify-result').textContent()).toMatch(/完整：校验了 \d+ 个录像片段/);

      // The printable report opens beside the page.
      const [report] = await Promise.all([page.waitForEvent('popup'), page.click('#report')]);
      await expect.poll(() => report.content(), { timeout: 20_000 }).toContain(batch.code);
      await report.close();

      await page.click('#export');
      const link = page.locator('#download');
      await link.waitFor({ timeout: 120_000 });
      await shoot(page, 'auditor-review');
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ess-e2e-export-'));
      try {
        const file = path.join(dir, download.suggestedFilename());
        await download.saveAs(file);
        const { stdout } = await promisify(execFile)(
          'npm',
          ['run', '--silent', 'verify-export', '--', file, '--json'],
          {
            cwd: ROOT,
            timeout: 120_000,
          },
        );
        const result = JSON.parse(stdout);
        expect(result.ok).toBe(true);
        expect(result.checkedSegments).toBeGreaterThan(10);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      await page.close();
    },
  );
});
