// The fuzz engine: fast-check generates and shrinks, the targets give it structure.
//
// An input is a seed from the corpus plus a list of mutations (byte edits that hit lengths and offsets, and, for
// targets that decode to a value, edits of one field). fast-check draws the seed index and the mutation list, so a
// failing input shrinks to the fewest mutations of the first seed that still fail: that is the minimization.
// There is no coverage feedback (Jazzer.js, the coverage-guided engine, does not load on this glibc: see
// docs/fuzzing.md); depth comes from the seeds being real messages, states and files.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";

/** test/fuzz in the source tree (this file runs from dist/test/fuzz). */
export const FUZZ_SRC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../test/fuzz");
export const CORPUS_DIR = join(FUZZ_SRC_DIR, "corpus");
export const REGRESSIONS_DIR = join(FUZZ_SRC_DIR, "regressions");

export interface FuzzTarget {
  name: string;
  /** One line for --list and the docs. */
  description: string;
  /** The corpus/<dir> it starts from, when not its own name (the differential target shares the block target's). */
  corpus?: string;
  /** Seeds besides the committed corpus/<name>/ files (built in code, or read from the spec vectors if present). */
  seeds?(): Uint8Array[];
  /** Builds the inputs: default is byte mutations of the seeds (mutatedBytes). */
  arbitrary?(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array>;
  /**
   * Runs one input; throws a FuzzFinding (or anything the target did not expect) when the input exposes a bug.
   * May return a label of the outcome ("rejected", "accepted", ...): the run reports how often each came up.
   */
  run(input: Uint8Array): void | string | Promise<void | string>;
  /** Loaded once before the first run (e.g. a pre-state); a target that cannot run here throws a FuzzSkip. */
  setup?(): void | Promise<void>;
}

/** A broken property (wrong error type, failed round trip, state changed by a rejected operation, divergence). */
export class FuzzFinding extends Error {
  override name = "FuzzFinding";
}

/** The target cannot run on this machine (e.g. Lodestar not installable); a skip, not a failure. */
export class FuzzSkip extends Error {
  override name = "FuzzSkip";
}

/** The error classes a decoder may throw on bad input besides its own: bounds checks of DataView and friends. */
export function isPlainRejection(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  // TypeError/ReferenceError are bugs (a field read on undefined); an allocation failure is memory exhaustion
  if (e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError) return false;
  if (/Invalid array length|Array buffer allocation failed|Invalid typed array length|Maximum call stack/.test(e.message)) return false;
  return true;
}

/** Wraps an unexpected exception as a finding, keeping the original for the report. */
export function unexpected(where: string, e: unknown): FuzzFinding {
  const err = e instanceof Error ? e : new Error(String(e));
  const f = new FuzzFinding(`${where}: unexpected ${err.name}: ${err.message}`, { cause: err });
  if (err.stack) f.stack = `${f.name}: ${f.message}\n${err.stack}`;
  return f;
}

export function corpusOf(name: string): Uint8Array[] {
  const dir = join(CORPUS_DIR, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

// ------------------------------------------------------------------------------------------------ byte mutations

/** Values that make lengths and offsets interesting: zero, ones, signed/unsigned edges, the 4-byte SSZ offset size. */
const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_U8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

export type ByteMutation =
  | { k: "flip"; pos: number; bit: number }
  | { k: "byte"; pos: number; v: number }
  | { k: "u32"; pos: number; v: number; delta: number }
  | { k: "insert"; pos: number; bytes: Uint8Array }
  | { k: "delete"; pos: number; len: number }
  | { k: "truncate"; len: number }
  | { k: "dup"; pos: number; len: number }
  | { k: "splice"; pos: number; other: number; from: number; len: number };

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ k: fc.constant("flip" as const), pos: fc.nat(), bit: fc.nat(7) }),
  fc.record({ k: fc.constant("byte" as const), pos: fc.nat(), v: fc.oneof(fc.constantFrom(...INTERESTING_U8), fc.nat(255)) }),
  fc.record({ k: fc.constant("u32" as const), pos: fc.nat(), v: fc.constantFrom(...INTERESTING_U32), delta: fc.integer({ min: -2, max: 2 }) }),
  fc.record({ k: fc.constant("insert" as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ k: fc.constant("delete" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant("truncate" as const), len: fc.nat() }),
  fc.record({ k: fc.constant("dup" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 256 }) }),
  fc.record({ k: fc.constant("splice" as const), pos: fc.nat(), other: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 512 }) }),
);

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function applyByteMutation(b: Uint8Array, m: ByteMutation, seeds: Uint8Array[]): Uint8Array {
  const n = b.length;
  switch (m.k) {
    case "flip": {
      if (n === 0) return b;
      const out = b.slice();
      out[m.pos % n]! ^= 1 << m.bit;
      return out;
    }
    case "byte": {
      if (n === 0) return Uint8Array.of(m.v);
      const out = b.slice();
      out[m.pos % n] = m.v;
      return out;
    }
    case "u32": {
      if (n < 4) return b;
      const out = b.slice();
      const pos = m.pos % (n - 3);
      // a value near the input's own length hits "offset just past the end" cases
      const v = (m.v === 3 ? n : m.v) + m.delta;
      new DataView(out.buffer).setUint32(pos, v >>> 0, true);
      return out;
    }
    case "insert": {
      const pos = m.pos % (n + 1);
      return cat(b.subarray(0, pos), m.bytes, b.subarray(pos));
    }
    case "delete": {
      if (n === 0) return b;
      const pos = m.pos % n;
      return cat(b.subarray(0, pos), b.subarray(Math.min(n, pos + m.len)));
    }
    case "truncate":
      return n === 0 ? b : b.subarray(0, m.len % n);
    case "dup": {
      if (n === 0) return b;
      const pos = m.pos % n;
      const piece = b.subarray(pos, Math.min(n, pos + m.len));
      return cat(b.subarray(0, pos), piece, b.subarray(pos));
    }
    case "splice": {
      const other = seeds[m.other % seeds.length]!;
      if (other.length === 0) return b;
      const from = m.from % other.length;
      const pos = m.pos % (n + 1);
      return cat(b.subarray(0, pos), other.subarray(from, Math.min(other.length, from + m.len)), b.subarray(pos));
    }
  }
}

