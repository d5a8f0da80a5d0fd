// Time check: asks several SNTP servers (RFC 4330) how far the local clock is off, takes the median after dropping
// outliers, and warns (and sets a metric) when the offset passes a threshold. It never adjusts the clock: one bad
// time source moving validators' clocks is how Medalla lost its finality in August 2020.
import { createSocket } from "node:dgram";
import { isIP } from "node:net";
import type { Logger } from "../util/logger.js";
import type { ValidatorMetrics } from "./metrics.js";

export interface TimeSource {
  host: string;
  port: number;
}

/** Parses `host:port,host:port,...` (port defaults to 123; IPv6 as `[::1]:123`). Throws a one-line error. */
export function parseTimeSources(text: string): TimeSource[] {
  const out: TimeSource[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::([0-9]+))?$/.exec(item);
    if (!m) throw new Error(`invalid time source ${JSON.stringify(item)} (expected host:port)`);
    const port = m[3] === undefined ? 123 : Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port in time source ${JSON.stringify(item)}`);
    out.push({ host: m[1] ?? m[2], port });
  }
  if (out.length === 0) throw new Error("no time source given");
  return out;
}

/** Seconds from the NTP era (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

function writeNtpTime(buf: Buffer, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  buf.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) >>> 0, offset);
  buf.writeUInt32BE(Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32) >>> 0, offset + 4);
}

function readNtpTime(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset) - NTP_UNIX_OFFSET_S;
  return seconds * 1000 + (buf.readUInt32BE(offset + 4) / 2 ** 32) * 1000;
}

export interface SntpSample {
  /** How far the server's clock is ahead of ours (ms): add it to ours to get theirs. */
  offsetMs: number;
  roundTripMs: number;
}

/** One SNTP exchange. `now` is the clock being checked (the validator's). Rejects on timeout or a bad answer. */
export function sntpQuery(source: TimeSource, opts: { now?: () => number; timeoutMs?: number } = {}): Promise<SntpSample> {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const family = isIP(source.host) === 6 ? "udp6" : "udp4";
  return new Promise((resolve, reject) => {
    const socket = createSocket(family);
    const request = Buffer.alloc(48);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    let settled = false;
    const finish = (err: Error | null, sample?: SntpSample): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(sample!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (e) => finish(e));
    socket.on("message", (msg) => {
      const t4 = now();
      if (msg.length < 48) return finish(new Error("short SNTP answer"));
      const mode = msg[0] & 7;
      if (mode !== 4 && mode !== 5) return finish(new Error(`SNTP answer in mode ${mode}`));
      if (msg[1] === 0) return finish(new Error("SNTP kiss-of-death (stratum 0)"));
      // the server echoes our transmit time as its originate time: anything else answers someone else
      if (!msg.subarray(24, 32).equals(request.subarray(40, 48))) return finish(new Error("SNTP answer does not match the request"));
      const t2 = readNtpTime(msg, 32);
      const t3 = readNtpTime(msg, 40);
      finish(null, { offsetMs: (t2 - t1 + (t3 - t4)) / 2, roundTripMs: t4 - t1 - (t3 - t2) });
    });
    const t1 = now();
    writeNtpTime(request, 40, t1);
    socket.send(request, source.port, source.host, (e) => {
      if (e) finish(e);
    });
  });
}

export interface CombinedOffset {
  /** Median of the offsets kept; null when no source answered. */
  offsetMs: number | null;
  kept: number[];
  outliers: number[];
}

/**
 * The median offset after dropping outliers: samples further from the median than `max(minOutlierMs, 3 * MAD)`
 * (the median absolute deviation), so one source that is hours off cannot move the result.
 */
export function combineOffsets(offsets: number[], minOutlierMs = 1000): CombinedOffset {
  if (offsets.length === 0) return { offsetMs: null, kept: [], outliers: [] };
  const med = median(offsets);
  const mad = median(offsets.map((o) => Math.abs(o - med)));
  const limit = Math.max(minOutlierMs, 3 * mad);
  const kept = offsets.filter((o) => Math.abs(o - med) <= limit);
  const outliers = offsets.filter((o) => Math.abs(o - med) > limit);
  return { offsetMs: median(kept), kept, outliers };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface TimeCheckResult extends CombinedOffset {
  /** Per source: its offset, or why it gave none. */
  samples: { source: string; offsetMs?: number; error?: string }[];
  exceeded: boolean;
}

export interface TimeCheckOptions {
  sources: TimeSource[];
  /** Warn when |offset| exceeds this (default 500 ms). */
  warnThresholdMs?: number;
  now?: () => number;
  timeoutMs?: number;
  /** Between checks once start() is called (default 10 minutes). */
  intervalMs?: number;
  logger?: Logger;
  metrics?: ValidatorMetrics;
}

export class TimeCheck {
  private timer: NodeJS.Timeout | undefined;
  private readonly warnThresholdMs: number;
  last: TimeCheckResult | undefined;

  constructor(private readonly opts: TimeCheckOptions) {
    if (opts.sources.length === 0) throw new Error("time check without a time source");
    this.warnThresholdMs = opts.warnThresholdMs ?? 500;
  }

  /** Queries every source at once and reports; never throws (a source that fails is left out). */
  async check(): Promise<TimeCheckResult> {
    const { sources, now, timeoutMs, logger, metrics } = this.opts;
    const answers = await Promise.allSettled(sources.map((s) => sntpQuery(s, { now, timeoutMs })));
    const samples: TimeCheckResult["samples"] = answers.map((a, i) => {
      const source = `${sources[i].host}:${sources[i].port}`;
      return a.status === "fulfilled" ? { source, offsetMs: a.value.offsetMs } : { source, error: String((a.reason as Error)?.message ?? a.reason) };
    });
    const combined = combineOffsets(samples.flatMap((s) => (s.offsetMs === undefined ? [] : [s.offsetMs])));
    const exceeded = combined.offsetMs !== null && Math.abs(combined.offsetMs) > this.warnThresholdMs;
    const result: TimeCheckResult = { ...combined, samples, exceeded };
    this.last = result;
    for (const s of samples) if (s.error) logger?.debug("time source did not answer", { source: s.source, error: s.error });
    if (combined.outliers.length > 0) logger?.warn("time sources disagree; outliers ignored", { outliersMs: combined.outliers.map((o) => Math.round(o)).join(",") });
    if (combined.offsetMs === null) {
      logger?.warn("no time source answered", { sources: samples.length });
    } else {
      metrics?.clockOffsetMs.set(combined.offsetMs);
      metrics?.clockOffsetExceeded.set(exceeded ? 1 : 0);
      if (exceeded) {
        logger?.warn("local clock is off; not adjusting it, fix the system clock", {
          offsetMs: Math.round(combined.offsetMs),
          thresholdMs: this.warnThresholdMs,
          sources: combined.kept.length,
        });
      } else {
        logger?.debug("clock checked", { offsetMs: Math.round(combined.offsetMs), sources: combined.kept.length });
      }
    }
    return result;
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? 600_000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
