// Slashing protection (EIP-3076 semantics): a durable record of every block and attestation a validator signed,
// consulted before each new signature. A request is checked and recorded under a per-validator lock, and the record
// is synced to disk before the call resolves, so a signature never leaves the process unrecorded.
//
// Rules, as Lighthouse and Lodestar apply them:
//  - blocks: no second block at a slot with a different or unknown signing root (re-signing the same root is
//    allowed); nothing at or below the low watermark an import left.
//  - attestations: source <= target; no second vote for a target with a different or unknown signing root; no
//    surrounding or surrounded vote; source not below, target not at or below, the import's low watermarks.
//  - an import keeps every record it brings (they are exported again) and raises the validator's low watermarks to
//    the highest slot / source / target known for it at that point, the imported data and the store's own. Imported
//    records are never "re-signed": whatever an import brings is below a watermark.
//
// Surround checks in O(log n), never a scan of the history. Two indexes per validator, keyed by source epoch:
//  - "surrounded": the records not dominated by one with a source <= and a target >=. Along it sources and targets
//    both increase, so an existing vote surrounds (s, t) iff the entry with the largest source < s has target > t.
//  - "surrounding": the records not dominated by one with a source >= and a target <=. Along it sources and targets
//    both increase, so (s, t) surrounds an existing vote iff the entry with the smallest source > s has target < t.
// Each is one LevelDB seek per check; an insert deletes the entries it dominates (each entry is deleted at most once).
// Imported records stay out of both: the watermarks already refuse everything they could surround or be surrounded by.
import { DbController, type BatchOp } from "../../db/controller.js";
import { bytesEqual, toHex } from "../../util/bytes.js";
import { SlashingProtectionError } from "./errors.js";
import { INTERCHANGE_FORMAT_VERSION, parseInterchange, type InterchangeJson, type SigningRoot } from "./interchange.js";
import { KeyedLock } from "./lock.js";
import {
  PUBKEY_LENGTH,
  Prefix,
  ROOT_LENGTH,
  STORE_VERSION,
  decodeAttestation,
  decodeBlockRoot,
  decodeWatermarks,
  encodeAttestation,
  encodeUint64,
  encodeWatermarks,
  keyNumber,
  metaKey,
  numberKey,
  readUint64,
  validatorKey,
  type Watermarks,
} from "./schema.js";

const EMPTY = new Uint8Array(0);

export interface ImportResult {
  validators: number;
  blocks: number;
  attestations: number;
}

export class SlashingProtection {
  private readonly locks = new KeyedLock();
  // imports also take every validator lock they touch; this one keeps two imports (and their meta writes) apart
  private readonly importLock = new KeyedLock();
  private closing = false;

  private constructor(
    private readonly db: DbController,
    private genesisValidatorsRoot: Uint8Array | null,
    private readonly dir: string,
  ) {}

