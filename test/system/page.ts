import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from '../support/chromium.js';

/**
 * The served supervisor page, driven in the system Chromium. Every selector of the page lives in
 * this one class, so a rewrite of web/ only has to adapt it here.
 */
export class SupervisorPage {
  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
  ) {}

  static async open(baseUrl: string): Promise<SupervisorPage> {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(baseUrl);
      return new SupervisorPage(browser, page);
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  async signIn(username: string, password: string): Promise<void> {
    await this.page.fill('input[name=username]', username);
    await this.page.fill('input[name=password]', password);
    await this.page.click('button[type=submit]');
  }

  /** Waits until the live event channel of the page is connected. */
  async waitLive(timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(() => document.getElementById('link')?.dataset.state === 'live', null, {
      timeout: timeoutMs,
    });
  }

  private tile(cameraId: string) {
    return this.page.locator(`.tile[data-camera-id="${cameraId}"]`);
  }

  /** Waits for the camera's tile on the wall and returns the name it shows. */
  async cameraTile(cameraId: string, timeoutMs: number): Promise<string> {
    const tile = this.tile(cameraId);
    await tile.waitFor({ timeout: timeoutMs });
    return (await tile.locator('.name').textContent()) ?? '';
  }

  /** The playback position of the camera's video, in seconds. */
  videoTime(cameraId: string): Promise<number> {
    return this.tile(cameraId)
      .locator('video')
      .evaluate((v: HTMLVideoElement) => v.currentTime);
  }

  /** Titles of the alerts in the page's alert feed. */
  async alertTitles(): Promise<string[]> {
    return this.page.locator('#alerts .alert strong').allTextContents();
  }

  /** A mark in the page's memory: it survives everything but a reload or navigation. */
  async setMark(): Promise<void> {
    await this.page.evaluate(() => {
      (window as unknown as { __systemTestMark?: number }).__systemTestMark = 1;
    });
  }
  hasMark(): Promise<boolean> {
    return this.page.evaluate(
      () => (window as unknown as { __systemTestMark?: number }).__systemTestMark === 1,
    );
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** What the page titles an offline-camera alert (zh-CN, the page's default language). */
export const OFFLINE_ALERT_TITLE = '摄像机离线';
