// Checkpoint sync: start an empty node from a recent finalized state and its block instead of from genesis, the
// state fetched from trusted beacon nodes' REST APIs (SSZ) or read from files. What is trusted is the source: the
// checks here only make sure the state and block belong together, to this network, and are recent enough
// (weak-subjectivity.md of v0.12.3) that the validator set which finalized them is still accountable.
import { readFileSync } from "node:fs";
import type { BeaconConfig } from "../config/index.js";
import { genesisMismatch } from "../config/networks.js";
import { checkAnchorState, createCachedBeaconState, processSlots, type CachedBeaconState } from "../state-transition/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { computeWeakSubjectivityPeriod, isWithinWeakSubjectivityPeriod } from "../state-transition/util/weakSubjectivity.js";
import type { BeaconBlockHeader, SignedBeaconBlock } from "../types/index.js";
import { bytesEqual, toHex } from "../util/bytes.js";
import { nullLogger, type Logger } from "../util/logger.js";

/** Where the checkpoint comes from: trusted beacon nodes (all must agree), or a state file and a block file. */
export interface CheckpointSource {
  urls?: string[];
  stateFile?: string;
  blockFile?: string;
  /** start from a checkpoint older than the weak subjectivity period */
  force?: boolean;
}

export interface CheckpointContext {
  config: BeaconConfig;
  /** the network's published genesis facts (bundled networks), checked against the state */
  network?: Parameters<typeof genesisMismatch>[0] | null;
  /** the genesis state, when the node has one: its validators root is checked, its block root ends backfill */
  genesis?: CachedBeaconState | null;
  /** the wall clock, ms */
  now?: () => number;
  logger?: Logger;
  /** the largest response accepted (default 512 MiB: a mainnet state of 100,000 validators is ~15 MB) */
  maxBytes?: number;
  /** per download (default 5 minutes) */
  timeoutMs?: number;
}

export interface CheckpointAnchor {
  /** at the first slot of the checkpoint's epoch */
  state: CachedBeaconState;
  block: SignedBeaconBlock;
  epoch: number;
  /** the checkpoint's block root, 0x-hex */
  root: string;
  /** known when the node has the genesis state, or the anchor is recent enough to remember it */
  genesisBlockRoot: Uint8Array | null;
}

/** Refused: the source failed, disagreed, or served something that is not a usable checkpoint. */
export class CheckpointSyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointSyncError";
  }
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const SSZ = "application/octet-stream";

/** Fetches (or reads) the checkpoint, checks it, and returns the anchor the chain starts from. */
export async function loadCheckpoint(source: CheckpointSource, ctx: CheckpointContext): Promise<CheckpointAnchor> {
  const { config } = ctx;
  const logger = ctx.logger ?? nullLogger;
  let state: DecodedState;
  let blockBytes: Uint8Array;
  let from: string;
  if (source.urls && source.urls.length > 0) {
    const urls = source.urls.map((u) => u.replace(/\/+$/, ""));
    // every source's finalized state, at once: they must name the same checkpoint
    const states = await Promise.all(
      urls.map(async (url) => decodeState(config, await fetchFinalizedState(url, ctx), url)),
    );
    for (let i = 1; i < states.length; i++) {
      const [a, b] = [states[0], states[i]];
      if (a.epoch !== b.epoch || a.root !== b.root) {
        throw new CheckpointSyncError(
          `the checkpoint sync sources disagree: ${urls[0]} has finalized epoch ${a.epoch} root ${a.root}, ` +
            `${urls[i]} has epoch ${b.epoch} root ${b.root}; not starting (try again once they agree, or trust one)`,
        );
      }
    }
    state = states[0];
    from = urls[0];
    blockBytes = await fetchBlock(urls[0], state.root, ctx);
  } else if (source.stateFile !== undefined && source.blockFile !== undefined) {
    state = decodeState(config, readFile(source.stateFile, "checkpoint state"), source.stateFile);
    blockBytes = readFile(source.blockFile, "checkpoint block");
    from = source.stateFile;
  } else {
    throw new CheckpointSyncError("checkpoint sync needs URLs, or a state file and a block file");
  }
  const anchor = checkCheckpoint(state, blockBytes, { ...ctx, force: source.force ?? false, logger });
  logger.info("checkpoint verified", { source: from, epoch: anchor.epoch, root: anchor.root, slot: anchor.block.message.slot });
  return anchor;
}

