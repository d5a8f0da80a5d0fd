// Probe: the parts of one epoch transition at 100,000 validators (mainnet preset), timed one by one.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createCachedBeaconState } from "../../src/state-transition/index.js";
import { processSlot } from "../../src/state-transition/slot/index.js";
import { beforeProcessEpoch } from "../../src/state-transition/epoch/beforeProcessEpoch.js";
import { processJustificationAndFinalization } from "../../src/state-transition/epoch/processJustificationAndFinalization.js";
import { processRewardsAndPenalties } from "../../src/state-transition/epoch/processRewardsAndPenalties.js";
import { processRegistryUpdates } from "../../src/state-transition/epoch/processRegistryUpdates.js";
import { processSlashings } from "../../src/state-transition/epoch/processSlashings.js";
import { processFinalUpdates } from "../../src/state-transition/epoch/processFinalUpdates.js";
import { benchConfig } from "./fixtures.js";

const c = benchConfig();
const bytes = readFileSync(join(homedir(), ".cache/cairn/bench/fixtures-v1-100000/epochPre.ssz"));
const base = createCachedBeaconState(c, c.types.BeaconState.deserializeToViewDU(bytes));
base.state.hashTreeRoot();
for (let rep = 0; rep < 4; rep++) {
  const s = base.clone();
  const t: [string, number][] = [];
  let last = performance.now();
  const lap = (name: string) => { const now = performance.now(); t.push([name, now - last]); last = now; };
  processSlot(s); lap("processSlot");
  const ep = beforeProcessEpoch(s); lap("before");
  processJustificationAndFinalization(s, ep); lap("justification");
  processRewardsAndPenalties(s, ep); lap("rewards");
  processRegistryUpdates(s, ep); lap("registry");
  processSlashings(s, ep); lap("slashings");
  processFinalUpdates(s, ep); lap("final");
  s.state.validators.commit(); lap("commit");
  s.state.slot = s.state.slot + 1;
  s.epochCtx.afterProcessEpoch(s.state, ep.nextShufflingActiveIndices); lap("afterProcessEpoch");
  s.state.hashTreeRoot(); lap("hashTreeRoot");
  console.log(t.map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(", "));
}
