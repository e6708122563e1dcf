/**
 * The memory of one invocation, measured inside its sandbox (a worker thread): the local stand-in for the "Max
 * Memory Used" of Lambda's REPORT line. A worker thread shares its process with the local cloud and the other
 * sandboxes, so the process's resident set says nothing about one invocation; what a worker can measure of its own
 * is its V8 isolate: the heap (`heapUsed`, `heapTotal`) and the off-heap memory its objects hold (`external`, of which
 * `arrayBuffers`: Buffers and ArrayBuffers). Those are sampled every few milliseconds while the event loop turns and
 * once more at the end; a peak inside a long synchronous stretch, or garbage collected between two samples, is missed.
 */
import type { MemoryPeaks } from './protocol';

/** How often the peaks are sampled while an invocation runs. */
export const MEMORY_SAMPLE_INTERVAL_MS = 5;
/** The sandbox tells the invoker its peaks so far whenever the footprint has grown by this much (for timeouts). */
const GROWTH_REPORT_BYTES = 8 * 1024 * 1024;

type Usage = Pick<NodeJS.MemoryUsage, 'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers'>;

export function emptyPeaks(): MemoryPeaks {
  return { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, footprint: 0, processRss: 0, samples: 0 };
}

/** Folds one reading into the peaks (each figure's own maximum; the footprint is heapTotal + external together). */
export function addSample(peaks: MemoryPeaks, usage: Usage): void {
  peaks.heapUsed = Math.max(peaks.heapUsed, usage.heapUsed);
  peaks.heapTotal = Math.max(peaks.heapTotal, usage.heapTotal);
  peaks.external = Math.max(peaks.external, usage.external);
  peaks.arrayBuffers = Math.max(peaks.arrayBuffers, usage.arrayBuffers);
  peaks.footprint = Math.max(peaks.footprint, usage.heapTotal + usage.external);
  peaks.processRss = Math.max(peaks.processRss, usage.rss);
  peaks.samples += 1;
}

/** Samples the isolate's memory from start() to stop(); `onGrowth` hears the peaks when the footprint grows. */
export class MemorySampler {
  private peaks = emptyPeaks();
  private timer?: ReturnType<typeof setInterval>;
  private reported = 0;

  constructor(
    private readonly onGrowth?: (peaks: MemoryPeaks) => void,
    private readonly read: () => Usage = () => process.memoryUsage(),
  ) {}

  start(): void {
    this.peaks = emptyPeaks();
    this.reported = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), MEMORY_SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  sample(): void {
    addSample(this.peaks, this.read());
    if (this.onGrowth && this.peaks.footprint >= this.reported + GROWTH_REPORT_BYTES) {
      this.reported = this.peaks.footprint;
      this.onGrowth({ ...this.peaks });
    }
  }

  /** The last sample, and the peaks of the whole invocation. */
  stop(): MemoryPeaks {
    clearInterval(this.timer);
    this.timer = undefined;
    addSample(this.peaks, this.read());
    return { ...this.peaks };
  }
}

const MIB = 1024 * 1024;

/** Lambda writes megabytes as whole MiB, rounded up ("Max Memory Used: 87 MB"). */
export function wholeMb(bytes: number): number {
  return Math.ceil(bytes / MIB);
}
