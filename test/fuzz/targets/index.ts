// Every fuzz target, by name.
import type { FuzzTarget } from "../engine.js";
import { differentialTargets } from "./differential.js";
import { enrTargets } from "./enr.js";
import { fileTargets } from "./files.js";
import { networkTargets } from "./network.js";
import { sszTargets } from "./ssz.js";
import { stateTargets } from "./stateTransition.js";

export function allTargets(): FuzzTarget[] {
  return [...sszTargets(), ...networkTargets, ...enrTargets, ...stateTargets(), ...differentialTargets(), ...fileTargets];
}

export function findTarget(name: string): FuzzTarget {
  const t = allTargets().find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target "${name}" (npm run fuzz -- --list)`);
  return t;
}
