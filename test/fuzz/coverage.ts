// Coverage of a fuzz run, from V8's own counters (NODE_V8_COVERAGE in the child): fast-check has no coverage
// feedback, but V8 can still say how much of Cairn's code the inputs reached. Counted over the modules of
// dist/src the run loaded: functions entered at least once. (Not blocks: V8 lists a block only where its count
// differs from its function's, so a total of blocks cannot be read off its output.)
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface CoverageSummary {
  /** modules of src/ the run loaded */
  modules: number;
  functions: number;
  functionsReached: number;
}

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface V8Script {
  url: string;
  functions: { functionName: string; ranges: V8Range[]; isBlockCoverage: boolean }[];
}

/** Reads every coverage file V8 wrote into `dir` and counts what was reached in modules under `srcDir`. */
export function summarizeCoverage(dir: string, srcDir: string): CoverageSummary {
  const seen = new Map<string, Map<string, boolean>>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".json")) continue;
    const scripts = (JSON.parse(readFileSync(join(dir, f), "utf8")) as { result: V8Script[] }).result;
    for (const s of scripts) {
      if (!s.url.startsWith("file:")) continue;
      const path = fileURLToPath(s.url);
      if (!path.startsWith(srcDir)) continue;
      let m = seen.get(path);
      if (!m) seen.set(path, (m = new Map()));
      for (const fn of s.functions) {
        const whole = fn.ranges[0];
        // the module's own top-level function runs on load: it says nothing about the inputs
        if (!whole || (whole.startOffset === 0 && fn.functionName === "")) continue;
        const key = `${whole.startOffset}:${whole.endOffset}`;
        m.set(key, (m.get(key) ?? false) || whole.count > 0);
      }
    }
  }
  const out: CoverageSummary = { modules: seen.size, functions: 0, functionsReached: 0 };
  for (const m of seen.values()) {
    out.functions += m.size;
    for (const v of m.values()) if (v) out.functionsReached++;
  }
  return out;
}
