/** A hash router: '#/sites/:id' patterns, first match wins; the view gets the params and the query. */
export interface RouteMatch {
  params: Record<string, string>;
  query: URLSearchParams;
}
export interface RouteDef {
  pattern: string;
  render(match: RouteMatch): Promise<(() => void) | void> | (() => void) | void;
}

export class Router {
  private cleanup: (() => void) | void = undefined;
  private generation = 0;

  constructor(
    private readonly routes: RouteDef[],
    private readonly fallback: () => string,
  ) {}

  start(): void {
    window.addEventListener('hashchange', () => void this.resolve());
    void this.resolve();
  }

  stop(): void {
    this.cleanup?.();
    this.cleanup = undefined;
  }

  static go(path: string): void {
    if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = path;
  }

  /** The current hash path without its query. */
  static current(): string {
    return (location.hash.slice(1) || '/').split('?')[0]!;
  }

  private async resolve(): Promise<void> {
    const [path = '/', qs = ''] = (location.hash.slice(1) || '/').split('?');
    for (const r of this.routes) {
      const params = match(r.pattern, path);
      if (!params) continue;
      this.cleanup?.();
      this.cleanup = undefined;
      const gen = ++this.generation;
      const cleanup = await r.render({ params, query: new URLSearchParams(qs) });
      if (gen === this.generation) this.cleanup = cleanup;
      else cleanup?.();
      window.dispatchEvent(new CustomEvent('ess:routed', { detail: path }));
      return;
    }
    Router.go(this.fallback());
  }
}

function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(b[i]!);
    else if (p !== b[i]) return null;
  }
  return params;
}
