import { createSocket, type Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoverableDevice {
  /** urn:uuid:... stable for the camera's lifetime. */
  endpoint: string;
  xaddr: string;
  scopes: string[];
  /** False while the camera is rebooting: it stays silent. */
  online(): boolean;
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true });

/**
 * WS-Discovery responder for all cameras of a lab. Each camera answers a Probe with its own
 * ProbeMatches message, as separate devices on a network would.
 */
export class DiscoveryResponder {
  private socket: Socket | null = null;

  constructor(private readonly devices: () => DiscoverableDevice[]) {}

  async start(port = WS_DISCOVERY_PORT): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.addMembership(WS_DISCOVERY_GROUP);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
    this.socket = socket;
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    let probe: Record<string, unknown> | undefined;
    let messageId = '';
    try {
      const doc = parser.parse(msg.toString('utf8')) as {
        Envelope?: { Header?: { MessageID?: unknown }; Body?: { Probe?: unknown } };
      };
      if (doc.Envelope?.Body?.Probe === undefined) return;
      probe = (doc.Envelope.Body.Probe || {}) as Record<string, unknown>;
      messageId = String(doc.Envelope.Header?.MessageID ?? '');
    } catch {
      return;
    }
    const types = String(probe.Types ?? '');
    // Only answer probes for any device or for ONVIF video transmitters.
    if (types && !/NetworkVideoTransmitter|Device/.test(types)) return;
    const wantedScopes = String(probe.Scopes ?? '')
      .split(/\s+/)
      .filter(Boolean);
    for (const dev of this.devices()) {
      if (!dev.online()) continue;
      if (!wantedScopes.every((w) => dev.scopes.some((s) => s.startsWith(w)))) continue;
      const reply = Buffer.from(probeMatch(dev, messageId));
      this.socket?.send(reply, port, address);
    }
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

function probeMatch(dev: DiscoverableDevice, relatesTo: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ` +
    `xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
    `xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
    `<SOAP-ENV:Header><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:RelatesTo>${relatesTo}</wsa:RelatesTo>` +
    `<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
    `<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header>` +
    `<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>` +
    `<wsa:EndpointReference><wsa:Address>${dev.endpoint}</wsa:Address></wsa:EndpointReference>` +
    `<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>${dev.scopes.join(' ')}</d:Scopes>` +
    `<d:XAddrs>${dev.xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
    `</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  );
}
