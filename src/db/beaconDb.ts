// The beacon node's hot/cold store over one LevelDB database (layout in schema.ts).
//
//   hot blocks      every imported, not yet finalized block (any fork), by block root
//   finalized       the canonical finalized chain, by slot, with a root -> slot index (served to syncing peers)
//   cold states     finalized states every N epochs, by slot: the anchors state regeneration replays from
//   hot states      unfinalized states persisted every M epochs, so a restart does not replay from finality
//                   (state bytes live in files under <path>/states; LevelDB holds pointers: see stateFiles.ts)
//   eth1            deposit logs and the followed eth1 block (the eth1 follower)
//   meta            schema version, network, genesis, checkpoints, head, anchor
//
// Every read validates what it returns: a truncated, damaged or undecodable value is a DbError CORRUPT_VALUE naming
// the bucket and key (the caller can drop that one item), never a crash. One chain import commits its block, the
// fork-choice meta and an optional state in one atomic batch: `db.newBatch().putBlock(..).putMeta(..).commit()`.
import { join } from "node:path";
import type { BeaconConfig } from "../config/index.js";
import type { DepositData, SignedBeaconBlock } from "../types/index.js";
import { bytesEqual, fromHex, toHex } from "../util/bytes.js";
import { DbController, type BatchOp, type ControllerOptions, type WriteOptions } from "./controller.js";
import { DbError, corruptMeta, corruptValue, invalidArgument } from "./errors.js";
import { StateFiles, decodeStatePointer, encodeStatePointer } from "./stateFiles.js";
import {
  Bucket,
  SCHEMA_VERSION,
  bucketName,
  decodeBlob,
  decodeMeta,
  decodeSlotValue,
  encodeBlob,
  encodeMeta,
  encodeSlot,
  hotStateKey,
  metaKey,
  parseHotStateKey,
  parseSlotKey,
  rootKey,
  schemaVersionMismatch,
  readUint64BE,
  slotKey,
  writeUint64BE,
  type MetaKey,
  type MetaValues,
} from "./schema.js";

export interface BeaconDbOptions extends ControllerOptions {
  /** The network's config: its SSZ types decode blocks; its CONFIG_NAME is stored at creation and checked on open. */
  config: BeaconConfig;
  /** When given: stored if the database has none yet, otherwise must equal the stored one. */
  genesisValidatorsRoot?: Uint8Array;
}

/** A finalized block to store, as a value or as its SSZ bytes. */
export type FinalizedBlockInput =
  | { slot: number; root: Uint8Array; block: SignedBeaconBlock }
  | { slot: number; root: Uint8Array; bytes: Uint8Array };

export interface SlotBlock {
  slot: number;
  block: SignedBeaconBlock;
}
export interface SlotBlockBytes {
  slot: number;
  bytes: Uint8Array;
}
export interface StoredState {
  slot: number;
  bytes: Uint8Array;
}
export interface StoredHotState extends StoredState {
  /** The root the state was stored under (the caller's state root or block root). */
  root: Uint8Array;
}

/** Every meta value the node reads at start-up; null when never written. */
export type ChainMeta = { [K in MetaKey]: MetaValues[K] | null };

const META_KEYS: MetaKey[] = ["genesisTime", "genesisValidatorsRoot", "finalizedCheckpoint", "justifiedCheckpoint", "headRoot", "anchor", "backfill"];

/** Offset of the message in SignedBeaconBlock SSZ (4-byte offset ‖ 96-byte signature); its slot is the first 8 bytes. */
const SIGNED_BLOCK_MESSAGE_OFFSET = 4 + 96;

export class BeaconDb {
  private constructor(
    readonly controller: DbController,
    readonly config: BeaconConfig,
    readonly stateFiles: StateFiles,
  ) {}

  /**
   * Opens the database at `path` (creating it and its directory when missing) and checks it belongs to this Cairn
   * and this network. Throws DbError SCHEMA_VERSION_MISMATCH, NETWORK_MISMATCH, NOT_A_CAIRN_DB, CORRUPT_META,
   * LOCKED, CORRUPT_DATABASE or OPEN_FAILED with an operator-facing message.
   */
  static async open(path: string, options: BeaconDbOptions): Promise<BeaconDb> {
    const controller = await DbController.open(path, options);
    try {
      // inside the LevelDB directory, so its LOCK also guards the state files
      const db = new BeaconDb(controller, options.config, await StateFiles.open(join(path, "states")));
      await db.checkOrInitMeta(options.genesisValidatorsRoot);
      await db.sweepStateFiles();
      return db;
    } catch (e) {
      await controller.close();
      throw e;
    }
  }

