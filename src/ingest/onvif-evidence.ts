import type { Logger } from '../platform/logger.js';
import { topicFault } from './fault-sources.js';
import { pickStreams } from './onboarding.js';
import type { OnvifSession } from './onvif-client.js';
import type { StreamSupervisor } from './stream-supervisor.js';

/** A pull-point subscription lasts two minutes unless renewed (the `onvif` package asks PT2M). */
const RENEW_EVERY_MS = 60_000;

/**
 * What an ONVIF camera says about its own picture, handed to its supervisor: the main stream's
 * encoder settings (read at every clock check), and its analytics events (tamper, scene change),
 * pulled for as long as the session lasts.
 */
export class OnvifEvidence {
  private pulling: OnvifSession | null = null;

  constructor(
    private readonly cameraId: string,
    private readonly supervisor: Pick<StreamSupervisor, 'setEncoder' | 'cameraReports'>,
    private readonly log: Logger,
  ) {}

  /** With a working session: reads the encoder settings, and starts pulling events if not yet. */
  async refresh(session: OnvifSession): Promise<void> {
    const main = pickStreams(session.profiles())?.main;
    const settings = main?.encoderToken
      ? await session.encoderSettings(main.encoderToken).catch(() => null)
      : null;
    this.supervisor.setEncoder(settings);
    if (this.pulling !== session) {
      this.pulling = session;
      void this.pull(session);
    }
  }

  stop(): void {
    this.pulling = null;
  }

  private async pull(session: OnvifSession): Promise<void> {
    try {
      if (!(await session.subscribeEvents())) return;
      let renewed = Date.now();
      while (this.pulling === session) {
        if (Date.now() - renewed > RENEW_EVERY_MS) {
          await session.renewEvents();
          renewed = Date.now();
        }
        for (const n of await session.pullEvents()) {
          const kind = topicFault(n.topic);
          if (kind && n.state !== null && this.pulling === session)
            this.supervisor.cameraReports(kind, n.state, n.topic);
        }
      }
    } catch (err) {
      // The next clock check reconnects and starts over.
      this.log.debug({ camera: this.cameraId, err: (err as Error).message }, 'camera events stopped');
      if (this.pulling === session) this.pulling = null;
    }
  }
}
