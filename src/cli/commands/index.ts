// The list of commands. Each lives in its own module, loaded only when run, so `cairn --help` stays fast and
// works even when a command's dependencies cannot load.
import type { Command } from "../common.js";

export interface CommandEntry {
  readonly name: string;
  /** One line for `cairn --help` (kept here so listing commands loads none of them). */
  readonly summary: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: "dev",
    summary: "run a local chain: interop genesis, a beacon node and a validator client over REST, on the wall clock",
    load: async () => (await import("./dev.js")).command,
  },
  {
    name: "testnet",
    summary: "run N beacon nodes and validator clients as processes on 127.0.0.1; report finality per epoch",
    load: async () => (await import("./testnet.js")).command,
  },
  {
    name: "sim",
    summary: "the incident simulator: a scenario's faults on a local testnet, invariants, a slashing audit, a report",
    load: async () => (await import("./sim.js")).command,
  },
  {
    name: "beacon",
    summary: "run a beacon node: database, chain, Beacon REST API and metrics",
    load: async () => (await import("./beacon.js")).command,
  },
  {
    name: "transition",
    summary: "apply blocks and/or empty slots to an SSZ state; print the post-state root",
    load: async () => (await import("./transition.js")).command,
  },
  {
    name: "harness",
    summary: "generate and import a signed chain without a wall clock (fork choice, store, regen); print JSON",
    load: async () => (await import("./harness.js")).command,
  },
  {
    name: "account",
    summary: "validator keys: import EIP-2335 keystores into a datadir, list them, derive new ones from a mnemonic",
    load: async () => (await import("./account.js")).command,
  },
  {
    name: "slashing-protection",
    summary: "import/export EIP-3076 interchange files; check and record a block or attestation before signing",
    load: async () => (await import("./slashingProtection.js")).command,
  },
  {
    name: "deposit",
    summary: "check deposit data and write it, or send it to a deposit contract through a development eth1 node",
    load: async () => (await import("./deposit.js")).command,
  },
  {
    name: "validator",
    summary: "the validator client: perform duties through any phase 0 beacon node's standard Beacon API",
    load: async () => (await import("./validator.js")).command,
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
