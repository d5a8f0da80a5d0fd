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
    name: "transition",
    summary: "apply blocks and/or empty slots to an SSZ state; print the post-state root",
    load: async () => (await import("./transition.js")).command,
  },
  {
    name: "harness",
    summary: "generate and import a signed chain without a wall clock (fork choice, store, regen); print JSON",
    load: async () => (await import("./harness.js")).command,
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
