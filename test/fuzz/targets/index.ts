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

/** Targets that misbehave on purpose, for the unit test of the memory cap and the hang and crash detection. */
const held: Buffer[] = [];
const selfTestTargets: FuzzTarget[] = [
  {
    name: "selftest-memory",
    description: "allocates until the RSS cap stops it",
    seeds: () => [Uint8Array.of(1)],
    run() {
      for (;;) held.push(Buffer.alloc(32 << 20, 1));
    },
  },
  {
    name: "selftest-hang",
    description: "never returns",
    seeds: () => [Uint8Array.of(2)],
    run() {
      for (;;);
    },
  },
  {
    name: "selftest-crash",
    description: "exits the process",
    seeds: () => [Uint8Array.of(3)],
    run() {
      process.exit(70);
    },
  },
];

export function findTarget(name: string): FuzzTarget {
  const t = [...allTargets(), ...selfTestTargets].find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target "${name}" (npm run fuzz -- --list)`);
  return t;
}
