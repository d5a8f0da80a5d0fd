// cairn transition: run the state transition over SSZ files.
//
//   cairn transition --config minimal|mainnet|FILE.yaml --pre STATE.ssz [--blocks B1.ssz B2.ssz ...]
//                    [--slots N | --to-slot S] [--no-verify-signatures] [--out POST.ssz]
//
// Every input is read and decoded before any work starts, so a missing or malformed file is reported at once.
import type { BeaconConfig } from "../../config/index.js";
import { createCachedBeaconState, processSlots, stateTransition } from "../../state-transition/index.js";
import type { BeaconStateView, SignedBeaconBlock } from "../../types/index.js";
import { toHex } from "../../util/bytes.js";
import {
  CliError,
  EXIT_OK,
  errorMessage,
  loadBeaconConfig,
  notAStateMessage,
  readInputFile,
  writeFileAtomic,
  type Command,
  type Io,
} from "../common.js";
import { flag, optionsHelp, parseOptions, str, strings, uint } from "../options.js";

const NAME = "transition";

const OPTIONS = {
  config: str("<C>", "minimal or mainnet (the spec v0.12.3 presets), or the path of a\nconfig YAML file (a full phase 0 config, or PRESET_BASE + overrides)"),
  pre: str("<FILE>", "the pre-state: an SSZ-serialized BeaconState"),
  // the files come from the tokens (see parseTransitionArgs): the value after --blocks and the positionals after it
  blocks: strings("<FILE>...", "SSZ-serialized SignedBeaconBlocks, applied in the order given; takes\nseveral files, and may be repeated"),
  slots: uint("<N>", "after the blocks, advance N more slots (processing epochs on the way)"),
  "to-slot": uint("<S>", "after the blocks, advance to slot S (not together with --slots)"),
  "no-verify-signatures": flag("skip BLS signature checks (block state roots are always checked)"),
  out: str("<FILE>", "also write the SSZ-serialized post-state to FILE (atomically)"),
  help: flag("show this help", { short: "h" }),
};

const help = `Usage: cairn transition --config <minimal|mainnet|FILE.yaml> --pre <STATE.ssz>
                         [--blocks <B1.ssz> [<B2.ssz> ...]] [--slots <N> | --to-slot <S>]
                         [--no-verify-signatures] [--out <POST.ssz>]

Applies signed blocks, then optionally empty slots, to a pre-state and prints the
post-state's hash tree root (0x-hex) on stdout.

${optionsHelp(OPTIONS)}
Exit status: 0 on success; 2 on any error, reported as one line on stderr
(set CAIRN_DEBUG=1 to add a stack trace).
`;

interface TransitionArgs {
  config: string;
  pre: string;
  blocks: string[];
  slots?: number;
  toSlot?: number;
  verifySignatures: boolean;
  out?: string;
}

function parseTransitionArgs(args: string[]): TransitionArgs {
  const { values, given, tokens } = parseOptions(NAME, OPTIONS, args, { allowPositionals: true });

  // `--blocks a b c`: parseArgs gives `a` to --blocks and `b`, `c` as positionals; a positional is a block file
  // only while the last option seen is --blocks.
  const blocks: string[] = [];
  const seen = new Set<string>();
  let inBlocks = false;
  for (const t of tokens) {
    if (t.kind === "option") {
      if (t.name !== "blocks" && seen.has(t.name)) throw new CliError(`--${t.name} is given more than once`);
      seen.add(t.name);
      inBlocks = t.name === "blocks";
      if (inBlocks && t.value !== undefined) blocks.push(t.value);
    } else if (t.kind === "positional") {
      if (!inBlocks) {
        throw new CliError(`unexpected argument ${JSON.stringify(t.value)} (block files follow --blocks; see cairn ${NAME} --help)`);
      }
      blocks.push(t.value);
    }
  }

  if (values.config === undefined) {
    throw new CliError(`missing --config (minimal, mainnet, or a config YAML file; see cairn ${NAME} --help)`);
  }
  if (values.pre === undefined) throw new CliError(`missing --pre (the pre-state SSZ file; see cairn ${NAME} --help)`);
  for (const [flag, v] of [["--config", values.config], ["--pre", values.pre], ["--out", values.out]] as const) {
    if (v === "") throw new CliError(`${flag}: expected a value, got an empty string`);
  }
  if (blocks.includes("")) throw new CliError("--blocks: expected file names, got an empty string");
  if (given("slots") && given("to-slot")) {
    throw new CliError("--slots and --to-slot cannot be used together");
  }
  const result: TransitionArgs = {
    config: values.config,
    pre: values.pre,
    blocks,
    verifySignatures: !values["no-verify-signatures"],
  };
  if (given("slots")) result.slots = values.slots;
  if (given("to-slot")) result.toSlot = values["to-slot"];
  if (values.out !== undefined) result.out = values.out;
  return result;
}

