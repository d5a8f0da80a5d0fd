// Where the benchmark fixtures live and how the processes talk. Imports no implementation.
import { mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { FixtureMeta } from "./fixtures.js";

export const RESULT_PREFIX = "@@RESULT ";
// Keep in step with FIXTURE_VERSION in fixtures.ts (not imported here: the Lodestar child must not load Cairn).
export const FIXTURE_DIR_VERSION = 1;

/** ~/.cache/cairn/bench, or $CAIRN_BENCH_CACHE. */
export function benchCacheDir(): string {
  const dir = process.env.CAIRN_BENCH_CACHE ?? join(homedir(), ".cache", "cairn", "bench");
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function fixtureDir(validators: number): string {
  return join(benchCacheDir(), `fixtures-v${FIXTURE_DIR_VERSION}-${validators}`);
}

export interface LoadedFixtures {
  meta: FixtureMeta;
  epochPre: Uint8Array;
  blockPre: Uint8Array;
  block: Uint8Array;
}

export function readFixtures(validators: number): LoadedFixtures {
  const dir = fixtureDir(validators);
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  return {
    meta: JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as FixtureMeta,
    epochPre: read("epochPre.ssz"),
    blockPre: read("blockPre.ssz"),
    block: read("block.ssz"),
  };
}
