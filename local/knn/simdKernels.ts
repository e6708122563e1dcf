/**
 * The distance kernels of the exact index, as a small WebAssembly module using 128-bit SIMD (4 float32 lanes).
 *
 * Why WebAssembly: plain JavaScript runs one float64 operation at a time with a bounds check per array read;
 * f32x4 arithmetic does four float32 pairs per instruction. Why hand-assembled: the module is about a kilobyte and a
 * build step (wat2wasm, a C toolchain) would weigh more than the tiny assembler below; each Body method emits one WAT
 * instruction of the same name.
 *
 * Each kernel is GEMM-style register tiling fused with top-k filtering: 4 queries × 8 stored points are accumulated
 * in 8 f32x4 registers over all dimensions (two point loads and four query broadcasts feed 16 multiply/accumulate
 * pairs per dimension), then compared with each query's current k-th best key; only a tile row holding a better key
 * is written out, as a "hit" record. No query × stored matrix is ever stored.
 *
 * Where the runtime has relaxed SIMD (Node 22+, or Node 20 with --experimental-wasm-relaxed-simd, which
 * enableRelaxedSimd sets), the expanded-L2 kernel accumulates with f32x4.relaxed_nmadd: one fused instruction per
 * pair instead of a multiply and a subtract. Its keys only pick candidates (searchCore.ts re-ranks them exactly, and
 * its error bound also covers a fused or unfused accumulation), so results do not depend on the variant. The exact
 * kernels (direct differences, inner products) never fuse: their values are the reported ones.
 *
 * Memory layout the kernels expect (all float32, little-endian, 16-byte aligned):
 * - stored points in groups of POINTS_PER_GROUP (8): for each dimension d, the group's 8 values at d (32 bytes); a
 *   group may be preceded by a 32-byte bias row (the 8 points' squared norms for the expanded L2 kernel), so groups
 *   are `groupBytes` apart and `storedPtr` addresses dimension 0 of the first group;
 * - queries in groups of QUERIES_PER_GROUP (4), interleaved the same way (16·dim bytes per group);
 * - thresholds: one float32 per query (a key must be strictly below it to be a hit);
 * - hits: HIT_RECORD_BYTES each — int32 query (within the call), int32 stored group (within the call), 8 bytes
 *   unused, then the 8 float32 keys of that query and group.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * kernel(queryPtr, queryGroups, storedPtr, storedGroups, dim, groupBytes, thresholdPtr, hitPtr) → end of the hits
 * written (a byte address ≥ hitPtr). The caller sizes the hit buffer for the worst case: 4 · queryGroups · storedGroups
 * records.
 */
export type HitKernel = (
  queryPtr: number,
  queryGroups: number,
  storedPtr: number,
  storedGroups: number,
  dim: number,
  groupBytes: number,
  thresholdPtr: number,
  hitPtr: number,
) => number;

export interface SimdKernels {
  /**
   * `‖x‖² − 2q·x`, the L2 ranking key without the query's constant ‖q‖²: queries must be stored pre-multiplied by 2
   * (exact in float32), the bias row holds ‖x‖². Accumulated as 0 − x₀(2q₀) − x₁(2q₁) … then + ‖x‖²: two float32
   * operations per pair instead of three, at the price of rounding that differs from direct differences.
   */
  expandedL2HitTile: HitKernel;
  /** Negated inner product, 0 − x₀q₀ − x₁q₁ …, exactly −(the in-order float32 dot product): smaller is better. */
  negatedInnerProductHitTile: HitKernel;
  /**
   * Squared L2 distance from direct differences, `sum = fround(sum + fround(t · t))`, `t = fround(x − q)`, summed over
   * dimensions in order: the exact reference value.
   */
  squaredL2HitTile: HitKernel;
}

export const WASM_PAGE_BYTES = 65536;
/** wasm32 addresses: 65536 pages of 64 KiB. */
export const MAX_WASM_PAGES = 65536;
export const QUERIES_PER_GROUP = 4;
// Two vectors (8 stored points) per group: 8 accumulators + 2 point vectors + 1 temporary fit x64's 16 xmm registers.
const POINT_VECTORS = 2;
export const POINTS_PER_GROUP = 4 * POINT_VECTORS;
export const HIT_RECORD_BYTES = 16 + 4 * POINTS_PER_GROUP;

