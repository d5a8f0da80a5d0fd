// /eth/v{1,2}/debug/*: whole states (JSON, or SSZ when the Accept header prefers it) and the fork-choice heads.
import type { FastifyInstance } from "fastify";
import { u64 } from "../../json.js";
import { getStateOr404, params, prefersSsz, sendSsz, type ApiContext } from "../context.js";

export function registerDebugRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const t = ctx.config.types;

  for (const version of [1, 2]) {
    app.get(`/eth/v${version}/debug/beacon/states/:state_id`, async (req, reply) => {
      const r = await getStateOr404(ctx, params(req).state_id);
      if (prefersSsz(req.headers.accept)) return sendSsz(reply, r.state.state.serialize());
      const data = t.BeaconState.toJson(r.state.state.toValue());
      if (version === 1) return { data };
      reply.header("eth-consensus-version", "phase0");
      return { version: "phase0", execution_optimistic: false, finalized: r.finalized, data };
    });

    // the leaves of the block tree fork choice holds
    app.get(`/eth/v${version}/debug/beacon/heads`, async () => {
      const blocks = ctx.query.forkChoiceBlocks();
      const parents = new Set(blocks.map((b) => b.parentRoot));
      const data = blocks
        .filter((b) => !parents.has(b.root))
        .map((b) => (version === 1 ? { root: b.root, slot: u64(b.slot) } : { root: b.root, slot: u64(b.slot), execution_optimistic: false }));
      return { data };
    });
  }
}
