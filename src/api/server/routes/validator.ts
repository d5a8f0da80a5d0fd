// /eth/v1/validator/*: duties, block production, attestation data, aggregation, subnet subscriptions, liveness.
import { ContainerType } from "@chainsafe/ssz";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { produceBlockOnHead, ProduceBlockError } from "../../../chain/opPools/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../../state-transition/util/epoch.js";
import { fromHex, toHex } from "../../../util/bytes.js";
import { primitive } from "../../../types/index.js";
import { u64 } from "../../json.js";
import {
  ApiError,
  params,
  parseBodyList,
  parseHexParam,
  parseUintParam,
  prefersSsz,
  query,
  queryList,
  sendSsz,
  type ApiContext,
} from "../context.js";

const GRAFFITI_LENGTH = 32;
/** indices in one GET liveness query (the URL carries them; the POST body is bounded by the body limit) */
const MAX_LIVENESS_INDICES = 4096;

/** graffiti as 0x-hex (up to 32 bytes) or as plain text (UTF-8, up to 32 bytes); right-padded with zeros. */
export function parseGraffiti(value: string | string[] | undefined): Uint8Array {
  const out = new Uint8Array(GRAFFITI_LENGTH);
  if (value === undefined) return out;
  if (Array.isArray(value)) throw new ApiError(400, "graffiti given more than once");
  let bytes: Uint8Array;
  if (/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) bytes = fromHex(value);
  else bytes = Buffer.from(value, "utf8");
  if (bytes.length > GRAFFITI_LENGTH) throw new ApiError(400, `invalid graffiti: ${bytes.length} bytes, at most ${GRAFFITI_LENGTH}`);
  out.set(bytes);
  return out;
}

const SubscriptionType = new ContainerType(
  {
    validatorIndex: primitive.ValidatorIndex,
    committeeIndex: primitive.CommitteeIndex,
    committeesAtSlot: primitive.UintNum64,
    slot: primitive.Slot,
    isAggregator: primitive.Boolean,
  },
  { typeName: "BeaconCommitteeSubscription", jsonCase: "snake" },
);

/** A validator index list body: strings (the API's form) or numbers. */
function parseIndexList(body: unknown, name = "body"): number[] {
  if (!Array.isArray(body)) throw new ApiError(400, `invalid request body: expected a JSON array of validator indices`);
  return body.map((v, i) => parseUintParam(typeof v === "number" ? String(v) : (v as string), `${name}[${i}]`));
}

