// Command-line options declared once: each command has a table of its options (name, value placeholder, help,
// default, conversion), and both its `--help` option list and its parsed, typed values come from that table.
// Adding a flag is one table line.
//
// Values are converted when the command reads them, not all at parse time: a command reads a value where it needs
// it, so a flag that does not apply in the mode chosen (--p2p-port with --no-network) is not checked, and errors
// come in the order the command checks things.
import type { ParseArgsConfig } from "node:util";
import { isLogLevel, type LogLevel } from "../util/logger.js";
import { CliError, parseCommandArgs, parseUintArg } from "./common.js";

type Raw = string | boolean | (string | boolean)[] | undefined;

export interface OptionSpec<T> {
  readonly type: "string" | "boolean";
  /** the value's placeholder in the help ("<P>"); none for a boolean flag */
  readonly arg?: string;
  /** the help text; `{default}` stands for the default value; "\n" continues on the next line */
  readonly help: string;
  /** the heading the option is listed under (default "Options") */
  readonly group?: string;
  readonly default?: string | number;
  readonly multiple?: boolean;
  readonly short?: string;
  /** accepted but not listed in the help */
  readonly hidden?: boolean;
  /** the typed value from the command line's (undefined: not given) */
  convert(raw: Raw, flag: string): T;
}

export type OptionTable = Record<string, OptionSpec<unknown>>;
export type OptionValues<T extends OptionTable> = { readonly [K in keyof T]: T[K] extends OptionSpec<infer V> ? V : never };

interface Extra {
  group?: string;
  /** accepted but not listed in the help */
  hidden?: boolean;
}

/** A string option; without a default, undefined when not given. */
export function str(arg: string, help: string, extra: Extra & { default: string }): OptionSpec<string>;
export function str(arg: string, help: string, extra?: Extra): OptionSpec<string | undefined>;
export function str(arg: string, help: string, extra: Extra & { default?: string } = {}): OptionSpec<string | undefined> {
  return { type: "string", arg, help, ...extra, convert: (raw) => (raw as string | undefined) ?? extra.default };
}

/** A non-negative integer; without a default, undefined when not given. */
export function uint(arg: string, help: string, extra: Extra & { default: number }): OptionSpec<number>;
export function uint(arg: string, help: string, extra?: Extra): OptionSpec<number | undefined>;
export function uint(arg: string, help: string, extra: Extra & { default?: number } = {}): OptionSpec<number | undefined> {
  return { type: "string", arg, help, ...extra, convert: (raw, flag) => (raw === undefined ? extra.default : parseUintArg(flag, raw as string)) };
}

/** A TCP/UDP port number (0 included: the system picks one). */
export function port(arg: string, help: string, extra: Extra & { default: number }): OptionSpec<number>;
export function port(arg: string, help: string, extra?: Extra): OptionSpec<number | undefined>;
export function port(arg: string, help: string, extra: Extra & { default?: number } = {}): OptionSpec<number | undefined> {
  return {
    type: "string",
    arg,
    help,
    ...extra,
    convert: (raw, flag) => {
      if (raw === undefined) return extra.default;
      const p = parseUintArg(flag, raw as string);
      if (p > 65535) throw new CliError(`${flag}: ${p} is not a port`);
      return p;
    },
  };
}

/** The REST API port of a beacon node (cairn beacon, cairn dev). */
export function restPort(help = "REST API port (default {default}; 0 picks a free port)", extra: Extra = {}): OptionSpec<number> {
  return port("<P>", help, { default: 5052, ...extra });
}

/** The Prometheus metrics port of a beacon node (cairn beacon, cairn dev). */
export function metricsPort(help: string, extra: Extra = {}): OptionSpec<number> {
  return port("<P>", help, { default: 5054, ...extra });
}

/** A boolean flag: true when given. */
export function flag(help: string, extra: Extra & { short?: string; hidden?: boolean } = {}): OptionSpec<boolean> {
  return { type: "boolean", help, ...extra, convert: (raw) => raw === true };
}