  /** Removes state files that no pointer references (what a crash between a file write and its batch leaves). */
  private async sweepStateFiles(): Promise<void> {
    const referenced = new Set<string>();
    for (const bucket of [Bucket.coldState, Bucket.hotState]) {
      for (const { key, value } of await this.controller.entries({ prefix: Uint8Array.of(bucket) })) {
        try {
          referenced.add(decodeStatePointer(value, bucket, key).name);
        } catch {
          // a damaged pointer reports itself when read; it references nothing here
        }
      }
    }
    await this.stateFiles.sweep(referenced);
  }

  /** Reads the state a pointer value names. */
  async readStatePointer(value: Uint8Array, bucket: number, key: Uint8Array): Promise<Uint8Array> {
    const bytes = await this.stateFiles.read(decodeStatePointer(value, bucket, key), bucket, key);
    this.checkStateSize(bytes, bucket, key);
    return bytes;
  }

  get path(): string {
    return this.controller.path;
  }

  async close(): Promise<void> {
    await this.controller.close();
  }

  /** A write batch: every op is committed atomically by `commit()`. */
  newBatch(): BeaconDbBatch {
    return new BeaconDbBatch(this);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Hot blocks (by root)

  async putBlock(root: Uint8Array, block: SignedBeaconBlock, options?: WriteOptions): Promise<void> {
    await this.newBatch().putBlock(root, block).commit(options);
  }

  /** Stores already-serialized SignedBeaconBlock SSZ (e.g. as received from the network). */
  async putBlockBytes(root: Uint8Array, bytes: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.newBatch().putBlockBytes(root, bytes).commit(options);
  }

  async getBlock(root: Uint8Array): Promise<SignedBeaconBlock | null> {
    const key = rootKey(Bucket.hotBlock, root);
    const bytes = await this.readBlob(key, Bucket.hotBlock);
    return bytes === null ? null : this.decodeBlock(bytes, Bucket.hotBlock, key);
  }

  /** The block's SSZ bytes (checksum-verified, not decoded). */
  async getBlockBytes(root: Uint8Array): Promise<Uint8Array | null> {
    const key = rootKey(Bucket.hotBlock, root);
    return this.readBlob(key, Bucket.hotBlock);
  }

  /** The SSZ bytes of several blocks in one read (null where a block is not stored). */
  async getBlocksBytes(roots: Uint8Array[]): Promise<(Uint8Array | null)[]> {
    const keys = roots.map((root) => rootKey(Bucket.hotBlock, root));
    const values = await this.controller.getMany(keys);
    return values.map((value, i) => (value === undefined ? null : decodeBlob(value, Bucket.hotBlock, keys[i])));
  }

  async hasBlock(root: Uint8Array): Promise<boolean> {
    return this.controller.has(rootKey(Bucket.hotBlock, root));
  }

  /** Roots of every hot block, in byte order. */
  async listBlockRoots(): Promise<Uint8Array[]> {
    const keys = await this.controller.keys({ prefix: Uint8Array.of(Bucket.hotBlock) });
    return keys.map((k) => k.slice(1));
  }

  /** Streams every hot block's root and checksum-verified SSZ bytes (e.g. to rebuild fork choice on restart). */
  /** Every stored block summary (JSON objects as the chain wrote them). */
  async getBlockSummaries(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const { key, value } of this.controller.iterate({ prefix: Uint8Array.of(Bucket.blockSummary) })) {
      const text = new TextDecoder().decode(decodeBlob(value, Bucket.blockSummary, key));
      try {
        out.push(JSON.parse(text));
      } catch {
        throw new DbError({ code: "CORRUPT_VALUE", bucket: "blockSummary", key: toHex(key).slice(2), reason: "not JSON" }, "block summary is not valid JSON");
      }
    }
    return out;
  }

  async getForkChoiceVotes(): Promise<StoredVote[] | null> {
    const key = Uint8Array.of(Bucket.forkChoiceVotes);
    const value = await this.controller.get(key);
    if (!value) return null;
    return decodeVotes(decodeBlob(value, Bucket.forkChoiceVotes, key), key);
  }

