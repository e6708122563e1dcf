/**
 * This machine's float32 peaks per core, measured, so the engine's speed reads as a fraction of a limit:
 * - WebAssembly SIMD128: independent f32x4 multiply-add chains in a loop with no memory traffic (simdKernels.ts's
 *   peakModuleBytes), both as f32x4.mul + f32x4.add and, where the runtime has it, as f32x4.relaxed_madd; the best
 *   of chain counts 8–12 (fewer chains leave latency exposed, more spill registers). CPU time, best of 5 runs.
 * - Native AVX2/FMA: bench/peaks/fma_peak.c (12 chains of 256-bit vfmadd) built with the machine's C compiler.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bestKernelVariant, type KernelVariant, peakModuleBytes } from '../local/knn/simdKernels';

export interface PeakResult {
  /** GFLOP/s of one core (2 flops per lane per multiply-add). */
  wasm: { variant: KernelVariant; chains: number; gflops: number }[];
  wasmBestGflops: number;
  native?: { gflops: number; compiler: string };
  nativeSkipped?: string;
}

interface PeakInstance {
  exports: { peak: (iterations: number) => number };
}
const webAssembly = (
  globalThis as unknown as {
    WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => PeakInstance };
  }
).WebAssembly;

function wasmPeak(variant: KernelVariant, chains: number): number {
  const { peak } = new webAssembly.Instance(new webAssembly.Module(peakModuleBytes(variant, chains))).exports;
  const iterations = 10_000_000;
  peak(10_000);
  let best = 0;
  for (let run = 0; run < 5; run++) {
    const cpu = process.cpuUsage();
    peak(iterations);
    const seconds = process.cpuUsage(cpu).user / 1e6;
    best = Math.max(best, (iterations * chains * 4 * 2) / seconds / 1e9);
  }
  return best;
}

function nativePeak(): { gflops: number; compiler: string } | string {
  const directory = mkdtempSync(path.join(tmpdir(), 'knn-bench-peak-'));
  try {
    const binary = path.join(directory, 'fma_peak');
    const source = path.join(__dirname, 'peaks', 'fma_peak.c');
    const build = spawnSync('cc', ['-O2', '-mavx2', '-mfma', source, '-o', binary], { encoding: 'utf8' });
    if (build.error || build.status !== 0)
      return `native peak not measured: cc could not build ${source} (${build.error?.message ?? build.stderr.trim()})`;
    const run = spawnSync(binary, [], { encoding: 'utf8' });
    if (run.status !== 0) return `native peak not measured: the probe exited ${run.status} (no AVX2/FMA?)`;
    const version = spawnSync('cc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    return { gflops: (JSON.parse(run.stdout) as { gflops: number }).gflops, compiler: version };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function measurePeaks(): PeakResult {
  const variants: KernelVariant[] = bestKernelVariant() === 'relaxed-fma' ? ['simd128', 'relaxed-fma'] : ['simd128'];
  const wasm = variants.flatMap((variant) =>
    [8, 10, 12].map((chains) => ({ variant, chains, gflops: wasmPeak(variant, chains) })),
  );
  const native = nativePeak();
  return {
    wasm,
    wasmBestGflops: Math.max(...wasm.map((entry) => entry.gflops)),
    ...(typeof native === 'string' ? { nativeSkipped: native } : { native }),
  };
}
