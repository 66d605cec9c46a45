import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startLab } from './index.js';

const USAGE = `usage: npm run lab -- --cameras N [--mode live|scale|room] [--width 1280 --height 720 --fps 15]
                      [--scene classroom/3 [--scene empty/7 ...]] [--name-prefix "Room A"] [--discovery]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string', default: '2' },
      mode: { type: 'string' },
      scene: { type: 'string', multiple: true },
      width: { type: 'string' },
      height: { type: 'string' },
      fps: { type: 'string' },
      'name-prefix': { type: 'string' },
      discovery: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const int = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));
  const mode = values.mode;
  if (mode !== undefined && mode !== 'live' && mode !== 'scale' && mode !== 'room') throw new Error(USAGE);
  const lab = await startLab({
    cameras: int(values.cameras) ?? 2,
    mode,
    width: int(values.width),
    height: int(values.height),
    fps: int(values.fps),
    namePrefix: values['name-prefix'],
    scenes: values.scene,
    discovery: values.discovery,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`lab: ${signal}, stopping`);
    lab.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // `npm run` dies on SIGTERM without passing it on, leaving tsx (our parent) orphaned: notice
  // that our grandparent went away and stop too, so no server is left behind.
  const grandparent = () => {
    try {
      return Number(readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    } catch {
      return 1;
    }
  };
  const firstGrandparent = grandparent();
  if (firstGrandparent > 1) {
    setInterval(() => {
      if (grandparent() !== firstGrandparent) shutdown('launcher gone');
    }, 1000).unref();
  }

  for (const c of lab.cameras) {
    console.log(
      JSON.stringify({
        id: c.id,
        name: c.name,
        username: c.username,
        password: c.password,
        onvif: c.onvif.xaddr,
        rtspMain: c.rtsp.main,
        rtspSub: c.rtsp.sub,
        snapshot: c.snapshotUrl,
        main: c.main,
        sub: c.sub,
        ...(lab.scene(c.id) ? { scene: lab.scene(c.id) } : {}),
      }),
    );
  }
  console.log(JSON.stringify({ control: lab.controlUrl, mode: lab.mode }));
  console.error(`lab: ${lab.cameras.length} camera(s) running in ${lab.mode} mode; Ctrl-C to stop`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
