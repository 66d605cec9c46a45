import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

/**
 * What each folder of src/ may import (besides itself); the README's layout section says the same.
 * `config` is the typed configuration at the repository root. The root files (app.ts composes the
 * modules per role, main.ts starts it) may import anything.
 */
const MAY_IMPORT: Record<string, string[]> = {
  platform: ['config'],
  audit: ['platform'],
  access: ['platform', 'audit'],
  sites: ['platform', 'audit', 'access'],
  ingest: ['platform', 'audit', 'access', 'sites', 'config'],
  recording: ['platform', 'audit', 'access', 'ingest', 'config'],
  // The types of the events the alert engine hears, declared by their emitters.
  alerts: ['platform', 'audit', 'access', 'sites', 'ingest', 'recording'],
  live: ['platform', 'audit', 'access', 'ingest', 'alerts'],
  // The readiness event's payload, declared by the alert engine that turns it into an alert.
  batches: ['platform', 'audit', 'access', 'sites', 'ingest', 'recording', 'alerts', 'config'],
  api: ['platform', 'audit', 'access', 'sites', 'ingest', 'recording', 'alerts', 'live', 'batches', 'config'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** The folder of src/ a file is in ('' for the root files), or 'config' for the configuration. */
function folderOf(file: string): string | null {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'config') return 'config';
  if (rel[0] !== 'src') return null;
  return rel.length > 2 ? rel[1]! : '';
}

/** Folder → folder edges, each with one file that makes it, from the imports TypeScript sees. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of tsFiles(src)) {
    const from = folderOf(file)!;
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = folderOf(path.resolve(path.dirname(file), fileName));
      if (to === null || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, path.relative(root, file));
    }
  }
  return graph;
}

/** Every cycle through folders, as a path a → b → … → a. */
function cycles(graph: Map<string, Map<string, string>>): string[] {
  const found = new Set<string>();
  const walk = (node: string, trail: string[]) => {
    for (const next of graph.get(node)?.keys() ?? []) {
      const at = trail.indexOf(next);
      if (at >= 0) found.add([...trail.slice(at), next].join(' → '));
      else walk(next, [...trail, next]);
    }
  };
  for (const start of graph.keys()) walk(start, [start]);
  return [...found];
}

describe('the folders of src/', () => {
  const graph = folderGraph();

  it('import one another without a loop', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('import only what the layout allows', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      if (from === '') continue;
      for (const [to, file] of targets)
        if (!(MAY_IMPORT[from] ?? []).includes(to))
          wrong.push(`${file} (${from}) imports ${to || 'the root'}`);
    }
    expect(wrong).toEqual([]);
  });

  it('keep HTTP serving in src/api: only it and the root import express', () => {
    const express = tsFiles(src)
      .filter((file) => !['api', ''].includes(folderOf(file)!))
      .filter((file) =>
        ts
          .preProcessFile(readFileSync(file, 'utf8'), true, true)
          .importedFiles.some((i) => i.fileName === 'express'),
      )
      .map((file) => path.relative(root, file));
    expect(express).toEqual([]);
  });

  it('are all in the layout', () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });
});
