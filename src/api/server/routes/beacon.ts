// /eth/v1/beacon/*: genesis, states (root, fork, finality, validators, balances, committees), headers, blocks
// (read, publish), and the operation pools.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BlockError, blockErrorOutcome } from "../../../chain/blocks/errors.js";
import { OpValidationError, PoolFullError } from "../../../chain/opPools/index.js";
import type { CachedBeaconState } from "../../../state-transition/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../../state-transition/util/epoch.js";
import { fromHex, toHex } from "../../../util/bytes.js";
import type { ValidatorLike } from "../../../state-transition/util/validator.js";
import { FAR_FUTURE_EPOCH } from "../../../params/index.js";
import type { SignedBeaconBlock } from "../../../types/index.js";
import { describe, u64 } from "../../json.js";
import {
  ApiError,
  getBlockOr404,
  getStateOr404,
  optionalUint,
  params,
  parseBody,
  parseBodyList,
  parseHexParam,
  prefersSsz,
  query,
  queryList,
  sendSsz,
  type ApiContext,
} from "../context.js";

const SPECIFIC_STATUSES = [
  "pending_initialized",
  "pending_queued",
  "active_ongoing",
  "active_exiting",
  "active_slashed",
  "exited_unslashed",
  "exited_slashed",
  "withdrawal_possible",
  "withdrawal_done",
] as const;
const GENERAL_STATUSES = ["pending", "active", "exited", "withdrawal"] as const;
type ValidatorStatus = (typeof SPECIFIC_STATUSES)[number];

/** The API's validator status at `epoch` (https://hackmd.io/ofFJ5gOmQpu1jjHilHbdQQ). */
export function getValidatorStatus(v: ValidatorLike, balance: number, epoch: number): ValidatorStatus {
  if (v.activationEpoch > epoch) {
    return v.activationEligibilityEpoch === FAR_FUTURE_EPOCH ? "pending_initialized" : "pending_queued";
  }
  if (epoch < v.exitEpoch) {
    if (v.exitEpoch === FAR_FUTURE_EPOCH) return "active_ongoing";
    return v.slashed ? "active_slashed" : "active_exiting";
  }
  if (epoch < v.withdrawableEpoch) return v.slashed ? "exited_slashed" : "exited_unslashed";
  return balance !== 0 ? "withdrawal_possible" : "withdrawal_done";
}

/** Validator indices named by ids (indices or pubkeys), in request order, without duplicates or unknown ones. */
function resolveValidatorIds(state: CachedBeaconState, ids: string[]): number[] {
  const count = state.state.validators.length;
  const out: number[] = [];
  const seen = new Set<number>();
  for (const id of ids) {
    let index: number | undefined;
    if (/^0x[0-9a-fA-F]{96}$/.test(id)) {
      index = state.epochCtx.pubkeyCache.getIndex(fromHex(id));
    } else if (/^[0-9]+$/.test(id) && Number.isSafeInteger(Number(id))) {
      index = Number(id);
    } else {
      throw new ApiError(400, `invalid validator id ${describe(id)}: expected an index or a 0x-prefixed 48-byte public key`);
    }
    if (index === undefined || index >= count || seen.has(index)) continue;
    seen.add(index);
    out.push(index);
  }
  return out;
}

function parseStatusFilter(statuses: string[]): Set<string> | null {
  if (statuses.length === 0) return null;
  for (const s of statuses) {
    if (!(SPECIFIC_STATUSES as readonly string[]).includes(s) && !(GENERAL_STATUSES as readonly string[]).includes(s)) {
      throw new ApiError(400, `invalid status ${describe(s)}: expected one of ${[...SPECIFIC_STATUSES, ...GENERAL_STATUSES].join(", ")}`);
    }
  }
  return new Set(statuses);
}

function statusMatches(filter: Set<string> | null, status: ValidatorStatus): boolean {
  return filter === null || filter.has(status) || filter.has(status.slice(0, status.indexOf("_")));
}

function validatorsResponse(ctx: ApiContext, state: CachedBeaconState, ids: string[], statuses: string[]) {
  const c = ctx.config;
  const filter = parseStatusFilter(statuses);
  const epoch = state.epochCtx.epoch;
  const validators = state.state.validators;
  const balances = state.state.balances;
  const indices = ids.length > 0 ? resolveValidatorIds(state, ids) : null;
  const out: unknown[] = [];
  // struct views and plain values both read as the container's fields, which is all toJson needs
  const emit = (index: number, v: ValidatorLike, balance: number) => {
    const status = getValidatorStatus(v, balance, epoch);
    if (!statusMatches(filter, status)) return;
    out.push({ index: u64(index), balance: u64(balance), status, validator: c.types.Validator.toJson(v as never) });
  };
  if (indices) {
    for (const i of indices) emit(i, validators.getReadonly(i), balances.get(i));
  } else {
    const all = validators.getAllReadonlyValues();
    const bals = balances.getAll();
    for (let i = 0; i < all.length; i++) emit(i, all[i], bals[i]);
  }
  return out;
}