  /** The stored deposit logs (index order) and how far they were followed; throws CORRUPT_VALUE on a gap. */
  async getEth1Deposits(): Promise<{ progress: Eth1Progress | null; deposits: StoredDeposit[] }> {
    const progressKey = Uint8Array.of(Bucket.eth1Progress);
    const p = await this.controller.get(progressKey);
    let progress: Eth1Progress | null = null;
    if (p) {
      const bytes = decodeBlob(p, Bucket.eth1Progress, progressKey);
      const followedBlock = bytes.length === 28 ? readUint64BE(bytes, 20) : null;
      if (followedBlock === null) throw corruptValue("eth1Progress", toHex(progressKey), "malformed");
      progress = { depositContract: bytes.slice(0, 20), followedBlock };
    }
    const deposits: StoredDeposit[] = [];
    for await (const { key, value } of this.controller.iterate({ prefix: Uint8Array.of(Bucket.eth1Deposit) })) {
      const index = parseSlotKey(key, Bucket.eth1Deposit);
      if (index !== deposits.length) throw corruptValue("eth1Deposit", toHex(key), `deposit ${index} follows deposit ${deposits.length - 1}`);
      const bytes = decodeBlob(value, Bucket.eth1Deposit, key);
      const blockNumber = bytes.length > 8 ? readUint64BE(bytes) : null;
      if (blockNumber === null) throw corruptValue("eth1Deposit", toHex(key), "malformed");
      try {
        deposits.push({ blockNumber, data: this.config.types.DepositData.deserialize(bytes.subarray(8)) });
      } catch (e) {
        throw corruptValue("eth1Deposit", toHex(key), `not a DepositData: ${(e as Error).message}`, e);
      }
    }
    return { progress, deposits };
  }

  /** Appends deposits `firstIndex`.. and records the followed block, atomically (synced). */
  async putEth1Deposits(firstIndex: number, deposits: StoredDeposit[], progress: Eth1Progress): Promise<void> {
    if (progress.depositContract.length !== 20) throw invalidArgument("deposit contract must be 20 bytes");
    const ops: BatchOp[] = deposits.map((d, k) => {
      const ssz = this.config.types.DepositData.serialize(d.data);
      const payload = new Uint8Array(8 + ssz.length);
      writeUint64BE(payload, 0, d.blockNumber);
      payload.set(ssz, 8);
      return { type: "put", key: slotKey(Bucket.eth1Deposit, firstIndex + k), value: encodeBlob(payload) };
    });
    const p = new Uint8Array(28);
    p.set(progress.depositContract);
    writeUint64BE(p, 20, progress.followedBlock);
    ops.push({ type: "put", key: Uint8Array.of(Bucket.eth1Progress), value: encodeBlob(p) });
    await this.controller.batch(ops, { sync: true });
  }

  async *iterateBlockBytes(): AsyncGenerator<{ root: Uint8Array; bytes: Uint8Array }> {
    for await (const { key, value } of this.controller.iterate({ prefix: Uint8Array.of(Bucket.hotBlock) })) {
      yield { root: key.slice(1), bytes: decodeBlob(value, Bucket.hotBlock, key) };
    }
  }