/** A seed (shrinks towards the first) with up to `maxMutations` byte mutations (shrinks towards none). */
export function mutatedBytes(seeds: Uint8Array[], maxMutations = 6): fc.Arbitrary<Uint8Array> {
  const pool = seeds.length > 0 ? seeds : [new Uint8Array(0)];
  return fc
    .record({ seed: fc.nat(pool.length - 1), muts: fc.array(byteMutationArb, { maxLength: maxMutations }) })
    .map(({ seed, muts }) => muts.reduce((b, m) => applyByteMutation(b, m, pool), pool[seed]!));
}

// ------------------------------------------------------------------------------------------------ running

export interface RunOptions {
  seconds?: number;
  runs?: number;
  seed?: number;
  /** One input taking longer than this is a finding (a hang that ends). Default 10 s: far above any target's norm. */
  slowInputMs?: number;
  /** Called with each input before it runs (the child process records it, so a crash or hang names its input). */
  onInput?: (input: Uint8Array) => void;
}

export interface RunResult {
  target: string;
  execs: number;
  seconds: number;
  seeds: number;
  /** fast-check's seed for this run: `--seed` replays it. */
  seed: number;
  finding: { message: string; input: string; stack?: string } | null;
  skipped?: string;
  /** how many inputs ended in each outcome label the target returned */
  outcomes?: Record<string, number>;
}

export function seedsOf(t: FuzzTarget): Uint8Array[] {
  const seen = new Set<string>();
  return [...corpusOf(t.corpus ?? t.name), ...(t.seeds?.() ?? [])].filter((s) => {
    const key = Buffer.from(s).toString("hex");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Runs `t`: first every seed as is, then mutated inputs until `seconds` or `runs` is reached. A failure is shrunk
 * by fast-check and reported with the minimized input (hex).
 */
export async function runTarget(t: FuzzTarget, opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
  const base = { target: t.name, seed, execs: 0 } as { target: string; seed: number; execs: number; outcomes?: Record<string, number> };
  try {
    await t.setup?.();
  } catch (e) {
    if (e instanceof FuzzSkip) return { ...base, seconds: 0, seeds: 0, finding: null, skipped: e.message };
    throw e;
  }
  const seeds = seedsOf(t);
  let execs = 0;
  const outcomes: Record<string, number> = {};
  let lastYield = performance.now();
  const exec = async (input: Uint8Array): Promise<void> => {
    execs++;
    // Let the event loop turn now and then, as it does in a node: native buffers (snappy's) are freed by
    // finalizers that run only then, so a run that never yields grows its RSS without bound (docs/fuzzing.md)
    if (performance.now() - lastYield > 20) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    opts.onInput?.(input);
    const t0 = performance.now();
    const label = await t.run(input);
    const ms = performance.now() - t0;
    if (ms > (opts.slowInputMs ?? 10_000)) throw new FuzzFinding(`one input took ${Math.round(ms)} ms`);
    if (typeof label === "string") outcomes[label] = (outcomes[label] ?? 0) + 1;
  };
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const elapsed = () => (performance.now() - started) / 1000;
  for (const s of seeds) {
    try {
      await exec(s);
    } catch (e) {
      return { ...base, execs, outcomes, seconds: elapsed(), seeds: seeds.length, finding: findingOf(e, hex(s)) };
    }
  }
  const arb = t.arbitrary ? t.arbitrary(seeds) : mutatedBytes(seeds);
  const seconds = opts.seconds ?? 10;
  const details = await fc.check(
    fc.asyncProperty(arb, async (input) => {
      await exec(input);
    }),
    {
      seed,
      numRuns: opts.runs ?? Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: seconds * 1000,
      // shrinking gets its own budget: a finding is worth the time
      markInterruptAsFailure: false,
      endOnFailure: false,
    },
  );
  let finding: RunResult["finding"] = null;
  if (details.failed && details.counterexample) {
    finding = findingOf(details.errorInstance, hex(details.counterexample[0] as Uint8Array));
  }
  return { ...base, execs, outcomes, seconds: elapsed(), seeds: seeds.length, finding };
}

function findingOf(e: unknown, input: string): NonNullable<RunResult["finding"]> {
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: `${err.name}: ${err.message}`, input, stack: err.stack };
}