function balancesResponse(state: CachedBeaconState, ids: string[]) {
  const balances = state.state.balances;
  if (ids.length > 0) return resolveValidatorIds(state, ids).map((i) => ({ index: u64(i), balance: u64(balances.get(i)) }));
  return balances.getAll().map((b, i) => ({ index: u64(i), balance: u64(b) }));
}

/** body roots of blocks the chain keeps in memory (its recent blocks), so that polling the head's header hashes once */
const bodyRoots = new WeakMap<SignedBeaconBlock, Uint8Array>();

function headerJson(ctx: ApiContext, signed: SignedBeaconBlock) {
  const c = ctx.config;
  const b = signed.message;
  let bodyRoot = bodyRoots.get(signed);
  if (!bodyRoot) bodyRoots.set(signed, (bodyRoot = c.types.BeaconBlockBody.hashTreeRoot(b.body)));
  return c.types.SignedBeaconBlockHeader.toJson({
    message: { slot: b.slot, proposerIndex: b.proposerIndex, parentRoot: b.parentRoot, stateRoot: b.stateRoot, bodyRoot },
    signature: signed.signature,
  });
}

/** Reads a posted SignedBeaconBlock: SSZ bytes (application/octet-stream) or JSON. */
function readPostedBlock(ctx: ApiContext, req: FastifyRequest): SignedBeaconBlock {
  const type = ctx.config.types.SignedBeaconBlock;
  if (Buffer.isBuffer(req.body)) {
    try {
      return type.deserialize(req.body);
    } catch (e) {
      throw new ApiError(400, `invalid SSZ SignedBeaconBlock: ${(e as Error).message}`);
    }
  }
  return parseBody(type, req.body);
}

async function publishBlock(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const signed = readPostedBlock(ctx, req);
  try {
    const result = await ctx.chain.processBlock({ signed, source: "api" });
    if (result.status === "imported") ctx.publisher?.block(signed);
    ctx.pools.recordLiveness(computeEpochAtSlot(ctx.config, signed.message.slot), [signed.message.proposerIndex]);
    // pending: valid in form, but its parent is unknown here yet; held until the parent arrives
    return reply.code(result.status === "imported" ? 200 : 202).send();
  } catch (e) {
    if (!(e instanceof BlockError)) throw e;
    const status = blockErrorOutcome(e).httpStatus;
    if (status === 200 || status === 202) return reply.code(status).send();
    throw new ApiError(status, status === 400 ? `invalid block: ${e.message}` : e.message);
  }
}

/** Maps a pool's refusal to the API: invalid operations are 400, a full pool 503. */
async function submitOne(what: string, submit: () => Promise<unknown>): Promise<void> {
  try {
    await submit();
  } catch (e) {
    if (e instanceof OpValidationError) throw new ApiError(400, `invalid ${what}: ${e.message}`);
    if (e instanceof PoolFullError) throw new ApiError(503, e.message);
    throw e;
  }
}

