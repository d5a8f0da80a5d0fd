// Builds the committed corpus (test/fuzz/corpus) from the unpacked v0.12.3 spec vectors: a few pre-states and
// operations per state target (valid and invalid cases), one random value per SSZ type, and the encoded messages
// the network targets derive from them. Run by `npm run fuzz -- --build-corpus` after `npm run test:spec`.
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS_DIR, type FuzzTarget } from "./engine.js";
import { OPS } from "./targets/stateTransition.js";
import { readIf, vectorCases } from "./targets/specVectors.js";

/** Up to `valid` cases with a post-state and `invalid` without, each a pre-state and the operation bytes. */
function pickCases(sub: string[], file: string, valid: number, invalid: number): { pre: Uint8Array; op: Uint8Array }[] {
  const out: { pre: Uint8Array; op: Uint8Array }[] = [];
  let v = 0;
  let i = 0;
  for (const dir of vectorCases(...sub)) {
    const pre = readIf(join(dir, "pre.ssz"));
    const op = readIf(join(dir, `${file}.ssz`));
    if (!pre || !op) continue;
    const ok = readIf(join(dir, "post.ssz")) !== null;
    if (ok ? v++ >= valid : i++ >= invalid) continue;
    out.push({ pre, op });
  }
  return out;
}

function writeStateCorpus(name: string, cases: { pre: Uint8Array; op: Uint8Array }[]): void {
  const dir = join(CORPUS_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "states"), { recursive: true });
  const stateIndex = new Map<string, number>();
  cases.forEach(({ pre, op }, n) => {
    const key = createHash("sha256").update(pre).digest("hex");
    let idx = stateIndex.get(key);
    if (idx === undefined) {
      idx = stateIndex.size;
      stateIndex.set(key, idx);
      writeFileSync(join(dir, "states", `${String(idx).padStart(2, "0")}.ssz`), pre);
    }
    writeFileSync(join(dir, `${String(n).padStart(2, "0")}.bin`), Uint8Array.of(idx, ...op));
  });
}

export function buildCorpus(targets: FuzzTarget[]): string[] {
  const lines: string[] = [];
  if (vectorCases("operations").length === 0) throw new Error("the spec vectors are not unpacked (npm run test:spec downloads them)");
  const done = new Set<string>();
  for (const spec of OPS) {
    const cases = pickCases(["operations", spec.handler, "pyspec_tests"], spec.file, 3, 2);
    writeStateCorpus(spec.name, cases);
    done.add(spec.name);
    lines.push(`${spec.name}: ${cases.length} seeds`);
  }
  const blocks = pickCases(["sanity", "blocks", "pyspec_tests"], "blocks_0", 5, 0);
  writeStateCorpus("block", blocks);
  done.add("block");
  lines.push(`block: ${blocks.length} seeds`);
  // the other targets: what their seeds() derive from the vectors, frozen so a clean clone starts from the same
  for (const t of targets) {
    // the file and ENR targets seed from test/fixtures and code already
    if (done.has(t.name) || !t.seeds || !(t.name.startsWith("ssz") || ["snappy-block", "gossip", "reqresp-response"].includes(t.name))) continue;
    const dir = join(CORPUS_DIR, t.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const seeds = t.seeds();
    seeds.forEach((s, n) => writeFileSync(join(dir, `${String(n).padStart(2, "0")}.bin`), s));
    lines.push(`${t.name}: ${seeds.length} seeds`);
  }
  return lines;
}
