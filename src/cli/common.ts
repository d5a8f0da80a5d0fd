// Shared pieces of the command-line tools: error reporting, argument helpers, file I/O with readable errors.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomicSync } from "../util/fsAtomic.js";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { createBeaconConfig, getNamedConfig, type BeaconConfig } from "../config/index.js";
import { isNamedConfig, parseChainConfigYaml } from "../config/load.js";

/** Where a command writes. Tests can pass their own; the CLI uses process.stdout/stderr. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** One line typed by the user (without its newline), null at the end of input; absent: nothing can be asked. */
  readLine?(): Promise<string | null>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readLine: async () => {
    const { createInterface } = await import("node:readline");
    const rl = createInterface({ input: process.stdin, terminal: false });
    try {
      for await (const line of rl) return line;
      return null;
    } finally {
      rl.close();
    }
  },
};

export interface Command {
  /** The full text shown by `cairn <command> --help`. */
  readonly help: string;
  /** Returns the process exit code. Throwing a CliError (or anything) reports one line and exits 2. */
  run(args: string[], io: Io): Promise<number> | number;
}

/** An error whose message is meant for the user as is (one line, no stack trace). */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
  }
}

export const EXIT_OK = 0;
/** Any failure: bad arguments, unreadable or malformed input, an invalid block. */
export const EXIT_ERROR = 2;
/** cairn validator: doppelganger protection saw one of our keys live elsewhere; nothing was signed. */
export const EXIT_DOPPELGANGER = 3;

export function isDebug(): boolean {
  const v = process.env["CAIRN_DEBUG"];
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/** The message of any thrown value, squeezed onto one line. */
export function errorMessage(e: unknown): string {
  let msg: string;
  if (e instanceof Error) msg = e.message || e.name;
  else msg = String(e);
  msg = msg
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join(" ");
  if (msg === "") msg = "unknown error";
  return msg.length > 1000 ? `${msg.slice(0, 997)}...` : msg;
}

/** Prints `<prefix>: error: <message>` (and with CAIRN_DEBUG=1 the stack, with causes) and returns EXIT_ERROR. */
export function reportError(io: Io, prefix: string, e: unknown): number {
  io.stderr(`${prefix}: error: ${errorMessage(e)}\n`);
  if (isDebug()) {
    let cur: unknown = e;
    for (let depth = 0; cur !== undefined && depth < 5; depth++) {
      io.stderr(`${depth === 0 ? "" : "caused by: "}${cur instanceof Error ? (cur.stack ?? cur.message) : String(cur)}\n`);
      cur = cur instanceof Error ? cur.cause : undefined;
    }
  }
  return EXIT_ERROR;
}

/** util.parseArgs, with its errors turned into one-line CliErrors that point at --help. */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      throw new CliError(`${errorMessage(e)} (see cairn ${command} --help)`);
    }
    throw e;
  }
}

/** A non-negative decimal integer option value (a slot, a count). */
export function parseUintArg(flag: string, value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) {
    throw new CliError(`${flag}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new CliError(`${flag}: ${value} is too large`);
  return n;
}

function fsReason(e: unknown, writing = false): string {
  const code = (e as { code?: unknown }).code;
  switch (code) {
    case "ENOENT":
      return writing ? "the directory does not exist" : "file not found";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "a parent path is not a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "no space left on device";
    case "EROFS":
      return "read-only file system";
    default:
      return errorMessage(e);
  }
}

/** Reads a whole file; `label` names it in the error ("pre-state file x.ssz", "block 2 (b2.ssz)"). */
export function readInputFile(path: string, label: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${label}: ${fsReason(e)}`, { cause: e });
  }
}

/** Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then renamed. */
export function writeFileAtomic(path: string, bytes: Uint8Array, label: string): void {
  try {
    writeFileAtomicSync(path, bytes, 0o644);
  } catch (e) {
    throw new CliError(`cannot write ${label}: ${fsReason(e, true)}`, { cause: e });
  }
}

/**
 * `--config` value: "minimal" or "mainnet" (the built-in v0.12.3 presets) or the path of a config YAML file
 * (either layout, see config/load.ts). Warnings go to `warn`; the line naming keys taken from a preset to `info`
 * (default: `warn`).
 */
export function loadBeaconConfig(arg: string, warn: (msg: string) => void, info: (msg: string) => void = warn): BeaconConfig {
  if (isNamedConfig(arg)) return getNamedConfig(arg);
  let text: string;
  try {
    text = readFileSync(arg, "utf8");
  } catch (e) {
    const hint = /[\\/.]/.test(arg) ? "" : " (--config takes minimal, mainnet, or the path of a config YAML file)";
    throw new CliError(`cannot read config file ${arg}: ${fsReason(e)}${hint}`, { cause: e });
  }
  try {
    return createBeaconConfig(
      parseChainConfigYaml(text, { warn: (msg) => warn(`config file ${arg}: ${msg}`), info: (msg) => info(`config file ${arg}: ${msg}`) }),
    );
  } catch (e) {
    throw new CliError(`config file ${arg}: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * Why SSZ bytes are not a BeaconState for `config`, said as what to do: the preset the config uses, and the
 * other preset's name when the bytes are one of its states (the usual cause: the wrong --network or --config).
 */
export function notAStateMessage(config: BeaconConfig, bytes: Uint8Array, flag: string, detail: string): string {
  const ours = config.SLOTS_PER_HISTORICAL_ROOT === getNamedConfig("minimal").SLOTS_PER_HISTORICAL_ROOT ? "minimal" : "mainnet";
  const other = ours === "minimal" ? "mainnet" : "minimal";
  let decodesAsOther = false;
  try {
    getNamedConfig(other).types.BeaconState.deserialize(bytes);
    decodesAsOther = true;
  } catch {
    // not the other preset's either
  }
  const hint = decodesAsOther ? ` (it is a ${other}-preset state)` : "";
  return `not a BeaconState for the ${ours} preset: wrong ${flag}?${hint} (${detail})`;
}

/**
 * The finalized epoch a healthy chain shows at the start of `epoch` (for `--until-epoch`): epoch - 2, from epoch 4
 * on; before that nothing can be final (epochs 0 and 1 are never justified by votes, the first finality is epoch 2).
 */
export function expectedFinalizedEpoch(epoch: number): number {
  return epoch >= 4 ? epoch - 2 : 0;
}

/**
 * Where a network's data lives when no --datadir is given: $XDG_DATA_HOME/cairn/<network>/<role> (by default
 * ~/.local/share/cairn/<network>/<role>), so a node and a validator client of one network never share a directory
 * and two networks never share a database.
 */
export function defaultDatadir(network: string, role: "beacon" | "validator", env: NodeJS.ProcessEnv = process.env): string {
  const base = env["XDG_DATA_HOME"] || join(env["HOME"] || homedir(), ".local", "share");
  return join(base, "cairn", network.replace(/[^A-Za-z0-9._-]/g, "_"), role);
}
