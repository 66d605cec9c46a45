import { io, type Socket } from 'socket.io-client';
import { Api, ApiError, type Alert, type Session, type User } from './api.js';
import { LivePlayer } from './player.js';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const RULE_NAMES: Record<string, string> = {
  camera_offline: 'Camera offline',
  camera_stalled: 'Stream stalled',
  camera_degraded: 'Picture below floor',
  picture_black: 'Black picture',
  picture_frozen: 'Frozen picture',
  picture_blurred: 'Blurred picture',
  picture_covered: 'Camera covered',
  picture_moved: 'Camera moved',
  clock_skew: 'Camera clock wrong',
  zone_not_covered: 'Zone not covered',
  storage_down: 'Storage down',
  storage_full: 'Storage full',
  upload_failing: 'Upload failing',
  spool_pressure: 'Spool under pressure',
  session_not_ready: 'Session not ready',
};

interface LiveEvent {
  seq: number;
  alert?: Alert;
  cameraId?: string;
  status?: string;
}

/** The supervisor's screen: the wall of assigned sites, the live alert feed, the session clock. */
class SupervisorPage {
  private readonly alerts = new Map<string, Alert>();
  private readonly players: LivePlayer[] = [];
  private readonly cameraNames = new Map<string, string>();
  private socket: Socket | null = null;
  private lastSeq = 0;
  private sessions: Session[] = [];
  private siteIds: string[] = [];
  private clockTimer = 0;

  constructor(
    private readonly api: Api,
    private readonly user: User,
  ) {}

  async start(): Promise<void> {
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').textContent = `${this.user.username} (${this.user.role})`;
    const batches = (await this.api.batches()).items;
    this.sessions = batches
      .flatMap((b) => b.sessions)
      .filter((s) => this.user.role !== 'supervisor' || s.supervisorIds.includes(this.user.id))
      .filter((s) => new Date(s.endsAt).getTime() > Date.now())
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    this.siteIds = [...new Set(this.sessions.map((s) => s.siteId))];
    await this.buildWall();
    for (const siteId of this.siteIds)
      for (const a of (await this.api.alerts(siteId)).items) this.alerts.set(a.id, a);
    this.renderAlerts();
    this.connect();
    this.clockTimer = window.setInterval(() => this.renderClock(), 1000);
    this.renderClock();
  }

  private async buildWall(): Promise<void> {
    const wall = $('wall');
    wall.replaceChildren();
    if (this.siteIds.length === 0) wall.textContent = 'No assigned sessions.';
    for (const siteId of this.siteIds) {
      const site = await this.api.site(siteId);
      const title = document.createElement('h3');
      title.className = 'site-title';
      title.textContent = site.name;
      wall.append(title);
      const zoneName = new Map(site.zones.map((z) => [z.id, z.name]));
      const cameraIds = [...new Set(site.coverage.flatMap((c) => c.cameraIds))];
      for (const id of cameraIds) {
        const cam = await this.api.camera(id);
        this.cameraNames.set(cam.id, cam.name);
        const tile = document.createElement('figure');
        tile.className = 'tile';
        tile.dataset.cameraId = cam.id;
        tile.dataset.status = cam.status;
        const video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        video.playsInline = true;
        const meta = document.createElement('figcaption');
        meta.className = 'meta';
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = cam.name;
        const zones = document.createElement('span');
        zones.className = 'zones';
        zones.textContent = cam.zoneIds.map((z) => zoneName.get(z) ?? z).join(', ');
        const status = document.createElement('span');
        status.className = 'status';
        status.textContent = cam.status;
        meta.append(name, zones, status);
        tile.append(video, meta);
        wall.append(tile);
        const player = new LivePlayer(this.api, cam.id, video);
        this.players.push(player);
        void player.start();
      }
    }
  }

