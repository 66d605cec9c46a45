import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/** The web application (web/dist, built by `npm run build:web`), from source or from dist/. */
export function webRoot(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../../web/dist'), path.resolve(here, '../../../web/dist')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

/**
 * Serves the web application for every role at /, when it has been built. Its pages live behind the
 * hash (#/sites, #/wall, ...), so only index.html and the hashed assets are ever requested.
 */
export function mountSupervisorPage(app: express.Express, root = webRoot()): void {
  if (!root) return;
  // Source maps stay with the build: they are for developers, not for every visitor of the page.
  app.use((req, res, next) => (req.path.endsWith('.map') ? res.status(404).end() : next()));
  app.use(express.static(root, { index: 'index.html', maxAge: '1h', setHeaders: noCacheHtml }));
}

function noCacheHtml(res: express.Response, file: string): void {
  if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}
