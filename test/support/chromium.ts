import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** The installed Chromium, headless, in a fresh profile; close() also removes the profile. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

type ContextOptions = Omit<
  NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>,
  'executablePath' | 'headless' | 'args'
>;

/** Flags every browser test needs: no sandbox as root, no GPU, no network chatter, video autoplay. */
const ARGS = [
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

export async function launchChromium(
  options: ContextOptions = {},
  extraArgs: string[] = [],
): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'ess-chromium-'));
  const close = () => rm(profile, { recursive: true, force: true });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      ...options,
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...ARGS, ...extraArgs],
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