export function registerBeaconRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const c = ctx.config;
  const t = c.types;

  app.get("/eth/v1/beacon/genesis", async () => {
    const s = ctx.chain.anchorState.state;
    return {
      data: {
        genesis_time: u64(s.genesisTime),
        genesis_validators_root: toHex(s.genesisValidatorsRoot),
        genesis_fork_version: toHex(c.GENESIS_FORK_VERSION),
      },
    };
  });

  // --- states ---

  app.get("/eth/v1/beacon/states/:state_id/root", async (req) => {
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: { root: r.stateRoot } };
  });

  app.get("/eth/v1/beacon/states/:state_id/fork", async (req) => {
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: t.Fork.toJson(r.state.state.fork.toValue()) };
  });

  app.get("/eth/v1/beacon/states/:state_id/finality_checkpoints", async (req) => {
    const r = await getStateOr404(ctx, params(req).state_id);
    const s = r.state.state;
    return {
      execution_optimistic: false,
      finalized: r.finalized,
      data: {
        previous_justified: t.Checkpoint.toJson(s.previousJustifiedCheckpoint.toValue()),
        current_justified: t.Checkpoint.toJson(s.currentJustifiedCheckpoint.toValue()),
        finalized: t.Checkpoint.toJson(s.finalizedCheckpoint.toValue()),
      },
    };
  });

  app.get("/eth/v1/beacon/states/:state_id/validators", async (req) => {
    const q = query(req);
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: validatorsResponse(ctx, r.state, queryList(q.id), queryList(q.status)) };
  });

  // the POST form takes the ids in the body, for lists too long for a URL
  app.post("/eth/v1/beacon/states/:state_id/validators", async (req) => {
    const body = (req.body ?? {}) as { ids?: unknown; statuses?: unknown };
    if (typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "invalid request body: expected an object with ids and/or statuses");
    const ids = stringList(body.ids, "ids");
    const statuses = stringList(body.statuses, "statuses");
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: validatorsResponse(ctx, r.state, ids, statuses) };
  });

  app.get("/eth/v1/beacon/states/:state_id/validators/:validator_id", async (req) => {
    const p = params(req);
    const r = await getStateOr404(ctx, p.state_id);
    const indices = resolveValidatorIds(r.state, [p.validator_id ?? ""]);
    if (indices.length === 0) throw new ApiError(404, `validator not found: ${p.validator_id}`);
    const [item] = validatorsResponse(ctx, r.state, [String(indices[0])], []);
    return { execution_optimistic: false, finalized: r.finalized, data: item };
  });

  app.get("/eth/v1/beacon/states/:state_id/validator_balances", async (req) => {
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: balancesResponse(r.state, queryList(query(req).id)) };
  });

  app.post("/eth/v1/beacon/states/:state_id/validator_balances", async (req) => {
    const ids = req.body === undefined ? [] : stringList(req.body, "body");
    const r = await getStateOr404(ctx, params(req).state_id);
    return { execution_optimistic: false, finalized: r.finalized, data: balancesResponse(r.state, ids) };
  });

  app.get("/eth/v1/beacon/states/:state_id/committees", async (req) => {
    const q = query(req);
    const epochParam = optionalUint(q.epoch, "epoch");
    const index = optionalUint(q.index, "index");
    const slot = optionalUint(q.slot, "slot");
    const r = await getStateOr404(ctx, params(req).state_id);
    const epoch = epochParam ?? r.state.epochCtx.epoch;
    let shuffling;
    try {
      shuffling = r.state.epochCtx.getShufflingAtEpoch(epoch);
    } catch {
      const e = r.state.epochCtx.epoch;
      throw new ApiError(400, `epoch ${epoch} is not within the state's previous, current or next epoch (${Math.max(0, e - 1)}..${e + 1})`);
    }
    if (slot !== undefined && computeEpochAtSlot(c, slot) !== epoch) throw new ApiError(400, `slot ${slot} is not in epoch ${epoch}`);
    if (index !== undefined && index >= shuffling.committeesPerSlot) {
      throw new ApiError(400, `committee index ${index} is out of range (${shuffling.committeesPerSlot} committees per slot)`);
    }
    const start = computeStartSlotAtEpoch(c, epoch);
    const data: unknown[] = [];
    for (let s = start; s < start + c.SLOTS_PER_EPOCH; s++) {
      if (slot !== undefined && s !== slot) continue;
      for (let i = 0; i < shuffling.committeesPerSlot; i++) {
        if (index !== undefined && i !== index) continue;
        data.push({ index: u64(i), slot: u64(s), validators: Array.from(shuffling.committees[s - start][i], (v) => u64(v)) });
      }
    }
    return { execution_optimistic: false, finalized: r.finalized, data };
  });

  // --- headers and blocks ---

  app.get("/eth/v1/beacon/headers", async (req) => {
    const q = query(req);
    const slot = optionalUint(q.slot, "slot");
    const parentRoot = q.parent_root === undefined ? undefined : toHex(parseHexParam(q.parent_root, 32, "parent_root"));
    const roots = new Set<string>();
    if (slot === undefined && parentRoot === undefined) {
      roots.add(ctx.chain.headRoot);
    } else {
      if (slot !== undefined && parentRoot === undefined) {
        const canonical = await ctx.query.getBlock({ kind: "slot", slot });
        if (canonical) roots.add(canonical.root);
      }
      for (const b of ctx.query.forkChoiceBlocks()) {
        if ((slot === undefined || b.slot === slot) && (parentRoot === undefined || b.parentRoot === parentRoot)) roots.add(b.root);
      }
    }
    const data: unknown[] = [];
    for (const root of roots) {
      const r = await ctx.query.getBlockByRoot(root);
      if (r) data.push({ root: r.root, canonical: r.canonical, header: headerJson(ctx, r.block) });
    }
    return { execution_optimistic: false, finalized: false, data };
  });

  app.get("/eth/v1/beacon/headers/:block_id", async (req) => {
    const r = await getBlockOr404(ctx, params(req).block_id);
    return { execution_optimistic: false, finalized: r.finalized, data: { root: r.root, canonical: r.canonical, header: headerJson(ctx, r.block) } };
  });

  app.post("/eth/v1/beacon/blocks", (req, reply) => publishBlock(ctx, req, reply));
  app.post("/eth/v2/beacon/blocks", (req, reply) => publishBlock(ctx, req, reply));

  app.get("/eth/v1/beacon/blocks/:block_id", async (req, reply) => {
    const r = await getBlockOr404(ctx, params(req).block_id);
    if (prefersSsz(req.headers.accept)) return sendSsz(reply, t.SignedBeaconBlock.serialize(r.block));
    return { data: t.SignedBeaconBlock.toJson(r.block) };
  });

  app.get("/eth/v2/beacon/blocks/:block_id", async (req, reply) => {
    const r = await getBlockOr404(ctx, params(req).block_id);
    if (prefersSsz(req.headers.accept)) return sendSsz(reply, t.SignedBeaconBlock.serialize(r.block));
    reply.header("eth-consensus-version", "phase0");
    return { version: "phase0", execution_optimistic: false, finalized: r.finalized, data: t.SignedBeaconBlock.toJson(r.block) };
  });

  app.get("/eth/v1/beacon/blocks/:block_id/root", async (req) => {
    const r = await getBlockOr404(ctx, params(req).block_id);
    return { execution_optimistic: false, finalized: r.finalized, data: { root: r.root } };
  });

  app.get("/eth/v1/beacon/blocks/:block_id/attestations", async (req) => {
    const r = await getBlockOr404(ctx, params(req).block_id);
    return {
      execution_optimistic: false,
      finalized: r.finalized,
      data: r.block.message.body.attestations.map((a) => t.Attestation.toJson(a)),
    };
  });

  // --- pools ---

  app.get("/eth/v1/beacon/pool/attestations", async (req) => {
    const q = query(req);
    const slot = optionalUint(q.slot, "slot");
    const committeeIndex = optionalUint(q.committee_index, "committee_index");
    return { data: ctx.pools.getAttestations({ slot, committeeIndex }).map((p) => t.Attestation.toJson(p.attestation)) };
  });

  app.post("/eth/v1/beacon/pool/attestations", async (req, reply) => {
    const atts = parseBodyList(t.Attestation, req.body);
    const failures = await ctx.pools.submitAttestations(atts);
    if (ctx.publisher) {
      const failed = new Set(failures.map((f) => f.index));
      atts.forEach((a, i) => failed.has(i) || ctx.publisher!.attestation(a));
    }
    if (failures.length > 0) {
      return reply.code(400).send({
        code: 400,
        message: `${failures.length} of ${atts.length} attestations failed validation; the others were accepted`,
        failures,
      });
    }
    return reply.code(200).send();
  });

  app.get("/eth/v1/beacon/pool/voluntary_exits", async () => ({
    data: ctx.pools.operations.getVoluntaryExits().map((e) => t.SignedVoluntaryExit.toJson(e)),
  }));
  app.post("/eth/v1/beacon/pool/voluntary_exits", async (req, reply) => {
    const exit = parseBody(t.SignedVoluntaryExit, req.body);
    await submitOne("voluntary exit", () => ctx.pools.submitVoluntaryExit(exit));
    ctx.publisher?.voluntaryExit(exit);
    return reply.code(200).send();
  });

  app.get("/eth/v1/beacon/pool/proposer_slashings", async () => ({
    data: ctx.pools.operations.getProposerSlashings().map((s) => t.ProposerSlashing.toJson(s)),
  }));
  app.post("/eth/v1/beacon/pool/proposer_slashings", async (req, reply) => {
    const slashing = parseBody(t.ProposerSlashing, req.body);
    await submitOne("proposer slashing", () => ctx.pools.submitProposerSlashing(slashing));
    ctx.publisher?.proposerSlashing(slashing);
    return reply.code(200).send();
  });

  app.get("/eth/v1/beacon/pool/attester_slashings", async () => ({
    data: ctx.pools.operations.getAttesterSlashings().map((s) => t.AttesterSlashing.toJson(s)),
  }));
  app.post("/eth/v1/beacon/pool/attester_slashings", async (req, reply) => {
    const slashing = parseBody(t.AttesterSlashing, req.body);
    await submitOne("attester slashing", () => ctx.pools.submitAttesterSlashing(slashing));
    ctx.publisher?.attesterSlashing(slashing);
    return reply.code(200).send();
  });
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new ApiError(400, `invalid request body: ${name} must be an array of strings, got ${describe(value)}`);
  }
  return value;
}
