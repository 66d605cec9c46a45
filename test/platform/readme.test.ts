import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../config/schema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFile(`${root}/${file}`, 'utf8');

/** `| \`NAME\` | \`default\` or unset | meaning |` rows of the configuration table. */
function configTable(readme: string): Map<string, { default: string; meaning: string }> {
  const rows = new Map<string, { default: string; meaning: string }>();
  for (const m of readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (`[^`]*`|unset) \| (.+) \|$/gm)) {
    rows.set(m[1]!, { default: m[2]!.replace(/`/g, ''), meaning: m[3]!.trim() });
  }
  return rows;
}

const shown = (v: unknown) => (v === undefined ? 'unset' : Array.isArray(v) ? v.join(',') : String(v));

/** The README is the newcomer's entry point: its commands, table and lists must match the code. */
describe('README.md', () => {
  it('opens with what the service is and the two commands, start and test', async () => {
    const readme = await read('README.md');
    const head = readme.slice(0, readme.indexOf('## '));
    expect(head).toMatch(/^# .+\n\n[^#]{200,}/);
    expect(head).toContain('```sh\nnpm run setup && npm start\n```');
    expect(head).toContain('```sh\nnpm test\n```');
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.setup).toBe('bash scripts/setup.sh');
    expect(pkg.scripts.prestart).toBe('npm run build');
    expect((await read('.ci/run')).trim().split('\n').at(-1)).toBe('npm test');
  });

  it('lists every configuration variable once, with its real default and a meaning', async () => {
    const table = configTable(await read('README.md'));
    const defaults = loadConfig({}) as Record<string, unknown>;
    const names = Object.keys(configSchema.shape);
    expect([...table.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      const row = table.get(name)!;
      expect(row.default, name).toBe(shown(defaults[name]));
      expect(row.meaning.length, name).toBeGreaterThan(3);
    }
  });

  it('says why each npm dependency is there', async () => {
    const readme = await read('README.md');
    const deps = readme.slice(readme.indexOf('## Dependencies'));
    const pkg = JSON.parse(await read('package.json')) as Record<string, Record<string, string>>;
    for (const name of [...Object.keys(pkg.dependencies!), ...Object.keys(pkg.devDependencies!)])
      expect(deps, name).toContain(`\`${name}\``);
  });

  it('points at the camera lab guide', async () => {
    expect(await read('README.md')).toContain('(lab/README.md)');
    await expect(access(`${root}/lab/README.md`)).resolves.toBeUndefined();
  });
});