  /** socket.io at /live: subscribe to every assigned site, resuming after the last seq seen. */
  private connect(): void {
    const socket = io({ path: '/live', auth: { token: this.api.token }, transports: ['websocket'] });
    this.socket = socket;
    socket.on('connect', () => {
      $('link').textContent = 'live';
      for (const siteId of this.siteIds)
        socket.emit('subscribe', { siteId, afterSeq: this.lastSeq }, () => undefined);
    });
    socket.on('disconnect', () => ($('link').textContent = 'reconnecting…'));
    socket.on('connect_error', () => ($('link').textContent = 'reconnecting…'));
    const onAlert = (e: LiveEvent) => {
      this.seen(e);
      if (e.alert) this.alerts.set(e.alert.id, e.alert);
      this.renderAlerts();
    };
    socket.on('alert.opened', onAlert);
    socket.on('alert.updated', onAlert);
    socket.on('alert.resolved', onAlert);
    socket.on('camera.status', (e: LiveEvent) => {
      this.seen(e);
      const tile = document.querySelector<HTMLElement>(`.tile[data-camera-id="${e.cameraId}"]`);
      if (!tile || !e.status) return;
      tile.dataset.status = e.status;
      tile.querySelector('.status')!.textContent = e.status;
    });
  }

  private seen(e: LiveEvent): void {
    this.lastSeq = Math.max(this.lastSeq, e.seq);
  }

  private renderAlerts(): void {
    const list = $('alerts');
    const items = [...this.alerts.values()].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
    list.replaceChildren(
      ...items.map((a) => {
        const li = document.createElement('li');
        li.className = 'alert';
        li.dataset.alertId = a.id;
        li.dataset.state = a.state;
        li.dataset.severity = a.severity;
        const title = document.createElement('strong');
        title.textContent = RULE_NAMES[a.rule] ?? a.rule;
        const about = document.createElement('div');
        const subject = a.cameraId
          ? (this.cameraNames.get(a.cameraId) ?? a.cameraId)
          : (a.subject.id ?? 'service');
        about.textContent = `${subject} · ${new Date(a.openedAt).toLocaleTimeString()}${a.occurrences > 1 ? ` · ×${a.occurrences}` : ''}`;
        const state = document.createElement('div');
        state.className = 'state';
        state.textContent = a.state === 'acknowledged' ? `acknowledged by ${a.acknowledgedBy}` : a.state;
        li.append(title, about, state);
        if (a.detail) {
          const d = document.createElement('div');
          d.textContent = a.detail;
          li.append(d);
        }
        if (a.state === 'open') {
          const ack = document.createElement('button');
          ack.type = 'button';
          ack.className = 'ack';
          ack.textContent = 'Acknowledge';
          ack.onclick = async () => {
            ack.disabled = true;
            try {
              const updated = await this.api.ack(a.id);
              this.alerts.set(updated.id, updated);
              this.renderAlerts();
            } catch {
              ack.disabled = false;
            }
          };
          li.prepend(ack);
        }
        return li;
      }),
    );
  }

  /** The current (or next) session: time left, or time until it starts. */
  private renderClock(): void {
    const now = Date.now();
    const current = this.sessions.find(
      (s) => new Date(s.startsAt).getTime() <= now && new Date(s.endsAt).getTime() > now,
    );
    const next = this.sessions.find((s) => new Date(s.startsAt).getTime() > now);
    const fmt = (ms: number) => {
      const s = Math.max(0, Math.floor(ms / 1000));
      return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    };
    const clock = $('clock');
    if (current) {
      clock.textContent = `Session running · ${fmt(now - new Date(current.startsAt).getTime())} elapsed · ${fmt(new Date(current.endsAt).getTime() - now)} left`;
      clock.dataset.state = 'running';
    } else if (next) {
      clock.textContent = `Next session in ${fmt(new Date(next.startsAt).getTime() - now)}`;
      clock.dataset.state = 'waiting';
    } else {
      clock.textContent = 'No session';
      clock.dataset.state = 'none';
    }
  }

  stop(): void {
    clearInterval(this.clockTimer);
    this.socket?.close();
    for (const p of this.players) p.close();
  }
}

async function boot(): Promise<void> {
  const form = $<HTMLFormElement>('login');
  const stored = sessionStorage.getItem('user');
  let page: SupervisorPage | null = null;
  const open = async (api: Api, user: User) => {
    page = new SupervisorPage(api, user);
    try {
      await page.start();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) logout();
      else throw err;
    }
  };
  const logout = () => {
    page?.stop();
    sessionStorage.clear();
    location.reload();
  };
  $('logout').onclick = logout;
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      const { api, user } = await Api.login(String(data.get('username')), String(data.get('password')));
      await open(api, user);
    } catch (err) {
      $('login-error').textContent = err instanceof Error ? err.message : 'sign-in failed';
    }
  };
  if (stored && sessionStorage.getItem('token')) await open(new Api(), JSON.parse(stored) as User);
}

void boot();
