// Child process for the kill -9 test: runs the harness on a datadir and prints a line per imported epoch, until
// the parent kills it.
import { getNamedConfig } from "../../src/config/index.js";
import { runHarness } from "../../src/chain/harness/harness.js";

const datadir = process.argv[2];
await runHarness(getNamedConfig("minimal"), {
  validators: 64,
  slots: 100000,
  participation: 0.7,
  datadir,
  forkRate: 0.1,
  skipRate: 0,
  restartEvery: 0,
  signatures: false,
  seed: 7,
  checkHeadEvery: 0,
  onProgress: (line) => process.stdout.write(line + "\n"),
});
