// Child process of the kill -9 test (test/unit/db.test.ts): writes batch after batch to a BeaconDb, each committed
// with sync, and prints "ack <i>" on stdout after each commit resolves, until the parent kills it with SIGKILL.
// It resumes after the last batch a previous run persisted (meta finalizedCheckpoint.epoch = last i).
//
//   node dist/test/utils/dbKillWriter.js <dbDir>
import { BeaconDb } from "../../src/db/index.js";
import { getNamedConfig } from "../../src/config/index.js";
import { KILL_TEST_VALIDATORS, killTestBatch, makeStateBytes } from "./dbFixtures.js";

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: dbKillWriter <dbDir>");
  const config = getNamedConfig("minimal");
  const db = await BeaconDb.open(dir, { config });
  const last = await db.getMeta("finalizedCheckpoint");
  const template = makeStateBytes(config, 0, KILL_TEST_VALIDATORS);
  process.stdout.write(`ready ${last === null ? -1 : last.epoch}\n`);
  for (let i = last === null ? 0 : last.epoch + 1; ; i++) {
    const b = killTestBatch(config, template, i);
    await db
      .newBatch()
      .putBlock(b.root, b.block)
      .putFinalizedBlock({ slot: b.slot, root: b.root, block: b.block })
      .putHotState(b.root, b.slot, b.state)
      .putMeta("headRoot", b.root)
      .putMeta("finalizedCheckpoint", { epoch: i, root: b.root })
      .commit({ sync: true });
    // stdout to a pipe is synchronous on Linux: the line is in the pipe before the next batch starts
    process.stdout.write(`ack ${i}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