interface DecodedState {
  view: ReturnType<BeaconConfig["types"]["BeaconState"]["deserializeToViewDU"]>;
  /** the root of its latest block (the header with the state root filled in) */
  root: string;
  header: BeaconBlockHeader;
  /** the checkpoint epoch it stands for: its own, or the next one when it is inside an epoch */
  epoch: number;
  source: string;
}

/** A genesis state handed in as bytes (`--genesis-state`, a network's genesis.ssz): decoded and checked like a checkpoint's. */
export function decodeGenesisState(config: BeaconConfig, bytes: Uint8Array): DecodedState["view"] {
  return decodeAnchorView(config, bytes, "the genesis state");
}

/** A BeaconState of this config that passes the anchor checks, or a CheckpointSyncError naming `what` it was. */
function decodeAnchorView(config: BeaconConfig, bytes: Uint8Array, what: string): DecodedState["view"] {
  let view;
  try {
    view = config.types.BeaconState.deserializeToViewDU(bytes);
  } catch (e) {
    throw new CheckpointSyncError(`${what} is not a BeaconState for the ${config.CONFIG_NAME} config: ${(e as Error).message}`);
  }
  try {
    checkAnchorState(config, view);
  } catch (e) {
    throw new CheckpointSyncError(`${what} is refused: ${(e as Error).message}`);
  }
  return view;
}

function decodeState(config: BeaconConfig, bytes: Uint8Array, source: string): DecodedState {
  const view = decodeAnchorView(config, bytes, `the state from ${source}`);
  const header = view.latestBlockHeader.toValue();
  if (bytesEqual(header.stateRoot, new Uint8Array(32))) header.stateRoot = view.hashTreeRoot();
  const root = toHex(config.types.BeaconBlockHeader.hashTreeRoot(header));
  const epoch = Math.ceil(view.slot / config.SLOTS_PER_EPOCH);
  return { view, root, header, epoch, source };
}

/**
 * The checks of a checkpoint: the block is the state's latest block, the state is of this network, and it is within
 * the weak subjectivity period (unless forced). A state inside an epoch is advanced to the epoch's first slot.
 */