  /**
   * Opens (creating when missing) the store in `dir`. genesisValidatorsRoot: recorded on first use; a store for
   * another chain is refused (GENESIS_VALIDATORS_ROOT_MISMATCH).
   */
  static async open(dir: string, opts: { genesisValidatorsRoot?: Uint8Array } = {}): Promise<SlashingProtection> {
    if (opts.genesisValidatorsRoot !== undefined) checkBytes(opts.genesisValidatorsRoot, ROOT_LENGTH, "genesisValidatorsRoot");
    const db = await DbController.open(dir);
    try {
      const version = await db.get(metaKey("version"));
      if (version === undefined) {
        // a database without our version key is only ours to initialize when it is empty
        if ((await db.first({})) !== undefined) {
          throw new SlashingProtectionError("INCOMPATIBLE_STORE", `${dir} holds a database that is not a Cairn slashing protection store`);
        }
        await db.put(metaKey("version"), Uint8Array.of(STORE_VERSION), { sync: true });
      } else if (version.length !== 1 || version[0] !== STORE_VERSION) {
        throw new SlashingProtectionError("INCOMPATIBLE_STORE", `${dir} is a slashing protection store of version ${version[0] ?? "?"}; this Cairn reads version ${STORE_VERSION}`);
      }
      let stored = (await db.get(metaKey("genesisValidatorsRoot"))) ?? null;
      if (stored !== null) stored = stored.slice();
      const store = new SlashingProtection(db, stored, dir);
      if (opts.genesisValidatorsRoot !== undefined) await store.bindGenesisValidatorsRoot(opts.genesisValidatorsRoot);
      return store;
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /**
   * Records the chain this store is for on first use; a store opened before the chain was known (to hold its lock
   * early) is checked here. Another chain's root: GENESIS_VALIDATORS_ROOT_MISMATCH.
   */
  async bindGenesisValidatorsRoot(root: Uint8Array): Promise<void> {
    checkBytes(root, ROOT_LENGTH, "genesisValidatorsRoot");
    this.checkOpen();
    const stored = this.genesisValidatorsRoot;
    if (stored === null) {
      await this.db.put(metaKey("genesisValidatorsRoot"), root, { sync: true });
      this.genesisValidatorsRoot = Uint8Array.from(root);
    } else if (!bytesEqual(stored, root)) {
      throw new SlashingProtectionError(
        "GENESIS_VALIDATORS_ROOT_MISMATCH",
        `the slashing protection store in ${this.dir} is for the chain with genesis validators root ${toHex(stored)}, not ${toHex(root)}`,
      );
    }
  }

  /** The chain this store is for, once known. */
  getGenesisValidatorsRoot(): Uint8Array | null {
    return this.genesisValidatorsRoot === null ? null : Uint8Array.from(this.genesisValidatorsRoot);
  }

  /**
   * Resolves once the proposal is durably recorded (or was already, with this signing root); throws a
   * SlashingProtectionError, recording nothing, when refused. A null or all-zero signing root is "unknown":
   * it conflicts with any other block at the slot.
   */
  async checkAndInsertBlockProposal(pubkey: Uint8Array, slot: number, signingRoot: Uint8Array | null): Promise<void> {
    checkBytes(pubkey, PUBKEY_LENGTH, "pubkey");
    checkUint(slot, "slot");
    const root = normalizeRoot(signingRoot);
    const release = await this.lockValidator(pubkey);
    try {
      const wm = await this.getWatermarks(pubkey);
      if (wm.blockSlot !== undefined && slot <= wm.blockSlot) {
        throw new SlashingProtectionError("BLOCK_BELOW_WATERMARK", `${toHex(pubkey)}: block at slot ${slot} is at or below the low watermark slot ${wm.blockSlot} (from an import)`);
      }
      const key = numberKey(Prefix.block, pubkey, slot);
      const existing = await this.db.get(key);
      if (existing !== undefined) {
        const existingRoot = decodeBlockRoot(existing);
        if (existingRoot !== null && root !== null && bytesEqual(existingRoot, root)) return;
        throw new SlashingProtectionError(
          "DOUBLE_BLOCK_PROPOSAL",
          `${toHex(pubkey)}: a block was already signed at slot ${slot} with ${rootText(existingRoot)}, this one has ${rootText(root)}`,
        );
      }
      await this.db.batch(
        [
          { type: "put", key: validatorKey(Prefix.validator, pubkey), value: EMPTY },
          { type: "put", key, value: root ?? EMPTY },
        ],
        { sync: true },
      );
    } finally {
      release();
    }
  }

  /**
   * Resolves once the attestation is durably recorded (or was already, with this signing root); throws a
   * SlashingProtectionError, recording nothing, when refused. A null or all-zero signing root is "unknown".
   */
  async checkAndInsertAttestation(pubkey: Uint8Array, sourceEpoch: number, targetEpoch: number, signingRoot: Uint8Array | null): Promise<void> {
    checkBytes(pubkey, PUBKEY_LENGTH, "pubkey");
    checkUint(sourceEpoch, "sourceEpoch");
    checkUint(targetEpoch, "targetEpoch");
    const root = normalizeRoot(signingRoot);
    const who = toHex(pubkey);
    if (sourceEpoch > targetEpoch) {
      throw new SlashingProtectionError("INVALID_ATTESTATION", `${who}: source epoch ${sourceEpoch} is after target epoch ${targetEpoch}`);
    }
    const release = await this.lockValidator(pubkey);
    try {
      const wm = await this.getWatermarks(pubkey);
      if (wm.sourceEpoch !== undefined && sourceEpoch < wm.sourceEpoch) {
        throw new SlashingProtectionError("SOURCE_BELOW_WATERMARK", `${who}: source epoch ${sourceEpoch} is below the low watermark ${wm.sourceEpoch} (from an import)`);
      }
      if (wm.targetEpoch !== undefined && targetEpoch <= wm.targetEpoch) {
        throw new SlashingProtectionError("TARGET_BELOW_WATERMARK", `${who}: target epoch ${targetEpoch} is at or below the low watermark ${wm.targetEpoch} (from an import)`);
      }

      const key = numberKey(Prefix.attestation, pubkey, targetEpoch);
      const existingValue = await this.db.get(key);
      if (existingValue !== undefined) {
        const existing = decodeAttestation(existingValue);
        if (existing.sourceEpoch === sourceEpoch && existing.signingRoot !== null && root !== null && bytesEqual(existing.signingRoot, root)) return;
        throw new SlashingProtectionError(
          "DOUBLE_VOTE",
          `${who}: already voted for target epoch ${targetEpoch} (source ${existing.sourceEpoch}, ${rootText(existing.signingRoot)}); this vote has source ${sourceEpoch}, ${rootText(root)}`,
        );
      }

      // an existing vote (s', t') with s' < s and t' > t surrounds this one
      const before = await this.db.first({ prefix: validatorKey(Prefix.surroundedIndex, pubkey), lt: numberKey(Prefix.surroundedIndex, pubkey, sourceEpoch), reverse: true });
      if (before !== undefined && readUint64(before.value, 0) > targetEpoch) {
        throw new SlashingProtectionError(
          "SURROUNDED_VOTE",
          `${who}: the vote ${sourceEpoch} -> ${targetEpoch} is surrounded by the signed vote ${keyNumber(before.key)} -> ${readUint64(before.value, 0)}`,
        );
      }
      // this vote surrounds an existing (s', t') with s' > s and t' < t
      const after = await this.db.first({ prefix: validatorKey(Prefix.surroundingIndex, pubkey), gt: numberKey(Prefix.surroundingIndex, pubkey, sourceEpoch) });
      if (after !== undefined && readUint64(after.value, 0) < targetEpoch) {
        throw new SlashingProtectionError(
          "SURROUNDING_VOTE",
          `${who}: the vote ${sourceEpoch} -> ${targetEpoch} surrounds the signed vote ${keyNumber(after.key)} -> ${readUint64(after.value, 0)}`,
        );
      }

      const ops: BatchOp[] = [
        { type: "put", key: validatorKey(Prefix.validator, pubkey), value: EMPTY },
        { type: "put", key, value: encodeAttestation(sourceEpoch, root) },
        ...(await this.surroundedIndexInsert(pubkey, sourceEpoch, targetEpoch)),
        ...(await this.surroundingIndexInsert(pubkey, sourceEpoch, targetEpoch)),
      ];
      await this.db.batch(ops, { sync: true });
    } finally {
      release();
    }
  }

  /**
   * Imports an EIP-3076 v5 interchange (its parsed JSON or its text). Everything is validated first and applied
   * in one atomic batch: a malformed file, or one for another chain, changes nothing and throws why.
   * The genesis validators root must match the store's (and `opts.genesisValidatorsRoot` when given); a store
   * that has none yet adopts the file's.
   */
  async importInterchange(interchange: unknown, opts: { genesisValidatorsRoot?: Uint8Array } = {}): Promise<ImportResult> {
    this.checkOpen();
    if (opts.genesisValidatorsRoot !== undefined) checkBytes(opts.genesisValidatorsRoot, ROOT_LENGTH, "genesisValidatorsRoot");
    const parsed = parseInterchange(interchange);
    const fileRoot = parsed.genesisValidatorsRoot;

    const releaseImport = await this.importLock.acquire("import");
    const release = await this.locks.acquireAll(parsed.validators.map((v) => v.pubkeyHex));
    try {
      // checked under the import lock: an earlier import may just have given the store its root
      for (const [expected, what] of [
        [opts.genesisValidatorsRoot, "the expected"],
        [this.genesisValidatorsRoot, "this store's"],
      ] as const) {
        if (expected != null && !bytesEqual(expected, fileRoot)) {
          throw new SlashingProtectionError(
            "GENESIS_VALIDATORS_ROOT_MISMATCH",
            `the interchange is for the chain with genesis validators root ${toHex(fileRoot)}, ${what} is ${toHex(expected)}; nothing imported`,
          );
        }
      }
      const ops: BatchOp[] = [];
      if (this.genesisValidatorsRoot === null) ops.push({ type: "put", key: metaKey("genesisValidatorsRoot"), value: fileRoot });
      for (const v of parsed.validators) ops.push(...(await this.importValidatorOps(v)));
      await this.db.batch(ops, { sync: true });
      if (this.genesisValidatorsRoot === null) this.genesisValidatorsRoot = Uint8Array.from(fileRoot);
      return { ...parsed.counts };
    } finally {
      release();
      releaseImport();
    }
  }

  /** Every record (of `opts.pubkeys` only, when given) in the EIP-3076 v5 interchange format. */
  async exportInterchange(opts: { pubkeys?: Uint8Array[] } = {}): Promise<InterchangeJson> {
    this.checkOpen();
    if (this.genesisValidatorsRoot === null) {
      throw new SlashingProtectionError(
        "GENESIS_VALIDATORS_ROOT_UNKNOWN",
        "the store does not know its chain's genesis validators root yet (give it when opening the store)",
      );
    }
    let pubkeys: Uint8Array[];
    if (opts.pubkeys !== undefined) {
      opts.pubkeys.forEach((p, i) => checkBytes(p, PUBKEY_LENGTH, `pubkeys[${i}]`));
      pubkeys = [...new Map(opts.pubkeys.map((p) => [toHex(p), p])).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => p);
    } else {
      pubkeys = (await this.db.keys({ prefix: Uint8Array.of(Prefix.validator) })).map((k) => k.slice(1));
    }
    const data: InterchangeJson["data"] = [];
    for (const pubkey of pubkeys) {
      if (!(await this.db.has(validatorKey(Prefix.validator, pubkey)))) continue;
      const signed_blocks: InterchangeJson["data"][number]["signed_blocks"] = [];
      for await (const { key, value } of this.db.iterate({ prefix: validatorKey(Prefix.block, pubkey) })) {
        const root = decodeBlockRoot(value);
        signed_blocks.push({ slot: String(keyNumber(key)), ...(root ? { signing_root: toHex(root) } : {}) });
      }
      const signed_attestations: InterchangeJson["data"][number]["signed_attestations"] = [];
      for await (const { key, value } of this.db.iterate({ prefix: validatorKey(Prefix.attestation, pubkey) })) {
        const a = decodeAttestation(value);
        signed_attestations.push({
          source_epoch: String(a.sourceEpoch),
          target_epoch: String(keyNumber(key)),
          ...(a.signingRoot ? { signing_root: toHex(a.signingRoot) } : {}),
        });
      }
      data.push({ pubkey: toHex(pubkey), signed_blocks, signed_attestations });
    }
    return {
      metadata: { interchange_format_version: INTERCHANGE_FORMAT_VERSION, genesis_validators_root: toHex(this.genesisValidatorsRoot) },
      data,
    };
  }

  /** Waits for the requests in flight, then closes the database. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.importLock.idle();
    await this.locks.idle();
    await this.db.close();
  }

  // -------------------------------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closing) throw new SlashingProtectionError("CLOSED", "the slashing protection store is closed");
  }

  private async lockValidator(pubkey: Uint8Array): Promise<() => void> {
    this.checkOpen();
    return this.locks.acquire(toHex(pubkey));
  }

  private async getWatermarks(pubkey: Uint8Array): Promise<Watermarks> {
    return decodeWatermarks(await this.db.get(validatorKey(Prefix.watermark, pubkey)));
  }

  /** Index ops for a new vote (s, t) in the "surrounded" index (entries: increasing source and target). */
  private async surroundedIndexInsert(pubkey: Uint8Array, s: number, t: number): Promise<BatchOp[]> {
    const prefix = validatorKey(Prefix.surroundedIndex, pubkey);
    const key = numberKey(Prefix.surroundedIndex, pubkey, s);
    // an entry with source <= s and target >= t already answers every query this vote could answer
    const atOrBefore = await this.db.first({ prefix, lte: key, reverse: true });
    if (atOrBefore !== undefined && readUint64(atOrBefore.value, 0) >= t) return [];
    const ops: BatchOp[] = [{ type: "put", key, value: encodeUint64(t) }];
    // later entries with target <= t are now dominated; they are the run right after s
    for await (const e of this.db.iterate({ prefix, gt: key })) {
      if (readUint64(e.value, 0) > t) break;
      ops.push({ type: "del", key: e.key });
    }
    return ops;
  }

  /** Index ops for a new vote (s, t) in the "surrounding" index (entries: increasing source and target). */
  private async surroundingIndexInsert(pubkey: Uint8Array, s: number, t: number): Promise<BatchOp[]> {
    const prefix = validatorKey(Prefix.surroundingIndex, pubkey);
    const key = numberKey(Prefix.surroundingIndex, pubkey, s);
    // an entry with source >= s and target <= t already answers every query this vote could answer
    const atOrAfter = await this.db.first({ prefix, gte: key });
    if (atOrAfter !== undefined && readUint64(atOrAfter.value, 0) <= t) return [];
    const ops: BatchOp[] = [{ type: "put", key, value: encodeUint64(t) }];
    // earlier entries with target >= t are now dominated; they are the run right before s
    for await (const e of this.db.iterate({ prefix, lt: key, reverse: true })) {
      if (readUint64(e.value, 0) < t) break;
      ops.push({ type: "del", key: e.key });
    }
    return ops;
  }

  /** The ops importing one validator's records: merged records, raised watermarks. */
  private async importValidatorOps(v: { pubkey: Uint8Array; blocks: { slot: number; signingRoot: SigningRoot }[]; attestations: { sourceEpoch: number; targetEpoch: number; signingRoot: SigningRoot }[] }): Promise<BatchOp[]> {
    const { pubkey } = v;
    const ops: BatchOp[] = [{ type: "put", key: validatorKey(Prefix.validator, pubkey), value: EMPTY }];
    const oldWm = await this.getWatermarks(pubkey);
    const wm: Watermarks = { ...oldWm };

    if (v.blocks.length > 0) {
      // two different (or unknown) roots for one slot merge into "unknown": conflicts with anything
      const bySlot = new Map<number, SigningRoot>();
      for (const b of v.blocks) {
        const prev = bySlot.get(b.slot);
        bySlot.set(b.slot, prev === undefined ? b.signingRoot : sameRoot(prev, b.signingRoot) ? prev : null);
      }
      const slots = [...bySlot.keys()];
      const existing = await this.db.getMany(slots.map((s) => numberKey(Prefix.block, pubkey, s)));
      slots.forEach((slot, i) => {
        const imported = bySlot.get(slot) ?? null;
        const cur = existing[i];
        if (cur === undefined) ops.push({ type: "put", key: numberKey(Prefix.block, pubkey, slot), value: imported ?? EMPTY });
        else if (!sameRoot(decodeBlockRoot(cur), imported)) ops.push({ type: "put", key: numberKey(Prefix.block, pubkey, slot), value: EMPTY });
      });
      const lastLocal = await this.db.first({ prefix: validatorKey(Prefix.block, pubkey), reverse: true });
      wm.blockSlot = max(slots, Math.max(oldWm.blockSlot ?? 0, lastLocal ? keyNumber(lastLocal.key) : 0));
    }

    if (v.attestations.length > 0) {
      const byTarget = new Map<number, { sourceEpoch: number; signingRoot: SigningRoot }>();
      for (const a of v.attestations) {
        const prev = byTarget.get(a.targetEpoch);
        if (prev === undefined) byTarget.set(a.targetEpoch, { sourceEpoch: a.sourceEpoch, signingRoot: a.signingRoot });
        else if (prev.sourceEpoch !== a.sourceEpoch || !sameRoot(prev.signingRoot, a.signingRoot)) prev.signingRoot = null;
      }
      const targets = [...byTarget.keys()];
      const existing = await this.db.getMany(targets.map((t) => numberKey(Prefix.attestation, pubkey, t)));
      targets.forEach((target, i) => {
        const imported = byTarget.get(target)!;
        const curValue = existing[i];
        const key = numberKey(Prefix.attestation, pubkey, target);
        if (curValue === undefined) {
          ops.push({ type: "put", key, value: encodeAttestation(imported.sourceEpoch, imported.signingRoot) });
        } else {
          const cur = decodeAttestation(curValue);
          if (cur.sourceEpoch !== imported.sourceEpoch || !sameRoot(cur.signingRoot, imported.signingRoot)) {
            ops.push({ type: "put", key, value: encodeAttestation(cur.sourceEpoch, null) });
          }
        }
      });
      // the highest source among the store's own votes is the last entry of the "surrounding" index
      const lastSource = await this.db.first({ prefix: validatorKey(Prefix.surroundingIndex, pubkey), reverse: true });
      const lastTarget = await this.db.first({ prefix: validatorKey(Prefix.attestation, pubkey), reverse: true });
      wm.sourceEpoch = max(v.attestations.map((a) => a.sourceEpoch), Math.max(oldWm.sourceEpoch ?? 0, lastSource ? keyNumber(lastSource.key) : 0));
      wm.targetEpoch = max(targets, Math.max(oldWm.targetEpoch ?? 0, lastTarget ? keyNumber(lastTarget.key) : 0));
    }

    if (wm.blockSlot !== oldWm.blockSlot || wm.sourceEpoch !== oldWm.sourceEpoch || wm.targetEpoch !== oldWm.targetEpoch) {
      ops.push({ type: "put", key: validatorKey(Prefix.watermark, pubkey), value: encodeWatermarks(wm) });
    }
    return ops;
  }
}

/** The largest of `values` and `floor` (a loop: spreading a long list into Math.max overflows the stack). */
function max(values: readonly number[], floor: number): number {
  let m = floor;
  for (const v of values) if (v > m) m = v;
  return m;
}

function sameRoot(a: SigningRoot, b: SigningRoot): boolean {
  return a !== null && b !== null && bytesEqual(a, b);
}

function normalizeRoot(root: Uint8Array | null): SigningRoot {
  if (root === null) return null;
  checkBytes(root, ROOT_LENGTH, "signingRoot");
  return root.every((b) => b === 0) ? null : Uint8Array.from(root);
}

function rootText(root: SigningRoot): string {
  return root === null ? "an unknown signing root" : `signing root ${toHex(root)}`;
}

function checkBytes(v: unknown, length: number, name: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new SlashingProtectionError("INVALID_ARGUMENT", `${name} must be ${length} bytes, got ${v instanceof Uint8Array ? `${v.length} bytes` : typeof v}`);
  }
}

function checkUint(n: unknown, name: string): void {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new SlashingProtectionError("INVALID_ARGUMENT", `${name} must be a non-negative integer, got ${String(n)}`);
  }
}
