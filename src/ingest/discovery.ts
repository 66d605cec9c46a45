import type { DiscoveredDevice, OnvifClient } from './onvif-client.js';

/** ONVIF WS-Discovery from the configured network interface. */
export class CameraDiscovery {
  constructor(
    private readonly onvif: OnvifClient,
    private readonly o: { device?: string; defaultTimeoutMs: number },
  ) {}

  discover(timeoutMs = this.o.defaultTimeoutMs): Promise<DiscoveredDevice[]> {
    return this.onvif.discover({ timeoutMs, device: this.o.device });
  }
}