function checkCheckpoint(s: DecodedState, blockBytes: Uint8Array, ctx: CheckpointContext & { force: boolean; logger: Logger }): CheckpointAnchor {
  const { config: c, logger } = ctx;
  let block: SignedBeaconBlock;
  try {
    block = c.types.SignedBeaconBlock.deserialize(blockBytes);
  } catch (e) {
    throw new CheckpointSyncError(`the checkpoint block is not a SignedBeaconBlock: ${(e as Error).message}`);
  }
  const m = block.message;
  const blockRoot = toHex(c.types.BeaconBlock.hashTreeRoot(m));
  if (blockRoot !== s.root) {
    const stateRoot = toHex(s.view.hashTreeRoot());
    // at the block's own slot the header's state root is the state's: that is the usual way they differ
    const why =
      m.slot === s.header.slot && !bytesEqual(m.stateRoot, s.header.stateRoot)
        ? `the block's state_root ${toHex(m.stateRoot)} is not the state's hash_tree_root ${stateRoot}`
        : `the state's latest block header (slot ${s.header.slot}, root ${s.root}) is not the block (slot ${m.slot}, root ${blockRoot})`;
    throw new CheckpointSyncError(`the checkpoint state and block do not match: ${why}`);
  }
  // this network's: the published genesis, the genesis state the node has, the fork of phase 0
  const wrong = ctx.network ? genesisMismatch(ctx.network, { genesisValidatorsRoot: s.view.genesisValidatorsRoot, genesisTime: s.view.genesisTime }) : null;
  if (wrong) throw new CheckpointSyncError(`the checkpoint state is not of ${ctx.network!.name}: ${wrong}`);
  const genesis = ctx.genesis?.state;
  if (genesis && !bytesEqual(genesis.genesisValidatorsRoot, s.view.genesisValidatorsRoot)) {
    throw new CheckpointSyncError(
      `the checkpoint state's genesis_validators_root ${toHex(s.view.genesisValidatorsRoot)} is not this network's ${toHex(genesis.genesisValidatorsRoot)}`,
    );
  }
  const fork = s.view.fork;
  if (!bytesEqual(fork.currentVersion, c.GENESIS_FORK_VERSION)) {
    throw new CheckpointSyncError(`the checkpoint state's fork version ${toHex(fork.currentVersion)} is not this network's ${toHex(c.GENESIS_FORK_VERSION)}`);
  }

  const state = createCachedBeaconState(c, s.view);
  const epochStart = computeStartSlotAtEpoch(c, s.epoch);
  if (state.state.slot < epochStart) {
    processSlots(state, epochStart);
    state.state.commit();
  }

  // weak subjectivity: a checkpoint older than the period could be on a chain finalized by withdrawn validators
  const period = computeWeakSubjectivityPeriod(c, state.epochCtx.currentShuffling.activeIndices.length);
  const now = (ctx.now ?? Date.now)();
  const clockSlot = Math.floor((now / 1000 - state.state.genesisTime) / c.SECONDS_PER_SLOT);
  const currentEpoch = Math.max(0, computeEpochAtSlot(c, Math.max(0, clockSlot)));
  const age = currentEpoch - s.epoch;
  if (!isWithinWeakSubjectivityPeriod(s.epoch, period, currentEpoch)) {
    const days = ((age * c.SLOTS_PER_EPOCH * c.SECONDS_PER_SLOT) / 86400).toFixed(1);
    const message =
      `the checkpoint (epoch ${s.epoch}) is ${age} epochs old (~${days} days), beyond the weak subjectivity period of ${period} epochs ` +
      `for its ${state.epochCtx.currentShuffling.activeIndices.length} active validators`;
    if (!ctx.force) throw new CheckpointSyncError(`${message}: refused (use a recent checkpoint, or --force to start from it anyway)`);
    logger.warn(`${message}: starting from it anyway (--force)`);
  }

  let genesisBlockRoot: Uint8Array | null = null;
  if (ctx.genesis) {
    const g = ctx.genesis.state;
    const h = g.latestBlockHeader.toValue();
    if (bytesEqual(h.stateRoot, new Uint8Array(32))) h.stateRoot = g.hashTreeRoot();
    genesisBlockRoot = c.types.BeaconBlockHeader.hashTreeRoot(h);
  } else if (state.state.slot <= c.SLOTS_PER_HISTORICAL_ROOT) {
    // block_roots[0] is the genesis block's until slot SLOTS_PER_HISTORICAL_ROOT overwrites it
    genesisBlockRoot = Uint8Array.from(state.state.blockRoots.get(0));
  }
  return { state, block, epoch: s.epoch, root: blockRoot, genesisBlockRoot };
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CheckpointSyncError(`cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The block by root: /eth/v2 first, then /eth/v1 (servers of the v0.12 era have only the latter). */
/** Phase 0's /eth/v1/debug path, else /eth/v2/debug: the Beacon API deprecated v1 at Altair, and servers may drop it. */
async function fetchFinalizedState(base: string, ctx: CheckpointContext): Promise<Uint8Array> {
  try {
    return await fetchSsz(`${base}/eth/v1/debug/beacon/states/finalized`, "finalized state", ctx);
  } catch (e) {
    if (!(e instanceof HttpStatusError)) throw e;
    return fetchSsz(`${base}/eth/v2/debug/beacon/states/finalized`, "finalized state", ctx);
  }
}

async function fetchBlock(base: string, root: string, ctx: CheckpointContext): Promise<Uint8Array> {
  const url = `${base}/eth/v2/beacon/blocks/${root}`;
  try {
    return await fetchSsz(url, "checkpoint block", ctx);
  } catch (e) {
    if (e instanceof NotSszError) return fetchJsonBlock(url, ctx);
    if (!(e instanceof HttpStatusError)) throw e;
    return fetchSsz(`${base}/eth/v1/beacon/blocks/${root}`, "checkpoint block", ctx);
  }
}

/**
 * The block as JSON, from servers that answer blocks only in JSON (Lodestar 1.5 does, SSZ only for states). Its
 * root is checked against the state's latest block like any other, so the encoding adds nothing to trust.
 */
async function fetchJsonBlock(url: string, ctx: CheckpointContext): Promise<Uint8Array> {
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_BYTES;
  let text: string;
  try {
    const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
    if (!res.ok) throw new CheckpointSyncError(`checkpoint block: ${url} answered ${res.status}`);
    if (Number(res.headers.get("content-length") ?? NaN) > maxBytes) throw new CheckpointSyncError(`checkpoint block: ${url} would send more than the ${maxBytes} bytes accepted`);
    text = await res.text();
  } catch (e) {
    if (e instanceof CheckpointSyncError) throw e;
    throw new CheckpointSyncError(`checkpoint block: cannot fetch ${url}: ${(e as Error).message}`);
  }
  const t = ctx.config.types.SignedBeaconBlock;
  try {
    return t.serialize(t.fromJson((JSON.parse(text) as { data?: unknown }).data));
  } catch (e) {
    throw new CheckpointSyncError(`checkpoint block: ${url} answered JSON that is not a phase 0 SignedBeaconBlock: ${(e as Error).message}`);
  }
}

class HttpStatusError extends CheckpointSyncError {}
class NotSszError extends CheckpointSyncError {}

/** GET `url` as SSZ, bounded in size and time, with a log line for what was downloaded. */
export async function fetchSsz(url: string, what: string, ctx: Pick<CheckpointContext, "logger" | "maxBytes" | "timeoutMs">): Promise<Uint8Array> {
  const logger = ctx.logger ?? nullLogger;
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const fail = (e: unknown): never => {
    if (e instanceof CheckpointSyncError) throw e;
    if (signal.aborted) throw new CheckpointSyncError(`${what}: ${url} did not answer within ${Math.round(timeoutMs / 1000)} s`);
    throw new CheckpointSyncError(`${what}: cannot fetch ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  };
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: SSZ }, signal });
  } catch (e) {
    return fail(e);
  }
  try {
    if (!res.ok) {
      const text = (await res.text().catch(() => "")).slice(0, 200);
      throw new HttpStatusError(`${what}: ${url} answered ${res.status}${text ? `: ${text}` : ""}`);
    }
    const type = res.headers.get("content-type") ?? "";
    if (!type.startsWith(SSZ)) throw new NotSszError(`${what}: ${url} answered content-type ${JSON.stringify(type)}, not SSZ (${SSZ})`);
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) throw new CheckpointSyncError(`${what}: ${url} would send ${declared} bytes, more than the ${maxBytes} accepted`);
    logger.info(`downloading the ${what}`, { url, bytes: Number.isFinite(declared) ? declared : "?" });
    const chunks: Uint8Array[] = [];
    let total = 0;
    let logged = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) throw new CheckpointSyncError(`${what}: ${url} sent more than the ${maxBytes} bytes accepted`);
      chunks.push(chunk);
      if (total - logged >= 16 * 1024 * 1024) {
        logged = total;
        logger.info(`downloading the ${what}`, { url, received: total, of: Number.isFinite(declared) ? declared : "?" });
      }
    }
    const out = Buffer.concat(chunks);
    logger.info(`downloaded the ${what}`, { url, bytes: out.length, ms: Math.round(performance.now() - started) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (!signal.aborted) await res.body?.cancel().catch(() => undefined);
    return fail(e);
  }
}
