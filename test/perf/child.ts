// One benchmark process: `node child.js <mode> --validators N [--warmup W] [--runs R] [--ssz-only]`, mode one of
//   prepare     build the fixtures for N validators into the bench cache (if missing)
//   cairn       the comparison protocol on Cairn
//   lodestar    the comparison protocol on Lodestar
//   cairn-only  Cairn's own benchmarks (block import with BLS, shuffling, block decoding, fork choice)
//   cairn-rss, lodestar-rss   peak RSS of one pass of every step (see runMemory in compare.ts)
// Progress goes to stderr; the result is one line `@@RESULT <json>` on stdout. Each implementation gets its own
// process so that its peak RSS is its own, and it loads only its own modules.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR_VERSION, RESULT_PREFIX, fixtureDir, readFixtures } from "./files.js";

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: expected a non-negative integer, got ${args[i + 1]}`);
  return v;
}

const log = (msg: string) => process.stderr.write(`  ${msg}\n`);

async function main(args: string[]): Promise<void> {
  const mode = args[0];
  const validators = arg(args, "--validators", 100_000);
  const opts = { warmup: arg(args, "--warmup", 5), runs: arg(args, "--runs", 7) };
  let result: unknown;
  switch (mode) {
    case "prepare": {
      const dir = fixtureDir(validators);
      if (!existsSync(join(dir, "meta.json"))) {
        const { getInteropPubkeys } = await import("./pubkeys.js");
        const { buildFixtures, FIXTURE_VERSION } = await import("./fixtures.js");
        if (FIXTURE_VERSION !== FIXTURE_DIR_VERSION) throw new Error("FIXTURE_VERSION and FIXTURE_DIR_VERSION differ");
        const pubkeys = await getInteropPubkeys(validators, log);
        const fx = buildFixtures(pubkeys, log);
        const tmp = `${dir}.tmp-${process.pid}`;
        mkdirSync(tmp, { recursive: true });
        writeFileSync(join(tmp, "epochPre.ssz"), fx.epochPre);
        writeFileSync(join(tmp, "blockPre.ssz"), fx.blockPre);
        writeFileSync(join(tmp, "block.ssz"), fx.block);
        writeFileSync(join(tmp, "meta.json"), JSON.stringify(fx.meta, null, 2));
        renameSync(tmp, dir);
      }
      result = readFixtures(validators).meta;
      break;
    }
    case "cairn":
    case "lodestar": {
      const fx = readFixtures(validators);
      const { runComparison } = await import("./compare.js");
      const adapter =
        mode === "cairn" ? (await import("./cairnAdapter.js")).cairnAdapter() : await (await import("./lodestarAdapter.js")).lodestarAdapter();
      result = runComparison(adapter as never, { ...fx, epochPreSlot: fx.meta.epochPreSlot, validators }, opts, log, args.includes("--ssz-only"));
      break;
    }
    case "cairn-rss":
    case "lodestar-rss": {
      const fx = readFixtures(validators);
      const { runMemory } = await import("./compare.js");
      const adapter =
        mode === "cairn-rss" ? (await import("./cairnAdapter.js")).cairnAdapter() : await (await import("./lodestarAdapter.js")).lodestarAdapter();
      result = runMemory(adapter as never, { ...fx, epochPreSlot: fx.meta.epochPreSlot, validators });
      break;
    }
    case "cairn-only": {
      const { runCairnOnly } = await import("./cairnOnly.js");
      result = await runCairnOnly(readFixtures(validators), opts, log, args.includes("--import-only"));
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + "\n");
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