/** The part of WebAssembly.Memory the engine uses (the project's TypeScript libs do not declare WebAssembly). */
export interface KernelMemory {
  /** A SharedArrayBuffer: the memory is shared so worker threads search the same stored points without a copy. */
  readonly buffer: SharedArrayBuffer;
  /** Adds `pages` 64 KiB pages (a shared memory never moves: views taken earlier stay valid at their old length). */
  grow(pages: number): number;
}

interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => KernelMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const webAssembly = (
  globalThis as unknown as { WebAssembly: WebAssemblyApi & { validate(bytes: Uint8Array): boolean } }
).WebAssembly;

/** `relaxed-fma`: the expanded-L2 kernel fuses multiply and add (relaxed SIMD); `simd128`: SIMD128 only. */
export type KernelVariant = 'relaxed-fma' | 'simd128';

const compiled = new Map<KernelVariant, object>();
const moduleBytes = new Map<KernelVariant, Uint8Array>();
let detectedVariant: KernelVariant | undefined;
let pinnedVariant: KernelVariant | undefined;

/** Whether this runtime validates a module using f32x4.relaxed_nmadd. */
function relaxedSimdValidates(): boolean {
  try {
    return webAssembly.validate(buildModule('relaxed-fma'));
  } catch {
    return false;
  }
}

/**
 * The fastest variant this runtime runs, detected once: relaxed SIMD if the module validates, after turning on
 * Node 20's experimental flag (V8 reads it at compile time, and worker threads share it); else SIMD128 alone.
 */
export function bestKernelVariant(): KernelVariant {
  if (detectedVariant) return detectedVariant;
  if (!relaxedSimdValidates()) {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  }
  detectedVariant = relaxedSimdValidates() ? 'relaxed-fma' : 'simd128';
  return detectedVariant;
}

/**
 * Pins the variant every later index and worker pool uses (tests and the bench compare both; 'relaxed-fma' throws
 * where the runtime cannot validate it). Call it before the first index is built, or stop the worker pool after.
 */
export function useKernelVariant(variant: KernelVariant): void {
  if (variant === 'relaxed-fma' && bestKernelVariant() !== 'relaxed-fma')
    throw new Error('relaxed SIMD is not available in this runtime');
  pinnedVariant = variant;
}

/** The variant new indexes and worker pools use: the pinned one, else the best this runtime runs. */
export function activeKernelVariant(): KernelVariant {
  return pinnedVariant ?? bestKernelVariant();
}

/** The module's binary (built once per variant), e.g. for worker threads to compile their own copy. */
export function kernelModuleBytes(variant: KernelVariant = activeKernelVariant()): Uint8Array {
  let bytes = moduleBytes.get(variant);
  if (!bytes) {
    bytes = buildModule(variant);
    moduleBytes.set(variant, bytes);
  }
  return bytes;
}

/** A fresh shared kernel memory: one page, growable to 4 GiB. */
export function createKernelMemory(): KernelMemory {
  return new webAssembly.Memory({ initial: 1, maximum: MAX_WASM_PAGES, shared: true });
}

/** The kernels bound to `memory`; compiles the module once per thread and variant. */
export function createKernels(memory: KernelMemory, variant: KernelVariant = activeKernelVariant()): SimdKernels {
  let module = compiled.get(variant);
  if (!module) {
    module = new webAssembly.Module(kernelModuleBytes(variant));
    compiled.set(variant, module);
  }
  const { exports } = new webAssembly.Instance(module, { env: { memory } });
  return {
    expandedL2HitTile: exports.expandedL2HitTile as HitKernel,
    negatedInnerProductHitTile: exports.negatedInnerProductHitTile as HitKernel,
    squaredL2HitTile: exports.squaredL2HitTile as HitKernel,
  };
}