  async deleteBlocks(roots: Uint8Array[], options?: WriteOptions): Promise<void> {
    await this.newBatch().deleteBlocks(roots).commit(options);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Finalized (cold) blocks (by slot, root -> slot index)

  /** Stores finalized blocks in one atomic batch. Move blocks from hot to cold with a batch that also deletes them. */
  async putFinalizedBlocks(items: FinalizedBlockInput[], options?: WriteOptions): Promise<void> {
    const batch = this.newBatch();
    for (const item of items) batch.putFinalizedBlock(item);
    await batch.commit(options);
  }

  async getFinalizedBlockBySlot(slot: number): Promise<SignedBeaconBlock | null> {
    const key = slotKey(Bucket.finalizedBlock, slot);
    const bytes = await this.readBlob(key, Bucket.finalizedBlock);
    return bytes === null ? null : this.decodeBlock(bytes, Bucket.finalizedBlock, key);
  }

  async getFinalizedBlockBytesBySlot(slot: number): Promise<Uint8Array | null> {
    return this.readBlob(slotKey(Bucket.finalizedBlock, slot), Bucket.finalizedBlock);
  }

  /** The slot of a finalized block, from the root index. */
  async getFinalizedSlotByRoot(root: Uint8Array): Promise<number | null> {
    const key = rootKey(Bucket.finalizedBlockRoot, root);
    const value = await this.controller.get(key);
    return value === undefined ? null : decodeSlotValue(value, Bucket.finalizedBlockRoot, key);
  }

  async getFinalizedBlockByRoot(root: Uint8Array): Promise<SignedBeaconBlock | null> {
    const slot = await this.getFinalizedSlotByRoot(root);
    if (slot === null) return null;
    const block = await this.getFinalizedBlockBySlot(slot);
    if (block === null) throw corruptValue("finalizedBlockRoot", toHex(root), `index points to slot ${slot}, which has no block`);
    return block;
  }

  /**
   * Finalized blocks at slots start, start+step, ... below start + count*step (BlocksByRange semantics), ascending;
   * empty slots are absent from the result.
   */
  async getFinalizedBlocksByRange(startSlot: number, count: number, step = 1): Promise<SlotBlock[]> {
    const out = await this.getFinalizedBlockBytesByRange(startSlot, count, step);
    return out.map(({ slot, bytes }) => ({
      slot,
      block: this.decodeBlock(bytes, Bucket.finalizedBlock, slotKey(Bucket.finalizedBlock, slot)),
    }));
  }

  async getFinalizedBlockBytesByRange(startSlot: number, count: number, step = 1): Promise<SlotBlockBytes[]> {
    if (!Number.isSafeInteger(count) || count < 0) throw invalidArgument(`count must be a non-negative integer, got ${count}`);
    if (!Number.isSafeInteger(step) || step < 1) throw invalidArgument(`step must be a positive integer, got ${step}`);
    if (count === 0) return [];
    const gte = slotKey(Bucket.finalizedBlock, startSlot);
    const end = startSlot + (count - 1) * step; // the last slot asked for
    const lte = slotKey(Bucket.finalizedBlock, Math.min(end, Number.MAX_SAFE_INTEGER));
    const out: SlotBlockBytes[] = [];
    for await (const { key, value } of this.controller.iterate({ gte, lte })) {
      const slot = parseSlotKey(key, Bucket.finalizedBlock);
      if ((slot - startSlot) % step !== 0) continue;
      out.push({ slot, bytes: decodeBlob(value, Bucket.finalizedBlock, key) });
    }
    return out;
  }

  /** The finalized block with the highest slot. */
  async getLastFinalizedBlock(): Promise<SlotBlock | null> {
    const entry = await this.controller.first({ prefix: Uint8Array.of(Bucket.finalizedBlock), reverse: true });
    if (!entry) return null;
    const slot = parseSlotKey(entry.key, Bucket.finalizedBlock);
    return { slot, block: this.decodeBlock(decodeBlob(entry.value, Bucket.finalizedBlock, entry.key), Bucket.finalizedBlock, entry.key) };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Cold states (finalized, by slot)

  async putColdState(slot: number, stateBytes: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.newBatch().putColdState(slot, stateBytes).commit(options);
  }

  async getColdState(slot: number): Promise<Uint8Array | null> {
    const key = slotKey(Bucket.coldState, slot);
    const value = await this.controller.get(key);
    return value === undefined ? null : this.readStatePointer(value, Bucket.coldState, key);
  }

  /** The cold state with the highest slot <= `slot`. */
  async getLatestColdStateAtOrBefore(slot: number): Promise<StoredState | null> {
    const entry = await this.controller.first({
      gte: Uint8Array.of(Bucket.coldState),
      lte: slotKey(Bucket.coldState, slot),
      reverse: true,
    });
    if (!entry) return null;
    const bytes = await this.readStatePointer(entry.value, Bucket.coldState, entry.key);
    return { slot: parseSlotKey(entry.key, Bucket.coldState), bytes };
  }

  /** Slots of every cold state, ascending. */
  async listColdStateSlots(): Promise<number[]> {
    const keys = await this.controller.keys({ prefix: Uint8Array.of(Bucket.coldState) });
    return keys.map((k) => parseSlotKey(k, Bucket.coldState));
  }

  // ------------------------------------------------------------------------------------------------------------
  // Hot states (by slot ‖ root, root -> slot index)

  /** Stores a hot state under `root` (its state root or its block root: the caller's choice, one state per root). */
  async putHotState(root: Uint8Array, slot: number, stateBytes: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.newBatch().putHotState(root, slot, stateBytes).commit(options);
  }

  async getHotState(root: Uint8Array): Promise<StoredHotState | null> {
    const indexKey = rootKey(Bucket.hotStateRoot, root);
    const value = await this.controller.get(indexKey);
    if (value === undefined) return null;
    const slot = decodeSlotValue(value, Bucket.hotStateRoot, indexKey);
    const key = hotStateKey(slot, root);
    const pointer = await this.controller.get(key);
    if (pointer === undefined) throw corruptValue("hotStateRoot", toHex(root), `index points to slot ${slot}, which has no state`);
    const bytes = await this.readStatePointer(pointer, Bucket.hotState, key);
    return { slot, root: Uint8Array.from(root), bytes };
  }

  /** The hot state with the highest slot (ties: the highest root). */
  async getLatestHotState(): Promise<StoredHotState | null> {
    const entry = await this.controller.first({ prefix: Uint8Array.of(Bucket.hotState), reverse: true });
    if (!entry) return null;
    const { slot, root } = parseHotStateKey(entry.key);
    const bytes = await this.readStatePointer(entry.value, Bucket.hotState, entry.key);
    return { slot, root, bytes };
  }

  /** (slot, root) of every hot state, ascending by slot. */
  async listHotStates(): Promise<{ slot: number; root: Uint8Array }[]> {
    const keys = await this.controller.keys({ prefix: Uint8Array.of(Bucket.hotState) });
    return keys.map(parseHotStateKey);
  }

  /** Deletes every hot state with slot < `slot` (and its index entry) in one batch; returns how many. */
  async deleteHotStatesBefore(slot: number, options?: WriteOptions): Promise<number> {
    const entries = await this.controller.entries({ gte: Uint8Array.of(Bucket.hotState), lt: slotKey(Bucket.hotState, slot) });
    if (entries.length === 0) return 0;
    const keys = entries.map((e) => e.key);
    const states = keys.map(parseHotStateKey);
    const indexKeys = states.map((s) => rootKey(Bucket.hotStateRoot, s.root));
    const indexValues = await this.controller.getMany(indexKeys);
    const ops: BatchOp[] = keys.map((key) => ({ type: "del", key }));
    indexValues.forEach((value, i) => {
      // Keep an index entry that points to a newer state stored under the same root.
      if (value === undefined) return;
      const indexed = value.length === 8 ? decodeSlotValue(value, Bucket.hotStateRoot, indexKeys[i]) : -1;
      if (indexed < slot) ops.push({ type: "del", key: indexKeys[i] });
    });
    await this.controller.batch(ops, options);
    await this.stateFiles.remove(entries.flatMap((e) => pointerName(e.value)));
    return keys.length;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Meta

  async getMeta<K extends MetaKey>(key: K): Promise<MetaValues[K] | null> {
    const value = await this.controller.get(metaKey(key));
    return value === undefined ? null : decodeMeta(key, value);
  }

  /** Writes one meta value; synced (fsync) unless `{sync: false}`. */
  async putMeta<K extends MetaKey>(key: K, value: MetaValues[K], options?: WriteOptions): Promise<void> {
    await this.newBatch().putMeta(key, value).commit(options);
  }

  /** Every meta value, in one read (what a restarting node needs). */
  async getChainMeta(): Promise<ChainMeta> {
    const values = await this.controller.getMany(META_KEYS.map((k) => metaKey(k)));
    const out: Record<string, unknown> = {};
    META_KEYS.forEach((k, i) => {
      const v = values[i];
      out[k] = v === undefined ? null : decodeMeta(k, v);
    });
    return out as ChainMeta;
  }

  /** The schema version stored in the database (equal to SCHEMA_VERSION once open). */
  async getSchemaVersion(): Promise<number> {
    const value = await this.controller.get(metaKey("schemaVersion"));
    if (value === undefined) throw corruptMeta("schemaVersion", "missing");
    return decodeMeta("schemaVersion", value);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals shared with the batch

  /** @internal */
  encodeBlock(block: SignedBeaconBlock): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.config.types.SignedBeaconBlock.serialize(block);
    } catch (e) {
      throw invalidArgument(`block does not serialize as a SignedBeaconBlock: ${(e as Error).message}`);
    }
    return encodeBlob(bytes);
  }

  /** @internal Checks the fixed-size bounds of SignedBeaconBlock SSZ bytes; returns the block's slot. */
  checkBlockBytes(bytes: Uint8Array): number {
    const t = this.config.types.SignedBeaconBlock;
    if (!(bytes instanceof Uint8Array) || bytes.length < t.minSize || bytes.length > t.maxSize) {
      throw invalidArgument(`block bytes of length ${bytes?.length} are not a SignedBeaconBlock`);
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dv.getUint32(0, true) !== SIGNED_BLOCK_MESSAGE_OFFSET) throw invalidArgument("block bytes are not a SignedBeaconBlock (bad offset)");
    const hi = dv.getUint32(SIGNED_BLOCK_MESSAGE_OFFSET + 4, true);
    return hi * 2 ** 32 + dv.getUint32(SIGNED_BLOCK_MESSAGE_OFFSET, true);
  }

  /** @internal */
  checkStateBytes(bytes: Uint8Array): void {
    const t = this.config.types.BeaconState;
    if (!(bytes instanceof Uint8Array) || bytes.length < t.minSize || bytes.length > t.maxSize) {
      throw invalidArgument(`state bytes of length ${bytes?.length} are not a BeaconState`);
    }
  }

  private async checkOrInitMeta(genesisValidatorsRoot: Uint8Array | undefined): Promise<void> {
    const c = this.controller;
    const path = c.path;
    const expectedName = this.config.CONFIG_NAME;
    const versionBytes = await c.get(metaKey("schemaVersion"));

    if (versionBytes === undefined) {
      if (await c.first({})) {
        throw new DbError(
          { code: "NOT_A_CAIRN_DB", path },
          `database at ${path} holds data but no Cairn schema version: it was not written by Cairn, or its meta was ` +
            `lost; start with a fresh --datadir`,
        );
      }
      const ops: BatchOp[] = [
        { type: "put", key: metaKey("schemaVersion"), value: encodeMeta("schemaVersion", SCHEMA_VERSION) },
        { type: "put", key: metaKey("configName"), value: encodeMeta("configName", expectedName) },
      ];
      if (genesisValidatorsRoot) {
        ops.push({ type: "put", key: metaKey("genesisValidatorsRoot"), value: encodeMeta("genesisValidatorsRoot", genesisValidatorsRoot) });
      }
      await c.batch(ops, { sync: true });
      return;
    }

    const found = decodeMeta("schemaVersion", versionBytes);
    if (found !== SCHEMA_VERSION) throw schemaVersionMismatch(path, found, SCHEMA_VERSION);

    const nameBytes = await c.get(metaKey("configName"));
    if (nameBytes === undefined) throw corruptMeta("configName", "missing");
    const storedName = decodeMeta("configName", nameBytes);
    if (storedName !== expectedName) {
      throw new DbError(
        { code: "NETWORK_MISMATCH", path, field: "configName", found: storedName, expected: expectedName },
        `database at ${path} is for network "${storedName}", this node runs "${expectedName}": use the matching ` +
          `--config, or another --datadir for this network`,
      );
    }

    if (genesisValidatorsRoot) {
      const stored = await this.getMeta("genesisValidatorsRoot");
      if (stored === null) {
        await this.putMeta("genesisValidatorsRoot", genesisValidatorsRoot, { sync: true });
      } else if (!bytesEqual(stored, genesisValidatorsRoot)) {
        const found = toHex(stored);
        const expected = toHex(genesisValidatorsRoot);
        throw new DbError(
          { code: "NETWORK_MISMATCH", path, field: "genesisValidatorsRoot", found, expected },
          `database at ${path} has genesis validators root ${found}, this node's is ${expected}: it belongs to ` +
            `another network or genesis; use another --datadir`,
        );
      }
    }
  }

  private async readBlob(key: Uint8Array, bucket: number): Promise<Uint8Array | null> {
    const value = await this.controller.get(key);
    return value === undefined ? null : decodeBlob(value, bucket, key);
  }

  private decodeBlock(bytes: Uint8Array, bucket: number, key: Uint8Array): SignedBeaconBlock {
    try {
      return this.config.types.SignedBeaconBlock.deserialize(bytes);
    } catch (e) {
      throw corruptValue(bucketName(bucket), toHex(key), `not a SignedBeaconBlock: ${(e as Error).message}`, e);
    }
  }

  private checkStateSize(bytes: Uint8Array, bucket: number, key: Uint8Array): void {
    const t = this.config.types.BeaconState;
    if (bytes.length < t.minSize || bytes.length > t.maxSize) {
      throw corruptValue(bucketName(bucket), toHex(key), `${bytes.length} bytes cannot be a BeaconState`);
    }
  }
}

/**
 * A write batch over the store's repositories. Ops are encoded as they are added (an invalid argument throws
 * there, and poisons the batch so it can no longer be committed); `commit` writes them all or none.
 */
export class BeaconDbBatch {
  private readonly ops: BatchOp[] = [];
  private readonly stateWrites: { op: BatchOp & { type: "put" }; kind: "cold" | "hot"; slot: number; bytes: Uint8Array }[] = [];
  private hasMeta = false;
  private state: "open" | "poisoned" | "committed" = "open";
  private poison: unknown;

  constructor(private readonly db: BeaconDb) {}

  get length(): number {
    return this.ops.length;
  }

  putBlock(root: Uint8Array, block: SignedBeaconBlock): this {
    return this.add(() => [{ type: "put", key: rootKey(Bucket.hotBlock, root), value: this.db.encodeBlock(block) }]);
  }

  putBlockBytes(root: Uint8Array, bytes: Uint8Array): this {
    return this.add(() => {
      this.db.checkBlockBytes(bytes);
      return [{ type: "put", key: rootKey(Bucket.hotBlock, root), value: encodeBlob(bytes) }];
    });
  }

  deleteBlock(root: Uint8Array): this {
    return this.add(() => [{ type: "del", key: rootKey(Bucket.hotBlock, root) }]);
  }

  deleteBlocks(roots: Uint8Array[]): this {
    return this.add(() => roots.map((root) => ({ type: "del", key: rootKey(Bucket.hotBlock, root) })));
  }

  putBlockSummary(root: Uint8Array, summary: unknown): this {
    return this.add(() => [
      { type: "put", key: rootKey(Bucket.blockSummary, root), value: encodeBlob(new TextEncoder().encode(JSON.stringify(summary))) },
    ]);
  }

  putForkChoiceVotes(votes: StoredVote[] | PackedStoredVotes): this {
    const packed = Array.isArray(votes) ? packVotes(votes) : votes;
    return this.add(() => [{ type: "put", key: Uint8Array.of(Bucket.forkChoiceVotes), value: encodeBlob(encodeVotes(packed)) }]);
  }

  deleteBlockSummaries(roots: Uint8Array[]): this {
    return this.add(() => roots.map((root) => ({ type: "del", key: rootKey(Bucket.blockSummary, root) })));
  }

  putFinalizedBlock(item: FinalizedBlockInput): this {
    return this.add(() => {
      let value: Uint8Array;
      let blockSlot: number;
      if ("block" in item) {
        value = this.db.encodeBlock(item.block);
        blockSlot = item.block.message.slot;
      } else {
        blockSlot = this.db.checkBlockBytes(item.bytes);
        value = encodeBlob(item.bytes);
      }
      if (blockSlot !== item.slot) throw invalidArgument(`finalized block at slot ${item.slot} has slot ${blockSlot}`);
      return [
        { type: "put", key: slotKey(Bucket.finalizedBlock, item.slot), value },
        { type: "put", key: rootKey(Bucket.finalizedBlockRoot, item.root), value: encodeSlot(item.slot) },
      ];
    });
  }

  putColdState(slot: number, stateBytes: Uint8Array): this {
    return this.add(() => {
      this.db.checkStateBytes(stateBytes);
      const op: BatchOp & { type: "put" } = { type: "put", key: slotKey(Bucket.coldState, slot), value: EMPTY };
      this.stateWrites.push({ op, kind: "cold", slot, bytes: stateBytes });
      return [op];
    });
  }

  /** Deletes the cold state at `slot` (and, after the commit, its file). */
  deleteColdState(slot: number): this {
    return this.add(() => [{ type: "del", key: slotKey(Bucket.coldState, slot) }]);
  }

  putHotState(root: Uint8Array, slot: number, stateBytes: Uint8Array): this {
    return this.add(() => {
      this.db.checkStateBytes(stateBytes);
      const op: BatchOp & { type: "put" } = { type: "put", key: hotStateKey(slot, root), value: EMPTY };
      this.stateWrites.push({ op, kind: "hot", slot, bytes: stateBytes });
      return [op, { type: "put", key: rootKey(Bucket.hotStateRoot, root), value: encodeSlot(slot) }];
    });
  }

  /** Deletes the hot state stored under (slot, root) and the root's index entry. */
  deleteHotState(root: Uint8Array, slot: number): this {
    return this.add(() => [
      { type: "del", key: hotStateKey(slot, root) },
      { type: "del", key: rootKey(Bucket.hotStateRoot, root) },
    ]);
  }

  putMeta<K extends MetaKey>(key: K, value: MetaValues[K]): this {
    return this.add(() => {
      const op: BatchOp = { type: "put", key: metaKey(key), value: encodeMeta(key, value) };
      this.hasMeta = true;
      return [op];
    });
  }

  /**
   * Writes every op atomically. `sync` defaults to true when the batch holds a meta write (checkpoints and head
   * must survive a crash together with the block they name), false otherwise.
   */
  async commit(options: WriteOptions = {}): Promise<void> {
    if (this.state === "committed") {
      throw new DbError({ code: "BATCH_ALREADY_COMMITTED" }, "this batch was already committed");
    }
    if (this.state === "poisoned") {
      const reason = this.poison instanceof Error ? this.poison.message : String(this.poison);
      throw invalidArgument(`batch not committed: one of its ops was invalid (${reason})`);
    }
    this.state = "committed";
    // state files first (durable before anything points to them), then the batch, then the files it orphaned
    const stateKeys = this.ops.filter((op) => op.key[0] === Bucket.coldState || op.key[0] === Bucket.hotState).map((op) => op.key);
    const previous = stateKeys.length ? await this.db.controller.getMany(stateKeys) : [];
    const written: string[] = [];
    try {
      for (const w of this.stateWrites) {
        const pointer = await this.db.stateFiles.write(w.kind, w.slot, w.bytes);
        written.push(pointer.name);
        w.op.value = encodeStatePointer(pointer);
      }
      await this.db.controller.batch(this.ops, { sync: options.sync ?? (this.hasMeta || this.stateWrites.length > 0) });
    } catch (e) {
      await this.db.stateFiles.remove(written);
      throw e;
    }
    const kept = new Set(written);
    await this.db.stateFiles.remove(previous.flatMap((v) => (v === undefined ? [] : pointerName(v))).filter((n) => !kept.has(n)));
  }

  private add(build: () => BatchOp[]): this {
    if (this.state === "committed") {
      throw new DbError({ code: "BATCH_ALREADY_COMMITTED" }, "this batch was already committed");
    }
    try {
      for (const op of build()) this.ops.push(op);
    } catch (e) {
      this.state = "poisoned";
      this.poison = e;
      throw e;
    }
    return this;
  }
}

const EMPTY = new Uint8Array(0);

/** A fork-choice latest message as stored: validator index, target epoch, block root (0x hex). */
export interface Eth1Progress {
  depositContract: Uint8Array;
  followedBlock: number;
}

export interface StoredDeposit {
  blockNumber: number;
  data: DepositData;
}

export interface StoredVote {
  validatorIndex: number;
  epoch: number;
  root: string;
}

/**
 * Votes without an object each (fork choice's exportLatestMessagesPacked() has this shape; the database does not
 * import fork choice): vote k is (validatorIndices[k], epochs[k], roots[rootIndices[k]]).
 */
export interface PackedStoredVotes {
  roots: string[];
  validatorIndices: Uint32Array;
  epochs: Uint32Array;
  rootIndices: Uint32Array;
}

// Votes in binary, roots deduplicated: u32 rootCount ‖ roots(32 each) ‖ u32 n ‖ n × (u32 index ‖ u32 epoch ‖ u32 rootIdx).
// 12 bytes a validator (JSON took ~100: 10 MB an epoch at 100,000 validators, copied through LevelDB each time).
function packVotes(votes: StoredVote[]): PackedStoredVotes {
  const rootIdx = new Map<string, number>();
  for (const v of votes) if (!rootIdx.has(v.root)) rootIdx.set(v.root, rootIdx.size);
  const out: PackedStoredVotes = {
    roots: [...rootIdx.keys()],
    validatorIndices: new Uint32Array(votes.length),
    epochs: new Uint32Array(votes.length),
    rootIndices: new Uint32Array(votes.length),
  };
  votes.forEach((v, k) => {
    if (!Number.isInteger(v.validatorIndex) || v.validatorIndex < 0 || v.validatorIndex >= 2 ** 32) throw invalidArgument(`bad validator index ${v.validatorIndex}`);
    if (!Number.isInteger(v.epoch) || v.epoch < 0 || v.epoch >= 2 ** 32) throw invalidArgument(`bad vote epoch ${v.epoch}`);
    out.validatorIndices[k] = v.validatorIndex;
    out.epochs[k] = v.epoch;
    out.rootIndices[k] = rootIdx.get(v.root)!;
  });
  return out;
}

function encodeVotes(votes: PackedStoredVotes): Uint8Array {
  const n = votes.validatorIndices.length;
  const out = new Uint8Array(4 + votes.roots.length * 32 + 4 + n * 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, votes.roots.length);
  let o = 4;
  for (const r of votes.roots) {
    if (!/^0x[0-9a-f]{64}$/.test(r)) throw invalidArgument(`vote root ${JSON.stringify(r)} is not 0x + 64 lowercase hex`);
    out.set(fromHex(r), o);
    o += 32;
  }
  view.setUint32(o, n);
  o += 4;
  for (let k = 0; k < n; k++) {
    if (votes.rootIndices[k] >= votes.roots.length) throw invalidArgument(`vote ${k} names root ${votes.rootIndices[k]} of ${votes.roots.length}`);
    view.setUint32(o, votes.validatorIndices[k]);
    view.setUint32(o + 4, votes.epochs[k]);
    view.setUint32(o + 8, votes.rootIndices[k]);
    o += 12;
  }
  return out;
}

function decodeVotes(bytes: Uint8Array, key: Uint8Array): StoredVote[] {
  const bad = (reason: string) => corruptValue("forkChoiceVotes", toHex(key), reason);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw bad(`${bytes.length} bytes is too short`);
  const rootCount = view.getUint32(0);
  if (8 + rootCount * 32 > bytes.length) throw bad(`${rootCount} roots do not fit in ${bytes.length} bytes`);
  const roots: string[] = [];
  for (let i = 0; i < rootCount; i++) roots.push(toHex(bytes.subarray(4 + i * 32, 36 + i * 32)));
  let o = 4 + rootCount * 32;
  const n = view.getUint32(o);
  o += 4;
  if (o + n * 12 !== bytes.length) throw bad(`${n} votes do not match ${bytes.length} bytes`);
  const votes: StoredVote[] = new Array(n);
  for (let i = 0; i < n; i++, o += 12) {
    const r = view.getUint32(o + 8);
    if (r >= rootCount) throw bad(`vote ${i} names root ${r} of ${rootCount}`);
    votes[i] = { validatorIndex: view.getUint32(o), epoch: view.getUint32(o + 4), root: roots[r] };
  }
  return votes;
}

/** The file a stored pointer names ([] for a damaged pointer: nothing to remove). */
function pointerName(value: Uint8Array): string[] {
  try {
    return [decodeStatePointer(value, Bucket.hotState, EMPTY).name];
  } catch {
    return [];
  }
}

