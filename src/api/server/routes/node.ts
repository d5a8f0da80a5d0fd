// /eth/v1/node/*: version, syncing, health, identity, peers.
import type { FastifyInstance } from "fastify";
import { u64 } from "../../json.js";
import type { PeerInfo } from "../../../network/interface.js";
import { ApiError, params, query, queryList, type ApiContext } from "../context.js";

const PEER_STATES = ["disconnected", "connecting", "connected", "disconnecting"];
const PEER_DIRECTIONS = ["inbound", "outbound"];

function peerJson(p: PeerInfo) {
  return { peer_id: p.peerId, enr: p.enr ?? null, last_seen_p2p_address: p.lastSeenP2pAddress ?? "", state: p.state, direction: p.direction };
}

function checkedFilter(values: string[], allowed: string[], name: string): Set<string> | null {
  for (const v of values) if (!allowed.includes(v)) throw new ApiError(400, `invalid ${name} ${JSON.stringify(v)}: expected one of ${allowed.join(", ")}`);
  return values.length > 0 ? new Set(values) : null;
}

export function registerNodeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const peers = (): PeerInfo[] => ctx.node.peers?.() ?? [];

  app.get("/eth/v1/node/version", async () => ({ data: { version: ctx.node.version } }));

  app.get("/eth/v1/node/syncing", async () => {
    const s = ctx.syncStatus();
    return {
      data: { head_slot: u64(s.headSlot), sync_distance: u64(s.syncDistance), is_syncing: s.isSyncing, is_optimistic: false, el_offline: false },
    };
  });

  // 200 ready, 206 syncing (or the status the caller asks for with syncing_status)
  app.get("/eth/v1/node/health", async (req, reply) => {
    const raw = query(req).syncing_status;
    let syncingCode = 206;
    if (raw !== undefined) {
      const n = Number(raw);
      if (typeof raw !== "string" || !/^[0-9]{3}$/.test(raw) || n < 100 || n > 599) {
        throw new ApiError(400, `invalid syncing_status ${JSON.stringify(raw)}: expected an HTTP status code (100-599)`);
      }
      syncingCode = n;
    }
    return reply.code(ctx.syncStatus().isSyncing ? syncingCode : 200).send();
  });

  app.get("/eth/v1/node/identity", async () => ({
    data: {
      peer_id: ctx.node.peerId ?? "",
      enr: ctx.node.enr ?? "",
      p2p_addresses: ctx.node.p2pAddresses ?? [],
      discovery_addresses: ctx.node.discoveryAddresses ?? [],
      metadata: (() => {
        const md = ctx.node.metadata?.();
        return md ? { seq_number: md.seqNumber.toString(), attnets: md.attnets } : { seq_number: "0", attnets: "0x0000000000000000" };
      })(),
    },
  }));

  app.get("/eth/v1/node/peers", async (req) => {
    const q = query(req);
    const states = checkedFilter(queryList(q.state), PEER_STATES, "state");
    const directions = checkedFilter(queryList(q.direction), PEER_DIRECTIONS, "direction");
    const data = peers()
      .filter((p) => (!states || states.has(p.state)) && (!directions || directions.has(p.direction)))
      .map(peerJson);
    return { data, meta: { count: data.length } };
  });

  app.get("/eth/v1/node/peers/:peer_id", async (req) => {
    const id = params(req).peer_id;
    const peer = peers().find((p) => p.peerId === id);
    if (!peer) throw new ApiError(404, `peer not found: ${id}`);
    return { data: peerJson(peer) };
  });

  app.get("/eth/v1/node/peer_count", async () => {
    const counts: Record<string, number> = { disconnected: 0, connecting: 0, connected: 0, disconnecting: 0 };
    for (const p of peers()) counts[p.state] = (counts[p.state] ?? 0) + 1;
    return {
      data: {
        disconnected: u64(counts.disconnected),
        connecting: u64(counts.connecting),
        connected: u64(counts.connected),
        disconnecting: u64(counts.disconnecting),
      },
    };
  });
}
