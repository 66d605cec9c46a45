import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');
const migrations = path.join(src, 'platform', 'migrations');

/**
 * Which folder owns each table; the README's layout section says the same. Only the owner reads
 * and writes its tables; other folders ask it (its repository or service).
 */
const OWNER: Record<string, string> = {
  deployment: 'platform',
  audit_log: 'audit',
  users: 'access',
  auth_tokens: 'access',
  units: 'sites',
  sites: 'sites',
  zones: 'sites',
  camera_zones: 'sites',
  cameras: 'ingest',
  camera_references: 'ingest',
  segments: 'recording',
  recording_gaps: 'recording',
  footage_holds: 'recording',
  batches: 'batches',
  batch_sessions: 'batches',
  session_supervisors: 'batches',
  session_opinions: 'batches',
  session_readiness_alerts: 'batches',
  dispatch_draws: 'batches',
  spot_checks: 'batches',
  batch_exports: 'batches',
  alerts: 'alerts',
  alert_timeline: 'alerts',
  live_events: 'alerts',
};

/** Views an owner publishes for set-based reads by other folders (read only). */
const PUBLISHED_VIEWS: Record<string, string> = { batch_session_windows: 'batches' };

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** The text of every string and template literal in a file (comments are not literals). */
function literals(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node))
      out.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const SQL = /\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z_][a-z0-9_]*)/gi;

describe('tables', () => {
  it('each created by a migration has an owner', () => {
    const created = tsFiles(migrations).flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/g)].map((m) => m[1]!),
    );
    expect(created.length).toBeGreaterThan(20);
    expect(created.filter((t) => !(t in OWNER))).toEqual([]);
  });

  it('are queried only by the folder that owns them', () => {
    const wrong = new Set<string>();
    for (const file of tsFiles(src)) {
      if (file.startsWith(migrations)) continue;
      const rel = path.relative(src, file).split(path.sep);
      const folder = rel.length > 1 ? rel[0]! : '';
      for (const text of literals(file))
        for (const m of text.matchAll(SQL)) {
          const owner = OWNER[m[2]!];
          if (owner && owner !== folder)
            wrong.add(`${path.relative(root, file)} (${folder || 'root'}) queries ${m[2]} (${owner})`);
        }
    }
    expect([...wrong]).toEqual([]);
  });

  it('published views are only read by other folders', () => {
    const wrong = new Set<string>();
    for (const file of tsFiles(src)) {
      if (file.startsWith(migrations)) continue;
      for (const text of literals(file))
        for (const view of Object.keys(PUBLISHED_VIEWS))
          if (new RegExp(`\\b(INTO|UPDATE|TABLE)\\s+${view}\\b`, 'i').test(text))
            wrong.add(`${path.relative(root, file)} writes ${view}`);
    }
    expect([...wrong]).toEqual([]);
  });
});
