// The simulation clock flags of `cairn beacon` and `cairn validator`, listed under their own heading: `cairn sim`
// passes them (docs/simulation.md). They move only this process's idea of the time, never the system clock.
import { parseTimeSources, type TimeSource } from "../validator/timeCheck.js";
import type { ProcessClockOptions } from "../sim/processClock.js";
import { CliError, errorMessage } from "./common.js";
import { custom, str } from "./options.js";

function parseInt(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new CliError(`${flag}: expected an integer (ms), got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function parseSources(raw: string | undefined, flag: string): TimeSource[] | undefined {
  try {
    return raw === undefined ? undefined : parseTimeSources(raw);
  } catch (e) {
    throw new CliError(`${flag}: ${errorMessage(e)}`);
  }
}

export const SIMULATION = "Simulation (for cairn sim; never on a real network)";

export const SIM_CLOCK_OPTIONS = {
  "clock-offset-ms": custom("<MS>", "run this many ms ahead of the system clock (negative: behind)", parseInt, { group: SIMULATION }),
  "clock-offset-file": str("<F>", "add the offset (ms) written in F, re-read every 200 ms", { group: SIMULATION }),
};

export function simClockOptions(v: { "clock-offset-ms": number | undefined; "clock-offset-file": string | undefined }, followMeanOf?: TimeSource[]): ProcessClockOptions {
  return { offsetMs: v["clock-offset-ms"], offsetFile: v["clock-offset-file"], followMeanOf };
}
