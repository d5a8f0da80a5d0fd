// The process's clock for simulations (`cairn sim`): the system clock plus an offset that is fixed
// (--clock-offset-ms), read from a file the simulator rewrites (--clock-offset-file: a clock that jumps while the
// process runs), and, only with the unsafe flag, moved by the mean of SNTP time sources (the roughtime bug that cost
// Medalla its finality in August 2020). Without any of these it is Date.now.
import { readFileSync } from "node:fs";
import { sntpQuery, type TimeSource } from "../validator/timeCheck.js";
import type { Logger } from "../util/logger.js";

export interface ProcessClockOptions {
  offsetMs?: number;
  offsetFile?: string;
  /** UNSAFE: move the clock by the mean of these sources' offsets (no outlier rejection). */
  followMeanOf?: TimeSource[];
  followIntervalMs?: number;
  logger?: Logger;
}

export interface ProcessClock {
  now: () => number;
  /** The offset from the file (jumps) and the one followed from the time sources, ms. */
  readonly offsets: { file: number; followed: number };
  close(): void;
}

/** The mean of the offsets: one source 24 h off among six moves it by 4 h. Null for none. */
export function meanOffset(offsets: number[]): number | null {
  return offsets.length === 0 ? null : offsets.reduce((a, b) => a + b, 0) / offsets.length;
}

export function createProcessClock(o: ProcessClockOptions): ProcessClock {
  const fixed = o.offsetMs ?? 0;
  const offsets = { file: 0, followed: 0 };
  const timers: NodeJS.Timeout[] = [];
  const now = (): number => Date.now() + fixed + offsets.file + offsets.followed;
  if (o.offsetFile !== undefined) {
    const file = o.offsetFile;
    const read = (): void => {
      let text: string;
      try {
        text = readFileSync(file, "utf8").trim();
      } catch {
        return; // not written yet: no offset
      }
      const v = Number(text);
      if (text !== "" && Number.isFinite(v) && v !== offsets.file) {
        o.logger?.warn("clock offset changed (simulation)", { fromMs: offsets.file, toMs: v });
        offsets.file = v;
      }
    };
    read();
    // a short period: the simulator's jumps should land within a fraction of a slot
    const t = setInterval(read, 200);
    t.unref();
    timers.push(t);
  }
  if (o.followMeanOf && o.followMeanOf.length > 0) {
    const sources = o.followMeanOf;
    const follow = async (): Promise<void> => {
      const answers = await Promise.allSettled(sources.map((s) => sntpQuery(s, { now, timeoutMs: 1000 })));
      const mean = meanOffset(answers.flatMap((a) => (a.status === "fulfilled" ? [a.value.offsetMs] : [])));
      // a sample is measured against our moved clock: adding it converges on the sources' mean
      if (mean === null || Math.abs(mean) < 50) return;
      offsets.followed += mean;
      o.logger?.warn("UNSAFE: clock moved to the mean of the time sources", { byMs: Math.round(mean), offsetMs: Math.round(offsets.followed) });
    };
    void follow();
    const t = setInterval(() => void follow(), o.followIntervalMs ?? 2000);
    t.unref();
    timers.push(t);
  }
  return { now, offsets, close: () => timers.forEach((t) => clearInterval(t)) };
}

/** Whether any simulation clock option is set (otherwise the process keeps Date.now). */
export function hasClockOptions(o: ProcessClockOptions): boolean {
  return o.offsetMs !== undefined || o.offsetFile !== undefined || (o.followMeanOf?.length ?? 0) > 0;
}