export function registerValidatorRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const c = ctx.config;
  const t = c.types;

  const checkNotTooFar = (epoch: number) => {
    const current = computeEpochAtSlot(c, ctx.currentSlot());
    if (epoch > current + 1) throw new ApiError(400, `epoch ${epoch} is too far ahead (current epoch ${current}; at most ${current + 1})`);
  };

  app.post("/eth/v1/validator/duties/attester/:epoch", async (req) => {
    const epoch = parseUintParam(params(req).epoch, "epoch");
    checkNotTooFar(epoch);
    const indices = parseIndexList(req.body ?? []);
    const state = await ctx.query.getStateForEpoch(epoch);
    if (!state) throw new ApiError(404, `no state for epoch ${epoch}`);
    const shuffling = state.epochCtx.getShufflingAtEpoch(epoch);
    const wanted = new Set(indices);
    const start = computeStartSlotAtEpoch(c, epoch);
    const data: unknown[] = [];
    shuffling.committees.forEach((committees, slotInEpoch) => {
      committees.forEach((committee, committeeIndex) => {
        committee.forEach((validator, position) => {
          if (!wanted.has(validator)) return;
          data.push({
            pubkey: toHex(state.epochCtx.pubkeyCache.getPubkeyBytes(validator)),
            validator_index: u64(validator),
            committee_index: u64(committeeIndex),
            committee_length: u64(committee.length),
            committees_at_slot: u64(shuffling.committeesPerSlot),
            validator_committee_index: u64(position),
            slot: u64(start + slotInEpoch),
          });
        });
      });
    });
    // duties of epoch E are fixed by the chain up to the last block before epoch E-1
    return { dependent_root: ctx.chain.getDependentRoot(ctx.chain.headRoot, epoch - 1), execution_optimistic: false, data };
  });

  app.get("/eth/v1/validator/duties/proposer/:epoch", async (req) => {
    const epoch = parseUintParam(params(req).epoch, "epoch");
    checkNotTooFar(epoch);
    const state = await ctx.query.getStateForEpoch(epoch, { proposers: true });
    if (!state) throw new ApiError(404, `no state for epoch ${epoch}`);
    const start = computeStartSlotAtEpoch(c, epoch);
    const data = state.epochCtx.proposers.map((validator, i) => ({
      pubkey: toHex(state.epochCtx.pubkeyCache.getPubkeyBytes(validator)),
      validator_index: u64(validator),
      slot: u64(start + i),
    }));
    return { dependent_root: ctx.chain.getDependentRoot(ctx.chain.headRoot, epoch), execution_optimistic: false, data };
  });

  const produce = async (req: FastifyRequest, reply: FastifyReply, version: 1 | 2) => {
    const slot = parseUintParam(params(req).slot, "slot");
    const q = query(req);
    const randaoReveal = parseHexParam(q.randao_reveal, 96, "randao_reveal");
    const graffiti = parseGraffiti(q.graffiti);
    const current = ctx.currentSlot();
    if (slot > current + 1) throw new ApiError(400, `slot ${slot} is in the future (current slot ${current})`);
    let block;
    try {
      ({ block } = await produceBlockOnHead(ctx.chain, ctx.pools, { slot, randaoReveal, graffiti }, ctx.eth1));
    } catch (e) {
      if (e instanceof ProduceBlockError) throw new ApiError(e.fault === "node" ? 503 : 400, e.message);
      throw e;
    }
    if (version === 2 && prefersSsz(req.headers.accept)) return sendSsz(reply, t.BeaconBlock.serialize(block));
    // block_value is not in the standard; Lodestar's validator client before 1.7.0 fails to propose without it
    if (version === 1) return { data: t.BeaconBlock.toJson(block), block_value: "0" };
    reply.header("eth-consensus-version", "phase0");
    return { version: "phase0", data: t.BeaconBlock.toJson(block), block_value: "0" };
  };
  app.get("/eth/v1/validator/blocks/:slot", (req, reply) => produce(req, reply, 1));
  app.get("/eth/v2/validator/blocks/:slot", (req, reply) => produce(req, reply, 2));

  app.get("/eth/v1/validator/attestation_data", async (req) => {
    const q = query(req);
    const slot = parseUintParam(q.slot, "slot");
    const committeeIndex = parseUintParam(q.committee_index, "committee_index");
    const data = await ctx.query.produceAttestationData(slot, committeeIndex);
    return { data: t.AttestationData.toJson(data) };
  });

  app.get("/eth/v1/validator/aggregate_attestation", async (req) => {
    const q = query(req);
    const dataRoot = toHex(parseHexParam(q.attestation_data_root, 32, "attestation_data_root"));
    const slot = parseUintParam(q.slot, "slot");
    const att = ctx.pools.getAggregate(slot, dataRoot);
    if (!att) throw new ApiError(404, `no attestation known for attestation_data_root ${dataRoot} at slot ${slot}`);
    return { data: t.Attestation.toJson(att) };
  });

  app.post("/eth/v1/validator/aggregate_and_proofs", async (req, reply) => {
    const items = parseBodyList(t.SignedAggregateAndProof, req.body);
    const failures = await ctx.pools.submitAggregateAndProofs(items);
    if (ctx.publisher) {
      const failed = new Set(failures.map((f) => f.index));
      items.forEach((a, i) => failed.has(i) || ctx.publisher!.aggregate(a));
    }
    if (failures.length > 0) {
      return reply.code(400).send({
        code: 400,
        message: `${failures.length} of ${items.length} aggregates failed validation; the others were accepted`,
        failures,
      });
    }
    return reply.code(200).send();
  });

  // the subnets of these committees are joined ahead of their slot (with networking)
  app.post("/eth/v1/validator/beacon_committee_subscriptions", async (req, reply) => {
    const subs = parseBodyList(SubscriptionType, req.body);
    ctx.publisher?.committeeSubscriptions(subs);
    return reply.code(200).send();
  });

  app.post("/eth/v1/validator/liveness/:epoch", async (req) => {
    const epoch = parseUintParam(params(req).epoch, "epoch");
    checkNotTooFar(epoch);
    const indices = parseIndexList(req.body);
    return { data: indices.map((i) => ({ index: u64(i), is_live: ctx.pools.isLive(epoch, i) })) };
  });
  // the route before the standard one (Lodestar's validator client of 2020 to 2023, 1.5.1 among them, asks it)
  app.get("/eth/v1/validator/liveness", async (req) => {
    const q = query(req);
    const epoch = parseUintParam(q.epoch, "epoch");
    checkNotTooFar(epoch);
    const indices = queryList(q.indices).map((v, i) => parseUintParam(v, `indices[${i}]`));
    if (indices.length > MAX_LIVENESS_INDICES) throw new ApiError(400, `at most ${MAX_LIVENESS_INDICES} indices`);
    // its answer names the epoch too
    return { data: indices.map((i) => ({ index: u64(i), epoch: u64(epoch), is_live: ctx.pools.isLive(epoch, i) })) };
  });
}