/** A comma-separated list; empty entries are dropped, nothing given is []. */
export function list(arg: string, help: string, extra: Extra = {}): OptionSpec<string[]> {
  return {
    type: "string",
    arg,
    help,
    ...extra,
    convert: (raw) =>
      ((raw as string | undefined) ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
  };
}

/** A string option given any number of times: every value, in order. */
export function strings(arg: string, help: string, extra: Extra = {}): OptionSpec<string[]> {
  return { type: "string", arg, help, multiple: true, ...extra, convert: (raw) => (raw as string[] | undefined) ?? [] };
}

/** --log-level with this command's default; the help lists the levels, marking the default. */
export function logLevel(dflt: LogLevel, suffix = "", extra: Extra = {}): OptionSpec<LogLevel> {
  const levels = ["error", "warn", "info", "debug"].map((l) => (l === dflt ? `${l} (default)` : l));
  return {
    type: "string",
    arg: "<L>",
    help: `${levels.slice(0, -1).join(", ")} or ${levels.at(-1)}${suffix}`,
    default: dflt,
    ...extra,
    convert: (raw) => {
      const level = (raw as string | undefined) ?? dflt;
      if (!isLogLevel(level)) throw new CliError(`--log-level: expected error, warn, info or debug, got ${JSON.stringify(level)}`);
      return level;
    },
  };
}

/** Any conversion of a string value (undefined when not given). */
export function custom<T>(arg: string, help: string, convert: (raw: string | undefined, flag: string) => T, extra: Extra = {}): OptionSpec<T> {
  return { type: "string", arg, help, ...extra, convert: (raw, f) => convert(raw as string | undefined, f) };
}

export interface ParsedOptions<T extends OptionTable> {
  /** the typed values, each converted (and checked) when first read */
  readonly values: OptionValues<T>;
  /** whether the flag was on the command line */
  given(name: keyof T & string): boolean;
  /** parseArgs' tokens (for commands whose positionals depend on the option before them) */
  readonly tokens: NonNullable<ReturnType<typeof parseCommandArgs<ParseArgsConfig & { tokens: true }>>["tokens"]>;
}

/** Parses `args` against the table (unknown flags and missing values are one-line CliErrors naming `command`). */
export function parseOptions<T extends OptionTable>(command: string, table: T, args: string[], opts: { allowPositionals?: boolean } = {}): ParsedOptions<T> {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(table)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  const { values: raw, tokens } = parseCommandArgs(command, { args, strict: true, allowPositionals: opts.allowPositionals ?? false, tokens: true, options });
  const values = {} as Record<string, unknown>;
  const cache = new Map<string, unknown>();
  for (const [name, spec] of Object.entries(table)) {
    Object.defineProperty(values, name, {
      enumerable: true,
      get: () => {
        if (!cache.has(name)) cache.set(name, spec.convert(raw[name], `--${name}`));
        return cache.get(name);
      },
    });
  }
  return { values: values as OptionValues<T>, given: (name) => raw[name] !== undefined, tokens: tokens ?? [] };
}

/** The option list of a command's help: one block per group, in table order, help texts in one column. */
export function optionsHelp(table: OptionTable): string {
  const shown = Object.entries(table).filter(([, s]) => !s.hidden);
  const names = new Map(shown.map(([name, s]) => [name, `${s.short ? `-${s.short}, ` : ""}--${name}${s.arg ? ` ${s.arg}` : ""}`]));
  const width = Math.max(...[...names.values()].map((n) => n.length)) + 3;
  const groups = new Map<string, string[]>();
  for (const [name, s] of shown) {
    const group = s.group ?? "Options";
    const text = s.help.replaceAll("{default}", String(s.default));
    const [first, ...more] = text.split("\n");
    const lines = [`  ${names.get(name)!.padEnd(width)}${first}`, ...more.map((l) => `${" ".repeat(width + 2)}${l}`)];
    groups.set(group, [...(groups.get(group) ?? []), ...lines]);
  }
  return [...groups].map(([group, lines]) => `${group}:\n${lines.join("\n")}\n`).join("\n");
}
