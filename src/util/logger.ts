// A small structured logger: one line per entry on stderr, `level message key=value ...`, quiet below its level.
// Every component takes this one interface; `child("network")` gives a logger whose lines also say `module=network`.
import { toHex } from "./bytes.js";

export type LogLevel = "error" | "warn" | "info" | "debug";
export type LogContext = Record<string, unknown>;

export interface Logger {
  error(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  debug(message: string, context?: LogContext): void;
  /** The same logger, its lines tagged `module=<module>` (a child's child takes the new tag). */
  child(module: string): Logger;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LEVELS, s);
}

function formatValue(v: unknown): string {
  if (v instanceof Uint8Array) return toHex(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void; now?: () => number; module?: string } = {}): Logger {
  const max = LEVELS[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const log =
    (level: LogLevel) =>
    (message: string, context?: LogContext): void => {
      if (LEVELS[level] > max) return;
      let line = `${new Date(now()).toISOString()} ${level.padEnd(5)} ${message}`;
      if (opts.module !== undefined) line += ` module=${formatValue(opts.module)}`;
      if (context) for (const [k, v] of Object.entries(context)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
      write(`${line}\n`);
    };
  return { error: log("error"), warn: log("warn"), info: log("info"), debug: log("debug"), child: (module) => createLogger({ ...opts, module }) };
}

export const nullLogger: Logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => nullLogger };
