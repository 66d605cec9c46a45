import { describe, expect, it } from 'vitest';
import { concatArgs, concatList } from '../../src/batches/concat.js';
import { bridge, unexplainedGaps } from '../../src/batches/footage.js';
import { intersect, measure, subtract, union } from '../../src/batches/spans.js';
import { chainProblems } from '../../src/batches/verify.js';
import { escapeHtml } from '../../src/batches/report.js';
import { SeededRandom } from '../../src/batches/random.js';
import { drawSpotChecks } from '../../src/batches/spot-checks.js';

describe('span arithmetic', () => {
  it('unions, subtracts, intersects and measures', () => {
    expect(
      union([
        { from: 5, to: 8 },
        { from: 0, to: 3 },
        { from: 2, to: 4 },
      ]),
    ).toEqual([
      { from: 0, to: 4 },
      { from: 5, to: 8 },
    ]);
    expect(
      subtract({ from: 0, to: 10 }, [
        { from: 2, to: 4 },
        { from: 3, to: 6 },
        { from: 9, to: 12 },
      ]),
    ).toEqual([
      { from: 0, to: 2 },
      { from: 6, to: 9 },
    ]);
    expect(intersect([{ from: 0, to: 10 }], [{ from: 5, to: 15 }])).toEqual([{ from: 5, to: 10 }]);
    expect(
      measure([
        { from: 0, to: 10 },
        { from: 5, to: 15 },
      ]),
    ).toBe(15);
  });

  it('treats sub-tolerance holes between segments as continuous, not as gaps', () => {
    expect(
      bridge([
        { from: 0, to: 2000 },
        { from: 2003, to: 4000 },
      ]),
    ).toEqual([{ from: 0, to: 4000 }]);
    expect(
      unexplainedGaps(
        { from: 0, to: 10_000 },
        [
          { from: 0, to: 2000 },
          { from: 2003, to: 4000 },
        ],
        [{ from: 4000, to: 6000 }],
      ),
    ).toEqual([{ from: 6000, to: 10_000 }]);
  });
});

describe('export ffmpeg arguments', () => {
  it('joins by stream copy over a concat list with quotes escaped', () => {
    expect(concatArgs('/t/list.txt', '/t/out.mp4')).toEqual([
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      '/t/list.txt',
      '-map',
      '0',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '/t/out.mp4',
    ]);
    expect(concatList(['/a/b.mp4', "/a/it's.mp4"])).toBe("file '/a/b.mp4'\nfile '/a/it'\\''s.mp4'\n");
  });
});

describe('hash chain', () => {
  it('flags a segment whose link does not match its stored predecessor', () => {
    const seg = (id: string, prev: string | null) => ({
      id,
      cameraId: 'c',
      startedAt: new Date(0),
      endedAt: new Date(1),
      bytes: 1,
      sha256: `h-${id}`,
      prevSha256: prev,
      objectKey: id,
    });
    const links = new Map([
      ['2', { prevId: '1', prevSha256: 'h-1' }],
      ['3', { prevId: '2', prevSha256: 'h-2' }],
    ]);
    expect(chainProblems([seg('1', null), seg('2', 'h-1'), seg('3', 'h-x')], links)).toEqual([
      expect.objectContaining({ segmentId: '3', kind: 'chain_broken' }),
    ]);
  });
});

describe('seeded draws', () => {
  it('replay from the seed alone', () => {
    const a = new SeededRandom('seed');
    const b = new SeededRandom('seed');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const candidates = ['b1', 'b2', 'b3'].map((batchId) => ({
      batchId,
      sessions: [{ id: `${batchId}-s`, from: 0, to: 3600_000 }],
    }));
    const picks = drawSpotChecks('q', candidates, 2, 10);
    expect(picks).toHaveLength(2);
    expect(new Set(picks.map((p) => p.batchId)).size).toBe(2);
    expect(drawSpotChecks('q', [...candidates].reverse(), 2, 10)).toEqual(picks);
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
