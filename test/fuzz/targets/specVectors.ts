// Seeds from the v0.12.3 spec vectors when `npm run test:spec` has unpacked them; fuzzing works without them
// from the committed corpus (test/fuzz/corpus), which holds a few of the same files.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { specTestsCacheDir } from "../../spec/download.js";

/** tests/minimal/phase0/<sub>, or null when the vectors are not unpacked here. */
export function minimalVectorDir(...sub: string[]): string | null {
  const dir = join(specTestsCacheDir(), "tests", "minimal", "phase0", ...sub);
  return existsSync(dir) ? dir : null;
}

/** The case directories below tests/minimal/phase0/<sub> (e.g. "operations", "attestation", "pyspec_tests"). */
export function vectorCases(...sub: string[]): string[] {
  const dir = minimalVectorDir(...sub);
  if (!dir) return [];
  return readdirSync(dir)
    .sort()
    .map((c) => join(dir, c));
}

export function readIf(path: string): Uint8Array | null {
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
}
