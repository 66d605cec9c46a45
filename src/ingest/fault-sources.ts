import type { PictureFault } from './picture-checks.js';
import type { FaultChange } from './picture-watch.js';

/** Who says a picture fault is there: our own picture checks, or the camera's analytics (ONVIF events). */
export type FaultSource = 'checks' | 'camera';

/**
 * The camera's event topics we believe, and the picture fault each reports. Image too dark/bright
 * is left out on purpose: lights switched off is no fault.
 */
const TOPIC_FAULTS: [RegExp, PictureFault][] = [
  [/^RuleEngine\/TamperDetector\/Tamper$/, 'covered'],
  [/^VideoSource\/GlobalSceneChange\//, 'moved'],
  [/^VideoSource\/ImageTooBlurry\//, 'blurred'],
  [/^VideoSource\/SignalLoss$/, 'black'],
];

export function topicFault(topic: string): PictureFault | null {
  return TOPIC_FAULTS.find(([re]) => re.test(topic))?.[1] ?? null;
}

/**
 * Merges the two judgements of each picture fault: it is raised while either source says so and
 * cleared when neither does, and its detail names who says so (the camera with its event topic).
 */
export class FaultSources {
  private readonly by = new Map<PictureFault, Map<FaultSource, string>>();

  /** One source's judgement of one fault; the change of the merged fault, if any. */
  set(kind: PictureFault, source: FaultSource, active: boolean, what: string): FaultChange | null {
    const sources = this.by.get(kind) ?? new Map<FaultSource, string>();
    const before = sources.size > 0;
    if (active) sources.set(source, what);
    else sources.delete(source);
    this.by.set(kind, sources);
    const after = sources.size > 0;
    if (after) return { kind, active: true, detail: [...sources.values()].join('; ') };
    return before ? { kind, active: false } : null;
  }

  /** The sources of every active picture fault (GET /cameras/:id health.faultSources). */
  view(): Partial<Record<PictureFault, FaultSource[]>> {
    return Object.fromEntries([...this.by].filter(([, s]) => s.size > 0).map(([k, s]) => [k, [...s.keys()]]));
  }
}