function sizeProblem(length: number, type: { minSize: number; maxSize: number }): string | undefined {
  if (length === 0) return "the file is empty";
  if (length < type.minSize) return `${length} bytes is shorter than the minimum of ${type.minSize} (truncated, or another type?)`;
  if (length > type.maxSize) return `${length} bytes is longer than the maximum of ${type.maxSize} (another type?)`;
  return undefined;
}

function decodeState(config: BeaconConfig, path: string): BeaconStateView {
  const label = `pre-state file ${path}`;
  const bytes = readInputFile(path, label);
  const type = config.types.BeaconState;
  const problem = sizeProblem(bytes.length, type);
  if (problem) throw new CliError(`${label} is ${notAStateMessage(config, bytes, "--config", problem)}`);
  try {
    return type.deserializeToViewDU(bytes);
  } catch (e) {
    throw new CliError(`${label} is ${notAStateMessage(config, bytes, "--config", errorMessage(e))}`, { cause: e });
  }
}

function decodeBlock(config: BeaconConfig, configArg: string, label: string, path: string): SignedBeaconBlock {
  const bytes = readInputFile(path, label);
  const type = config.types.SignedBeaconBlock;
  const what = `is not an SSZ SignedBeaconBlock for config ${configArg}`;
  const problem = sizeProblem(bytes.length, type);
  if (problem) throw new CliError(`${label} ${what}: ${problem}`);
  try {
    return type.deserialize(bytes);
  } catch (e) {
    throw new CliError(`${label} ${what}: ${errorMessage(e)}`, { cause: e });
  }
}

function run(args: string[], io: Io): number {
  const opts = parseTransitionArgs(args);
  const config = loadBeaconConfig(opts.config, (msg) => io.stderr(`warning: ${msg}\n`));

  const preView = decodeState(config, opts.pre);
  const blocks = opts.blocks.map((path, i) => {
    const label = `block ${i + 1} (${path})`;
    return { label, block: decodeBlock(config, opts.config, label, path) };
  });

  // Where the state will be after the blocks (a valid block moves the state to its slot).
  const last = blocks.at(-1);
  const slotAfterBlocks = last ? last.block.message.slot : preView.slot;
  if (!Number.isSafeInteger(slotAfterBlocks)) {
    throw new CliError(
      last ? `${last.label} has an out-of-range slot` : `pre-state file ${opts.pre} has an out-of-range slot`,
    );
  }
  const where = last ? `after ${last.label}` : "in the pre-state";
  let targetSlot: number | undefined;
  if (opts.slots !== undefined) {
    targetSlot = slotAfterBlocks + opts.slots;
    if (!Number.isSafeInteger(targetSlot)) throw new CliError(`--slots ${opts.slots} goes past the largest supported slot`);
  } else if (opts.toSlot !== undefined) {
    if (opts.toSlot < slotAfterBlocks) {
      throw new CliError(`--to-slot ${opts.toSlot} is in the past: the state is at slot ${slotAfterBlocks} ${where}`);
    }
    targetSlot = opts.toSlot;
  }

  let cached;
  try {
    cached = createCachedBeaconState(config, preView);
  } catch (e) {
    throw new CliError(`pre-state file ${opts.pre} cannot be used: ${errorMessage(e)}`, { cause: e });
  }

  for (const { label, block } of blocks) {
    try {
      cached = stateTransition(cached, block, { verifySignatures: opts.verifySignatures, verifyStateRoot: true });
    } catch (e) {
      throw new CliError(`${label} is invalid: ${errorMessage(e)}`, { cause: e });
    }
  }

  if (targetSlot !== undefined && targetSlot > cached.state.slot) {
    try {
      processSlots(cached, targetSlot);
    } catch (e) {
      throw new CliError(`cannot advance to slot ${targetSlot}: ${errorMessage(e)}`, { cause: e });
    }
  }

  const root = cached.state.hashTreeRoot();
  if (opts.out !== undefined) writeFileAtomic(opts.out, cached.state.serialize(), `post-state file ${opts.out}`);
  io.stdout(`${toHex(root)}\n`);
  return EXIT_OK;
}

export const command: Command = {
  help,
  run,
};
