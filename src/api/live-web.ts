import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/** The supervisor page (web/dist, built by `npm run build:web`), from source or from dist/. */
export function webRoot(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../../web/dist'), path.resolve(here, '../../../web/dist')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

/** Serves the supervisor page at /, when it has been built. */
export function mountSupervisorPage(app: express.Express): void {
  const root = webRoot();
  if (!root) return;
  app.use(express.static(root, { index: 'index.html', maxAge: '1h', setHeaders: noCacheHtml }));
}

function noCacheHtml(res: express.Response, file: string): void {
  if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}