// --- a minimal WebAssembly binary assembler -------------------------------------------------------------------

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY_BLOCK = 0x40;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** One WAT instruction per method; `code` accumulates the function body. */
class Body {
  readonly code: number[] = [];

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number, ...immediates: number[]): this {
    return this.emit(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  get(local: number): this {
    return this.emit(0x20, ...unsignedLeb(local));
  }
  set(local: number): this {
    return this.emit(0x21, ...unsignedLeb(local));
  }
  tee(local: number): this {
    return this.emit(0x22, ...unsignedLeb(local));
  }
  i32Const(value: number): this {
    return this.emit(0x41, ...signedLeb(value));
  }
  i32Add(): this {
    return this.emit(0x6a);
  }
  i32Sub(): this {
    return this.emit(0x6b);
  }
  i32Mul(): this {
    return this.emit(0x6c);
  }
  i32LeS(): this {
    return this.emit(0x4c);
  }
  i32LtU(): this {
    return this.emit(0x49);
  }
  i32GeU(): this {
    return this.emit(0x4f);
  }
  /** i32.store align=4 offset */
  i32Store(offset: number): this {
    return this.emit(0x36, 2, ...unsignedLeb(offset));
  }
  block(): this {
    return this.emit(0x02, EMPTY_BLOCK);
  }
  loop(): this {
    return this.emit(0x03, EMPTY_BLOCK);
  }
  /** if (no result): pops the i32 condition */
  if(): this {
    return this.emit(0x04, EMPTY_BLOCK);
  }
  br(depth: number): this {
    return this.emit(0x0c, ...unsignedLeb(depth));
  }
  brIf(depth: number): this {
    return this.emit(0x0d, ...unsignedLeb(depth));
  }
  end(): this {
    return this.emit(0x0b);
  }
  /** v128.load align=16 offset */
  v128Load(offset = 0): this {
    return this.simd(0x00, 4, ...unsignedLeb(offset));
  }
  /** v128.store align=16 offset */
  v128Store(offset = 0): this {
    return this.simd(0x0b, 4, ...unsignedLeb(offset));
  }
  /** v128.load32_splat align=4 offset: one float32 copied to all 4 lanes */
  v128Load32Splat(offset: number): this {
    return this.simd(0x09, 2, ...unsignedLeb(offset));
  }
  v128ZeroConst(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** relaxed SIMD: a·b + c, fused or not as the hardware does it best */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  /** relaxed SIMD: c − a·b, fused or not as the hardware does it best */
  f32x4RelaxedNmadd(): this {
    return this.simd(0x106);
  }
  f32x4ExtractLane0(): this {
    return this.simd(0x1f, 0);
  }
  /** lane-wise a < b as all-ones / all-zeros masks (false for NaN) */
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  /** 1 if any bit of the vector is set */
  v128AnyTrue(): this {
    return this.simd(0x53);
  }
}

// Locals of every kernel (parameters first).
const QUERY_PTR = 0;
const QUERY_GROUPS = 1;
const STORED_PTR = 2;
const STORED_GROUPS = 3;
const DIM = 4;
const GROUP_BYTES = 5;
const THRESHOLD_PTR = 6;
const HIT_PTR = 7;
const PARAMETERS = 8;
const QUERY_GROUP_BYTES = 8;
const QUERY_END = 9;
const STORED_END = 10;
const QUERY_GROUP = 11;
const STORED_GROUP = 12;
const STORED_AT = 13;
const QUERY_AT = 14;
const DIMS_END = 15;
const THRESHOLD_AT = 16;
const HIT_AT = 17;
const QUERY_INDEX = 18;
const GROUP_INDEX = 19;
const I32_LOCALS = 12;
const POINTS = Array.from({ length: POINT_VECTORS }, (_, v) => 20 + v);
const TEMPORARY = 20 + POINT_VECTORS;
const DIFFERENCE = 21 + POINT_VECTORS;
// ACCUMULATORS[query][vector]
const ACCUMULATORS = Array.from({ length: QUERIES_PER_GROUP }, (_, q) =>
  Array.from({ length: POINT_VECTORS }, (_, v) => 22 + POINT_VECTORS + q * POINT_VECTORS + v),
);
const V128_LOCALS = 2 + POINT_VECTORS + QUERIES_PER_GROUP * POINT_VECTORS;
/** Bytes of one dimension of a stored group (8 float32). */
const STORED_DIM_BYTES = 4 * POINTS_PER_GROUP;
/** Bytes of one dimension of a query group (4 float32). */
const QUERY_DIM_BYTES = 4 * QUERIES_PER_GROUP;

/** Updates `accumulator` with the point vector in local `points` and the broadcast query value in TEMPORARY. */
type Combine = (body: Body, accumulator: number, points: number) => void;

/**
 * for each group of 4 queries, for each group of 8 stored points:
 *   acc[q][v] = 0; for d: x[v] = stored[d] (points 4v..4v+3); acc[q][v] = combine(acc[q][v], x[v], query q at d)
 *   (withBias) acc[q][v] += bias row[v]
 *   if some acc[q][·] lane < threshold[q]: append the hit record (q, group, acc[q][0], acc[q][1])
 * Returns the end address of the hits.
 */
function hitKernel(combine: Combine, withBias: boolean): number[] {
  const b = new Body();
  b.get(DIM).i32Const(QUERY_DIM_BYTES).i32Mul().set(QUERY_GROUP_BYTES);
  b.get(QUERY_PTR).get(QUERY_GROUPS).get(QUERY_GROUP_BYTES).i32Mul().i32Add().set(QUERY_END);
  b.get(STORED_PTR).get(STORED_GROUPS).get(GROUP_BYTES).i32Mul().i32Add().set(STORED_END);
  b.get(HIT_PTR).set(HIT_AT);
  b.get(QUERY_PTR).set(QUERY_GROUP);
  b.get(THRESHOLD_PTR).set(THRESHOLD_AT);
  b.i32Const(0).set(QUERY_INDEX);
  b.block().loop(); // query groups
  b.get(QUERY_GROUP).get(QUERY_END).i32GeU().brIf(1);
  b.get(STORED_PTR).set(STORED_GROUP);
  b.i32Const(0).set(GROUP_INDEX);
  b.block().loop(); // stored groups
  b.get(STORED_GROUP).get(STORED_END).i32GeU().brIf(1);
  for (const accumulator of ACCUMULATORS.flat()) b.v128ZeroConst().set(accumulator);
  b.get(STORED_GROUP).tee(STORED_AT).get(DIM).i32Const(STORED_DIM_BYTES).i32Mul().i32Add().set(DIMS_END);
  b.get(QUERY_GROUP).set(QUERY_AT);
  b.loop(); // dimensions (unrolling measured slower: V8 then hoists the loads and spills accumulators)
  POINTS.forEach((points, v) =>
    b
      .get(STORED_AT)
      .v128Load(16 * v)
      .set(points),
  );
  ACCUMULATORS.forEach((row, q) => {
    // One broadcast of query q's value serves both point vectors.
    b.get(QUERY_AT)
      .v128Load32Splat(4 * q)
      .set(TEMPORARY);
    row.forEach((accumulator, v) => combine(b, accumulator, POINTS[v]));
  });
  b.get(QUERY_AT).i32Const(QUERY_DIM_BYTES).i32Add().set(QUERY_AT);
  b.get(STORED_AT).i32Const(STORED_DIM_BYTES).i32Add().tee(STORED_AT);
  b.get(DIMS_END).i32LtU().brIf(0);
  b.end();
  if (withBias) {
    // The bias row sits just before dimension 0 of the group.
    POINTS.forEach((points, v) =>
      b
        .get(STORED_GROUP)
        .i32Const(STORED_DIM_BYTES)
        .i32Sub()
        .v128Load(16 * v)
        .set(points),
    );
    ACCUMULATORS.forEach((row) =>
      row.forEach((accumulator, v) => b.get(accumulator).get(POINTS[v]).f32x4Add().set(accumulator)),
    );
  }
  const belowThreshold = (q: number): void => {
    ACCUMULATORS[q].forEach((accumulator, v) => {
      b.get(accumulator)
        .get(THRESHOLD_AT)
        .v128Load32Splat(4 * q)
        .f32x4Lt();
      if (v > 0) b.v128Or();
    });
  };
  // One combined test per tile keeps the common no-hit path to a single branch.
  for (let q = 0; q < QUERIES_PER_GROUP; q++) {
    belowThreshold(q);
    if (q > 0) b.v128Or();
  }
  b.v128AnyTrue().if();
  for (let q = 0; q < QUERIES_PER_GROUP; q++) {
    belowThreshold(q);
    b.v128AnyTrue().if();
    b.get(HIT_AT).get(QUERY_INDEX).i32Const(q).i32Add().i32Store(0);
    b.get(HIT_AT).get(GROUP_INDEX).i32Store(4);
    ACCUMULATORS[q].forEach((accumulator, v) =>
      b
        .get(HIT_AT)
        .get(accumulator)
        .v128Store(16 + 16 * v),
    );
    b.get(HIT_AT).i32Const(HIT_RECORD_BYTES).i32Add().set(HIT_AT);
    b.end();
  }
  b.end();
  b.get(STORED_GROUP).get(GROUP_BYTES).i32Add().set(STORED_GROUP);
  b.get(GROUP_INDEX).i32Const(1).i32Add().set(GROUP_INDEX);
  b.br(0).end().end();
  b.get(QUERY_GROUP).get(QUERY_GROUP_BYTES).i32Add().set(QUERY_GROUP);
  b.get(THRESHOLD_AT)
    .i32Const(4 * QUERIES_PER_GROUP)
    .i32Add()
    .set(THRESHOLD_AT);
  b.get(QUERY_INDEX).i32Const(QUERIES_PER_GROUP).i32Add().set(QUERY_INDEX);
  b.br(0).end().end();
  b.get(HIT_AT);
  b.end();
  const locals = [
    [...unsignedLeb(I32_LOCALS), I32],
    [...unsignedLeb(V128_LOCALS), V128],
  ];
  const body = [...vector(locals), ...b.code];
  return [...unsignedLeb(body.length), ...body];
}

/** accumulator −= x · q */
function negatedProduct(b: Body, accumulator: number, points: number): void {
  b.get(accumulator);
  b.get(points).get(TEMPORARY).f32x4Mul();
  b.f32x4Sub().set(accumulator);
}

/** accumulator −= x · q, in one relaxed (possibly fused) instruction */
function fusedNegatedProduct(b: Body, accumulator: number, points: number): void {
  b.get(points).get(TEMPORARY).get(accumulator).f32x4RelaxedNmadd().set(accumulator);
}

/** accumulator += (x − q)² */
function squaredDifference(b: Body, accumulator: number, points: number): void {
  b.get(accumulator);
  b.get(points).get(TEMPORARY).f32x4Sub().tee(DIFFERENCE);
  b.get(DIFFERENCE).f32x4Mul();
  b.f32x4Add().set(accumulator);
}

function buildModule(variant: KernelVariant): Uint8Array {
  const kernelType = [0x60, ...vector(new Array<number[]>(PARAMETERS).fill([I32])), ...vector([[I32]])];
  // Shared memory (limits flag 3: shared, with maximum), so worker threads can instantiate on the same memory.
  const memoryImport = [
    ...name('env'),
    ...name('memory'),
    0x02,
    0x03,
    ...unsignedLeb(1),
    ...unsignedLeb(MAX_WASM_PAGES),
  ];
  const exported = (text: string, index: number): number[] => [...name(text), 0x00, ...unsignedLeb(index)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([kernelType])),
    ...section(2, vector([memoryImport])),
    ...section(3, vector([[0], [0], [0]])),
    ...section(
      7,
      vector([
        exported('expandedL2HitTile', 0),
        exported('negatedInnerProductHitTile', 1),
        exported('squaredL2HitTile', 2),
      ]),
    ),
    ...section(
      10,
      vector([
        hitKernel(variant === 'relaxed-fma' ? fusedNegatedProduct : negatedProduct, true),
        hitKernel(negatedProduct, false),
        hitKernel(squaredDifference, false),
      ]),
    ),
  ]);
}

