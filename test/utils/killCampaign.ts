// The kill -9 campaign: the harness (forks, skips) killed at random moments on one datadir, reopened after each
// kill. Every reopen must succeed, and every block whose import had resolved before the kill must still be there
// (in fork choice, or archived as finalized, or pruned as a conflicting fork once finalized past it).
// Run by a unit test with a few kills; `node dist/test/utils/killCampaign.js 50` runs a long one and prints figures.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { toHex } from "../../src/util/bytes.js";

const here = dirname(fileURLToPath(import.meta.url));
const config = getNamedConfig("minimal");

export interface KillCampaignResult {
  kills: number;
  blocksReported: number;
  lost: string[];
  reopenMs: number[];
  headSlots: number[];
}

/** Runs the child until it has reported at least `minBlocks` new imports, then SIGKILLs it after a random delay. */
function runAndKill(datadir: string, seed: number, minBlocks: number, maxDelayMs: number, onImported: (root: string, slot: number) => void): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [resolve(here, "killChild.js"), datadir, String(seed)], { stdio: ["ignore", "pipe", "inherit"] });
    let seen = 0;
    let buffer = "";
    let armed = false;
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      let i: number;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const [word, root, slot] = buffer.slice(0, i).split(" ");
        buffer = buffer.slice(i + 1);
        if (word === "imported") {
          onImported(root, Number(slot));
          seen++;
        }
      }
      if (seen >= minBlocks && !armed) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * maxDelayMs));
      }
    });
    child.on("exit", () => res());
    child.on("error", rej);
  });
}

export async function runKillCampaign(opts: { kills: number; datadir?: string; log?: (line: string) => void }): Promise<KillCampaignResult> {
  const datadir = opts.datadir ?? mkdtempSync(join(tmpdir(), "cairn-kill-"));
  const reported = new Map<string, number>();
  const result: KillCampaignResult = { kills: 0, blocksReported: 0, lost: [], reopenMs: [], headSlots: [] };
  try {
    for (let k = 0; k < opts.kills; k++) {
      // resume from the datadir; a kill lands anywhere in the import loop (store, head, archiving, pruning)
      await runAndKill(datadir, 1000 + k, 3 + Math.floor(Math.random() * 20), 400, (root, slot) => reported.set(root, slot));
      result.kills++;
      const t = performance.now();
      const db = await BeaconDb.open(datadir, { config });
      try {
        const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
        result.reopenMs.push(performance.now() - t);
        const finalizedSlot = chain.query.finalizedSlot;
        // unfinalized: every block reported imported is still stored (in fork choice, unless finality pruned its branch)
        for (const [root, slot] of reported) {
          if (slot > finalizedSlot && !chain.query.hasBlock(root) && !(await chain.query.getSignedBlock(root))) result.lost.push(`${root}@${slot}`);
        }
        // finalized: the canonical chain is whole, head to genesis, parent by parent (conflicting forks were pruned)
        const genesisRoot = (await chain.query.getGenesis())?.blockRoot;
        for (let root = chain.headRoot; root !== genesisRoot; ) {
          const block = await chain.query.getSignedBlock(root);
          if (!block) {
            result.lost.push(`canonical ${root}`);
            break;
          }
          root = toHex(block.message.parentRoot);
        }
        result.headSlots.push(chain.query.headSlot);
        const head = await chain.getHeadState("test");
        if (toHex(head.state.hashTreeRoot()) !== chain.query.getBlockSummary(chain.headRoot)?.stateRoot) {
          result.lost.push(`head state mismatch at ${chain.headRoot}`);
        }
        await chain.close();
      } finally {
        await db.close();
      }
      opts.log?.(`kill ${k + 1}: head ${result.headSlots[result.headSlots.length - 1]}, reopened in ${Math.round(result.reopenMs[result.reopenMs.length - 1])} ms, ${reported.size} blocks reported, lost ${result.lost.length}`);
    }
  } finally {
    result.blocksReported = reported.size;
    if (!opts.datadir) rmSync(datadir, { recursive: true, force: true });
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kills = Number(process.argv[2] ?? 50);
  const r = await runKillCampaign({ kills, log: (l) => console.log(l) });
  const sorted = [...r.reopenMs].sort((a, b) => a - b);
  console.log(
    JSON.stringify({ kills: r.kills, blocksReported: r.blocksReported, lost: r.lost.length, reopenMsMedian: Math.round(sorted[sorted.length >> 1]), reopenMsMax: Math.round(sorted[sorted.length - 1]), finalHead: r.headSlots[r.headSlots.length - 1] }),
  );
  if (r.lost.length > 0) {
    console.log(r.lost.join("\n"));
    process.exitCode = 1;
  }
}
