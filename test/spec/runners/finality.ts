// <preset>/phase0/finality: block sequences that drive justification and finality; same format as sanity/blocks.
import type { Runner } from "../harness.js";
import { stateCase } from "../stateUtils.js";
import { applyBlocks } from "./sanity.js";

export const finalityRunner: Runner = {
  handlers: { finality: stateCase(applyBlocks) },
};
