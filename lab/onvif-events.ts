import { randomBytes } from 'node:crypto';

/** What the lab camera's own analytics see (from its injected faults). */
export interface AnalyticsState {
  /** The tamper detector: lens covered or blacked out. */
  tamper: boolean;
  /** Global scene change: the camera was turned away. */
  sceneChange: boolean;
}

const TOPICS: { key: keyof AnalyticsState; topic: string; item: string }[] = [
  { key: 'tamper', topic: 'tns1:RuleEngine/TamperDetector/Tamper', item: 'IsTamper' },
  { key: 'sceneChange', topic: 'tns1:VideoSource/GlobalSceneChange/AnalyticsService', item: 'State' },
];

interface Subscription {
  /** What the subscriber was last told; null until the first pull (which says the current state). */
  told: AnalyticsState | null;
  expires: number;
}

/** Longest the lab holds a PullMessages with nothing to say (devices may answer before the Timeout). */
const HOLD_MS = 2000;

/**
 * The ONVIF event service of a lab camera: pull-point subscriptions whose messages are the camera
 * analytics' property events, Initialized on the first pull and Changed whenever the state changes.
 */
export class PullPoints {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly state: () => AnalyticsState,
    private readonly base: () => string,
  ) {}

  create(): string {
    const id = randomBytes(8).toString('hex');
    this.subs.set(id, { told: null, expires: Date.now() + 120_000 });
    const now = new Date();
    return (
      `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>` +
      `<wsa5:Address>${this.base()}/subscription/${id}</wsa5:Address></tev:SubscriptionReference>` +
      `<wsnt:CurrentTime>${now.toISOString()}</wsnt:CurrentTime>` +
      `<wsnt:TerminationTime>${new Date(now.getTime() + 120_000).toISOString()}</wsnt:TerminationTime>` +
      `</tev:CreatePullPointSubscriptionResponse>`
    );
  }

  /** The subscription a request path names, if it is still alive. */
  private find(path: string): Subscription | null {
    const id = /\/subscription\/([0-9a-f]+)$/.exec(path)?.[1];
    const sub = id ? this.subs.get(id) : undefined;
    if (!sub || sub.expires < Date.now()) return null;
    return sub;
  }

  renew(path: string): string | null {
    const sub = this.find(path);
    if (!sub) return null;
    sub.expires = Date.now() + 120_000;
    return `<wsnt:RenewResponse><wsnt:TerminationTime>${new Date(sub.expires).toISOString()}</wsnt:TerminationTime><wsnt:CurrentTime>${new Date().toISOString()}</wsnt:CurrentTime></wsnt:RenewResponse>`;
  }

  unsubscribe(path: string): string | null {
    const id = /\/subscription\/([0-9a-f]+)$/.exec(path)?.[1];
    return id && this.subs.delete(id) ? '<wsnt:UnsubscribeResponse/>' : null;
  }

  /** Answers once there is something to say, or after a while with nothing. */
  async pull(path: string): Promise<string | null> {
    const sub = this.find(path);
    if (!sub) return null;
    const deadline = Date.now() + HOLD_MS;
    let messages = this.messages(sub);
    while (messages.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      messages = this.messages(sub);
    }
    const now = new Date().toISOString();
    return (
      `<tev:PullMessagesResponse><tev:CurrentTime>${now}</tev:CurrentTime>` +
      `<tev:TerminationTime>${new Date(sub.expires).toISOString()}</tev:TerminationTime>${messages.join('')}` +
      `</tev:PullMessagesResponse>`
    );
  }

  private messages(sub: Subscription): string[] {
    const now = this.state();
    const told = sub.told;
    sub.told = now;
    return TOPICS.filter((t) => !told || told[t.key] !== now[t.key]).map(
      (t) =>
        `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">` +
        `${t.topic}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="${new Date().toISOString()}" ` +
        `PropertyOperation="${told ? 'Changed' : 'Initialized'}"><tt:Source>` +
        `<tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VideoSourceConfig_1"/></tt:Source>` +
        `<tt:Data><tt:SimpleItem Name="${t.item}" Value="${now[t.key]}"/></tt:Data></tt:Message></wsnt:Message>` +
        `</wsnt:NotificationMessage>`,
    );
  }
}
