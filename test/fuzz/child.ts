// One fuzz process: runs the targets named in argv[2] (JSON: {targets, seconds, runs, seed, inputFile}) one after
// the other and prints one JSON line per result. Before each input runs, it is written over `inputFile`, so when
// this process crashes, hangs or runs out of memory the parent (cli.ts) still knows which input did it.
import { closeSync, openSync, writeSync } from "node:fs";
import { runTarget, type RunResult } from "./engine.js";
import { findTarget } from "./targets/index.js";

interface ChildArgs {
  targets: string[];
  seconds: number[];
  runs?: number;
  seed?: number;
  inputFile: string;
}

export const RESULT_PREFIX = "FUZZ-RESULT ";

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as ChildArgs;
  const fd = openSync(args.inputFile, "w");
  const header = Buffer.alloc(8);
  const onInput = (input: Uint8Array): void => {
    // [u32 target index][u32 length][input]: one write of the header, one of the bytes, at offset 0
    header.writeUInt32LE(current, 0);
    header.writeUInt32LE(input.length, 4);
    writeSync(fd, header, 0, 8, 0);
    writeSync(fd, input, 0, input.length, 8);
  };
  let current = 0;
  for (; current < args.targets.length; current++) {
    const t = findTarget(args.targets[current]!);
    const cpu0 = process.cpuUsage();
    let r: RunResult;
    try {
      r = await runTarget(t, { seconds: args.seconds[current] ?? args.seconds[0], runs: args.runs, seed: args.seed, onInput });
    } catch (e) {
      r = { target: t.name, execs: 0, seconds: 0, seeds: 0, seed: 0, finding: { message: `setup failed: ${(e as Error).stack ?? String(e)}`, input: "" } };
    }
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    // CPU time as well as wall time: on a shared machine a run's wall seconds say little about the work done
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...r, peakRssMb, cpuSeconds })}\n`);
  }
  closeSync(fd);
}

await main();
