// Roots and checkpoints for fork-choice tests, named by number.
import type { CheckpointHex, RootHex } from "../../src/fork-choice/protoArray.js";

/** Root number n as hex: numeric order is byte order. */
export function root(n: number): RootHex {
  return "0x" + n.toString(16).padStart(64, "0");
}

export function cp(epoch: number, n: number): CheckpointHex {
  return { epoch, root: root(n) };
}
