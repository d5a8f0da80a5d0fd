// Child process of the kill -9 campaign: the harness on a datadir (resuming whatever is there), with forks and
// skipped slots, printing `imported <root> <slot>` once each block's import has resolved, until it is killed.
import { getNamedConfig } from "../../src/config/index.js";
import { runHarness } from "../../src/chain/harness/harness.js";

const [datadir, seed] = process.argv.slice(2);
await runHarness(getNamedConfig("minimal"), {
  validators: 64,
  slots: 100000,
  participation: 0.8,
  datadir,
  forkRate: 0.15,
  skipRate: 0.05,
  restartEvery: 0,
  signatures: false,
  seed: Number(seed),
  checkHeadEvery: 0,
  onImported: (root, slot) => process.stdout.write(`imported ${root} ${slot}\n`),
});
