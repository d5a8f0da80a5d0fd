// `cairn transition` must reproduce the post-state root of every sanity/blocks vector from its pre.ssz and block
// files. This drives the CLI's own entry point (the same code `npx cairn` runs) with the vector files as arguments.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { getNamedConfig } from "../../src/config/index.js";
import { main as cliMain } from "../../src/cli/index.js";
import { parseYaml, toHex, toNum } from "./harness.js";

export interface CliCheckResult {
  passed: number;
  failed: number;
  failures: { id: string; message: string }[];
}

export async function checkTransitionCli(testsDir: string, preset: "minimal" | "mainnet", filter?: string): Promise<CliCheckResult> {
  const result: CliCheckResult = { passed: 0, failed: 0, failures: [] };
  const handlerDir = join(testsDir, preset, "phase0", "sanity", "blocks");
  if (!existsSync(handlerDir)) return result;
  const config = getNamedConfig(preset);
  for (const suite of readdirSync(handlerDir).sort()) {
    for (const name of readdirSync(join(handlerDir, suite)).sort()) {
      const dir = join(handlerDir, suite, name);
      const id = `${preset}/phase0/cairn_transition_cli/sanity_blocks/${suite}/${name}`;
      if (filter && !id.includes(filter) && !dir.includes(filter)) continue;
      const postPath = join(dir, "post.ssz");
      const meta = (existsSync(join(dir, "meta.yaml")) ? parseYaml(readFileSync(join(dir, "meta.yaml"), "utf8")) : {}) as Record<string, unknown>;
      const blocksCount = toNum(meta.blocks_count ?? 0, "blocks_count");
      const args = ["transition", "--config", preset, "--pre", join(dir, "pre.ssz")];
      if (blocksCount > 0) args.push("--blocks", ...Array.from({ length: blocksCount }, (_, i) => join(dir, `blocks_${i}.ssz`)));
      if (meta.bls_setting !== undefined && toNum(meta.bls_setting, "bls_setting") === 2) args.push("--no-verify-signatures");
      let stdout = "";
      let stderr = "";
      const code = await cliMain(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
      let failure: string | null = null;
      if (existsSync(postPath)) {
        const expected = toHex(config.types.BeaconState.deserializeToViewDU(readFileSync(postPath)).hashTreeRoot());
        if (code !== 0) failure = `exit ${code}: ${stderr.trim()}`;
        else if (stdout.trim() !== expected) failure = `printed ${stdout.trim()}, expected ${expected}`;
      } else {
        // an invalid block: exit 2 with exactly one line on stderr
        if (code !== 2) failure = `expected exit 2 for an invalid block, got ${code}`;
        else if (stderr.trim().split("\n").length !== 1) failure = `expected one stderr line, got: ${stderr}`;
      }
      if (failure) {
        result.failed++;
        result.failures.push({ id, message: failure });
        console.log(`FAIL ${id}: ${failure}`);
      } else result.passed++;
    }
  }
  return result;
}
