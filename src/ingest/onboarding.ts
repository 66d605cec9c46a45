import type { Actor } from '../access/actor.js';
import type { CameraRegistry } from './cameras.js';
import type { CameraCreate, CameraView } from './schemas.js';

/** Turns what an operator gives (an RTSP address, or ONVIF host and credentials) into a registered camera. */
export class CameraOnboarding {
  constructor(private readonly registry: CameraRegistry) {}

  async register(actor: Actor, input: CameraCreate): Promise<CameraView> {
    if (input.rtspUrl) {
      return this.registry.create(actor, {
        siteId: input.siteId,
        name: input.name,
        source: 'rtsp',
        rtspUrl: input.rtspUrl,
      });
    }
    throw new Error('ONVIF onboarding is delivered by the onboarding issue');
  }
}