/**
 * For the bench's peak figure: `peak(iterations)` runs `iterations` × 12 independent f32x4 multiply-adds (12 chains
 * hide the latency; nothing touches memory) and returns a lane of their sum. 'simd128': f32x4.mul then f32x4.add
 * (what the exact kernels use); 'relaxed-fma': f32x4.relaxed_madd.
 */
export function peakModuleBytes(variant: KernelVariant, chains = 12): Uint8Array {
  const counter = 0;
  const factor = 1;
  const addend = 2;
  const accumulators = Array.from({ length: chains }, (_, i) => 3 + i);
  const b = new Body();
  b.v128ZeroConst().set(factor);
  b.v128ZeroConst().set(addend);
  b.block().loop();
  b.get(counter).i32Const(0).i32LeS().brIf(1);
  for (const accumulator of accumulators) {
    if (variant === 'relaxed-fma') b.get(accumulator).get(factor).get(addend).f32x4RelaxedMadd().set(accumulator);
    else b.get(accumulator).get(factor).f32x4Mul().get(addend).f32x4Add().set(accumulator);
  }
  b.get(counter).i32Const(1).i32Sub().set(counter);
  b.br(0).end().end();
  b.get(accumulators[0]);
  for (const accumulator of accumulators.slice(1)) b.get(accumulator).f32x4Add();
  b.f32x4ExtractLane0().end();
  const body = [...vector([[...unsignedLeb(chains + 2), V128]]), ...b.code];
  const F32 = 0x7d;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector([[I32]]), ...vector([[F32]])]])),
    ...section(3, vector([[0]])),
    ...section(7, vector([[...name('peak'), 0x00, 0]])),
    ...section(10, vector([[...unsignedLeb(body.length), ...body]])),
  ]);
}
