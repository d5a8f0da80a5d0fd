// A fake beacon node for validator client tests: a plain node:http server speaking the standard Beacon API calls a
// validator client makes, over a made-up but self-consistent minimal-preset chain of interop validators. It checks
// every signature it receives (with the domains of its genesis) and records what was posted and when, by its own
// clock, so tests can assert on timing against the slot and on slashability.
//
// The chain: one committee per slot; validator v attests at slot (v + epoch) % SLOTS_PER_EPOCH of each epoch;
// the proposer of slot s is s % validatorCount (or opts.proposerOf); block roots are hashes of the slot (and a
// re-org salt), so dependent roots change when a test calls reorg().
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { BitArray } from "@chainsafe/ssz";
import { configValueToJson } from "../../src/api/client/json.js";
import type { BeaconConfig } from "../../src/config/index.js";
import { aggregateSignatures, verify, type PublicKey } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { computeDomain, computeSigningRoot } from "../../src/state-transition/util/domain.js";
import { primitive, type Attestation, type AttestationData, type SignedAggregateAndProof, type SignedBeaconBlock } from "../../src/types/index.js";
import { isAggregator } from "../../src/validator/services/aggregation.js";
import { fromHex, toHex as hex } from "../../src/util/bytes.js";

export type FakeMode = "ok" | "error500" | "syncing" | "reset";

export interface FakeBeaconNodeOptions {
  config: BeaconConfig;
  /** Interop validators 0..n-1 are in the registry. */
  validatorCount: number;
  /** Unix seconds. */
  genesisTime: number;
  /** The fake's slot length (the validator client under test must use the same override). */
  secondsPerSlot: number;
  /** The fake's clock (ms); Date.now by default. */
  now?: () => number;
  /** Emit a head event for each slot at this fraction of it (default 0.1); null: no head events. */
  headEventFraction?: number | null;
  /** committee_length reported in duties (default: the number of members); larger makes aggregators rarer. */
  committeeLength?: number;
  proposerOf?: (slot: number) => number;
  /** Indices not in the registry until a test calls addValidator(). */
  hiddenValidators?: number[];
  /** Values served by /eth/v1/config/spec in place of the config's. */
  specOverrides?: Record<string, string>;
  genesisValidatorsRoot?: Uint8Array;
  /** Send the event stream's headers only with its first event, as Lodestar does. */
  eventsHeadersWithFirstEvent?: boolean;
  port?: number;
  /** Serve POST /eth/v1/validator/liveness: these indices are live in every epoch (without it: 404, as old nodes). */
  liveIndices?: number[];
}

export interface Received<T> {
  value: T;
  /** The fake's clock at receipt (ms) and its slot then. */
  at: number;
  nodeSlot: number;
  /** For attestations and blocks: the signer's validator index. */
  validatorIndex: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  at: number;
}

export class FakeBeaconNode {
  readonly config: BeaconConfig;
  readonly genesisValidatorsRoot: Uint8Array;
  mode: FakeMode = "ok";
  readonly requests: RequestRecord[] = [];
  readonly blocks: Received<SignedBeaconBlock>[] = [];
  readonly attestations: Received<Attestation>[] = [];
  readonly aggregates: Received<SignedAggregateAndProof>[] = [];
  readonly subscriptions: Record<string, unknown>[] = [];
  /** Every signature or message that failed a check, described. Tests expect it empty. */
  readonly problems: string[] = [];
  private readonly pubkeys: PublicKey[] = [];
  private readonly pubkeyBytes: Uint8Array[] = [];
  private readonly hidden: Set<number>;
  private readonly sseClients = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server: Server;
  private timer: NodeJS.Timeout | undefined;
  private lastHeadEmitted = -1;
  private reorgSalt = 0;
  port = 0;

  private constructor(private readonly opts: FakeBeaconNodeOptions) {
    this.config = opts.config;
    this.genesisValidatorsRoot = opts.genesisValidatorsRoot ?? new Uint8Array(32).fill(0x11);
    this.hidden = new Set(opts.hiddenValidators ?? []);
    for (let i = 0; i < opts.validatorCount; i++) {
      const pk = interopSecretKey(i).toPublicKey();
      this.pubkeys.push(pk);
      this.pubkeyBytes.push(pk.toBytes());
    }
    this.server = this.createServer();
  }

  static async start(opts: FakeBeaconNodeOptions): Promise<FakeBeaconNode> {
    const node = new FakeBeaconNode(opts);
    await node.listen(opts.port ?? 0);
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  now(): number {
    return (this.opts.now ?? Date.now)();
  }

  slotMs(): number {
    return this.opts.secondsPerSlot * 1000;
  }

  slotAt(ms: number): number {
    return Math.floor((ms - this.opts.genesisTime * 1000) / this.slotMs());
  }

  currentSlot(): number {
    return this.slotAt(this.now());
  }

  /** Milliseconds from the start of `slot` to time `ms`. */
  msSinceSlotStart(slot: number, ms: number): number {
    return ms - (this.opts.genesisTime * 1000 + slot * this.slotMs());
  }

  /** Milliseconds into its slot at time `ms`. */
  msIntoSlot(ms: number): number {
    return ms - (this.opts.genesisTime * 1000 + this.slotAt(ms) * this.slotMs());
  }

  /** The head: the current slot once its head event time has passed, else the slot before. */
  headSlot(): number {
    const now = this.now();
    const slot = this.slotAt(now);
    const frac = this.opts.headEventFraction ?? 0;
    return Math.max(0, this.msIntoSlot(now) >= frac * this.slotMs() ? slot : slot - 1);
  }

  blockRoot(slot: number): Uint8Array {
    return sha(`block ${Math.max(-1, slot)} ${this.reorgSalt}`);
  }

  /** Changes every block root (and so every dependent root) from now on, as a deep re-org would. */
  reorg(): void {
    this.reorgSalt++;
  }

  addValidator(index: number): void {
    this.hidden.delete(index);
  }

  committeeAt(slot: number): number[] {
    const spe = this.config.SLOTS_PER_EPOCH;
    const epoch = Math.floor(slot / spe);
    const out: number[] = [];
    for (let v = 0; v < this.opts.validatorCount; v++) if (!this.hidden.has(v) && (v + epoch) % spe === slot % spe) out.push(v);
    return out;
  }

  committeeLength(slot: number): number {
    return Math.max(this.opts.committeeLength ?? 0, this.committeeAt(slot).length);
  }

  proposerOf(slot: number): number {
    return this.opts.proposerOf ? this.opts.proposerOf(slot) : slot % this.opts.validatorCount;
  }

  /** Attester duties of epoch e depend on the block at the last slot of epoch e-2; proposer duties of e on e-1's. */
  dependentRoot(epoch: number): Uint8Array {
    return this.blockRoot(epoch * this.config.SLOTS_PER_EPOCH - 1);
  }

  attestationData(slot: number, committeeIndex: number): AttestationData {
    const spe = this.config.SLOTS_PER_EPOCH;
    const epoch = Math.floor(slot / spe);
    const sourceEpoch = Math.max(0, epoch - 1);
    return {
      slot,
      index: committeeIndex,
      beaconBlockRoot: this.blockRoot(Math.min(slot, this.headSlot())),
      source: { epoch: sourceEpoch, root: this.blockRoot(sourceEpoch * spe) },
      target: { epoch, root: this.blockRoot(epoch * spe) },
    };
  }

  headEvent(slot: number): Record<string, unknown> {
    const epoch = Math.floor(slot / this.config.SLOTS_PER_EPOCH);
    return {
      slot: String(slot),
      block: hex(this.blockRoot(slot)),
      state: hex(sha(`state ${slot} ${this.reorgSalt}`)),
      epoch_transition: slot % this.config.SLOTS_PER_EPOCH === 0,
      previous_duty_dependent_root: hex(this.dependentRoot(epoch - 1)),
      current_duty_dependent_root: hex(this.dependentRoot(epoch)),
    };
  }

  /** Sends an event to every open event stream. */
  emit(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.sseClients) res.write(text);
  }

  get eventStreams(): number {
    return this.sseClients.size;
  }

  requestsTo(pathPrefix: string): RequestRecord[] {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  /** Closes the port: connections are refused until restart(). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const res of this.sseClients) res.destroy();
    this.sseClients.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.stop();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.port = (this.server.address() as AddressInfo).port;
        if (this.opts.headEventFraction !== null) this.timer = setInterval(() => this.tick(), 10);
        resolve();
      });
    });
  }

  private tick(): void {
    const now = this.now();
    const slot = this.slotAt(now);
    const frac = this.opts.headEventFraction ?? 0.1;
    if (slot >= 0 && slot > this.lastHeadEmitted && this.msIntoSlot(now) >= frac * this.slotMs()) {
      this.lastHeadEmitted = slot;
      this.emit("head", this.headEvent(slot));
    }
  }

  private createServer(): Server {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) send(res, 500, { code: 500, message: String(e instanceof Error ? e.message : e) });
      });
    });
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    return server;
  }

  private domain(type: Uint8Array): Uint8Array {
    return computeDomain(this.config, type, this.config.GENESIS_FORK_VERSION, this.genesisValidatorsRoot);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const at = this.now();
    this.requests.push({ method: req.method ?? "GET", path: path + url.search, at });
    const body = await readBody(req);
    if (this.mode === "reset") {
      req.socket.destroy();
      return;
    }
    if (this.mode === "error500") return send(res, 500, { code: 500, message: "internal error (fake)" });
    const T = this.config.types;
    const spe = this.config.SLOTS_PER_EPOCH;
    let m: RegExpExecArray | null;

    if (req.method === "GET" && path === "/eth/v1/beacon/genesis") {
      return send(res, 200, {
        data: {
          genesis_time: String(this.opts.genesisTime),
          genesis_validators_root: hex(this.genesisValidatorsRoot),
          genesis_fork_version: hex(this.config.GENESIS_FORK_VERSION),
        },
      });
    }
    if (req.method === "GET" && path === "/eth/v1/config/spec") {
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.config)) if (k !== "types") data[k] = configValueToJson(v);
      return send(res, 200, { data: { ...data, ...this.opts.specOverrides } });
    }
    if (req.method === "GET" && path === "/eth/v1/node/syncing") {
      const current = Math.max(0, this.currentSlot());
      const syncing = this.mode === "syncing";
      const head = syncing ? Math.max(0, current - 100) : this.headSlot();
      return send(res, 200, {
        data: { head_slot: String(head), sync_distance: String(current - head), is_syncing: syncing, is_optimistic: false, el_offline: false },
      });
    }
    if (req.method === "GET" && path === "/eth/v1/node/health") {
      res.writeHead(this.mode === "syncing" ? 206 : 200).end();
      return;
    }
    if (req.method === "GET" && (m = /^\/eth\/v1\/beacon\/states\/head\/validators$/.exec(path))) {
      const ids = url.searchParams.getAll("id").flatMap((s) => s.split(","));
      const data = [];
      for (const id of ids) {
        const index = /^0x/.test(id) ? this.pubkeyBytes.findIndex((p) => hex(p) === id.toLowerCase()) : Number(id);
        if (index < 0 || index >= this.opts.validatorCount || this.hidden.has(index)) continue;
        data.push({
          index: String(index),
          balance: "32000000000",
          status: "active_ongoing",
          validator: {
            pubkey: hex(this.pubkeyBytes[index]),
            withdrawal_credentials: hex(new Uint8Array(32)),
            effective_balance: "32000000000",
            slashed: false,
            activation_eligibility_epoch: "0",
            activation_epoch: "0",
            exit_epoch: "18446744073709551615",
            withdrawable_epoch: "18446744073709551615",
          },
        });
      }
      return send(res, 200, { data, execution_optimistic: false, finalized: false });
    }
    if (req.method === "GET" && (m = /^\/eth\/v1\/validator\/duties\/proposer\/([0-9]+)$/.exec(path))) {
      const epoch = Number(m[1]);
      const data = [];
      for (let slot = epoch * spe; slot < (epoch + 1) * spe; slot++) {
        const v = this.proposerOf(slot);
        data.push({ pubkey: hex(this.pubkeyBytes[v]), validator_index: String(v), slot: String(slot) });
      }
      return send(res, 200, { dependent_root: hex(this.dependentRoot(epoch)), execution_optimistic: false, data });
    }
    if (req.method === "POST" && (m = /^\/eth\/v1\/validator\/duties\/attester\/([0-9]+)$/.exec(path))) {
      const epoch = Number(m[1]);
      const indices = (JSON.parse(body) as string[]).map(Number);
      const data: Record<string, string>[] = [];
      for (let slot = epoch * spe; slot < (epoch + 1) * spe; slot++) {
        const members = this.committeeAt(slot);
        members.forEach((v, position) => {
          if (!indices.includes(v)) return;
          data.push({
            pubkey: hex(this.pubkeyBytes[v]),
            validator_index: String(v),
            committee_index: "0",
            committee_length: String(this.committeeLength(slot)),
            committees_at_slot: "1",
            validator_committee_index: String(position),
            slot: String(slot),
          });
        });
      }
      return send(res, 200, { dependent_root: hex(this.dependentRoot(epoch - 1)), execution_optimistic: false, data });
    }
    if (req.method === "POST" && path === "/eth/v1/validator/beacon_committee_subscriptions") {
      this.subscriptions.push(...(JSON.parse(body) as Record<string, unknown>[]));
      return send(res, 200, undefined);
    }
    if (req.method === "GET" && (m = /^\/eth\/v1\/validator\/blocks\/([0-9]+)$/.exec(path))) {
      const slot = Number(m[1]);
      const proposer = this.proposerOf(slot);
      const randaoReveal = fromHex(url.searchParams.get("randao_reveal") ?? "");
      const epoch = Math.floor(slot / spe);
      const randaoRoot = computeSigningRoot(this.config, primitive.Epoch, epoch, this.domain(this.config.DOMAIN_RANDAO));
      if (!verify(this.pubkeys[proposer], randaoRoot, randaoReveal)) {
        this.problems.push(`randao reveal for slot ${slot} does not verify`);
        return send(res, 400, { code: 400, message: "invalid randao reveal" });
      }
      const graffitiParam = url.searchParams.get("graffiti") ?? "";
      const graffiti = new Uint8Array(32);
      graffiti.set(/^0x[0-9a-f]{64}$/i.test(graffitiParam) ? fromHex(graffitiParam) : Buffer.from(graffitiParam).subarray(0, 32));
      const block = {
        slot,
        proposerIndex: proposer,
        parentRoot: this.blockRoot(slot - 1),
        stateRoot: sha(`post-state ${slot}`),
        body: { ...T.BeaconBlockBody.defaultValue(), randaoReveal, graffiti },
      };
      return send(res, 200, { data: T.BeaconBlock.toJson(block) });
    }
    if (req.method === "POST" && path === "/eth/v1/beacon/blocks") {
      const signed = T.SignedBeaconBlock.fromJson(JSON.parse(body));
      const slot = signed.message.slot;
      const proposer = signed.message.proposerIndex;
      const root = computeSigningRoot(this.config, T.BeaconBlock, signed.message, this.domain(this.config.DOMAIN_BEACON_PROPOSER));
      if (!this.pubkeys[proposer] || !verify(this.pubkeys[proposer], root, signed.signature)) {
        this.problems.push(`block signature for slot ${slot} does not verify`);
        return send(res, 400, { code: 400, message: "invalid block signature" });
      }
      this.blocks.push({ value: signed, at, nodeSlot: this.slotAt(at), validatorIndex: proposer });
      return send(res, 200, undefined);
    }
    if (req.method === "GET" && path === "/eth/v1/validator/attestation_data") {
      const slot = Number(url.searchParams.get("slot"));
      const committeeIndex = Number(url.searchParams.get("committee_index"));
      return send(res, 200, { data: T.AttestationData.toJson(this.attestationData(slot, committeeIndex)) });
    }
    if (req.method === "POST" && path === "/eth/v1/beacon/pool/attestations") {
      const failures: { index: number; message: string }[] = [];
      (JSON.parse(body) as unknown[]).forEach((json, i) => {
        const att = T.Attestation.fromJson(json);
        const bits = att.aggregationBits.getTrueBitIndexes();
        const members = this.committeeAt(att.data.slot);
        const v = bits.length === 1 ? members[bits[0]] : undefined;
        const root = computeSigningRoot(this.config, T.AttestationData, att.data, this.domain(this.config.DOMAIN_BEACON_ATTESTER));
        if (v === undefined || att.aggregationBits.bitLen !== this.committeeLength(att.data.slot) || !verify(this.pubkeys[v], root, att.signature)) {
          this.problems.push(`attestation ${i} for slot ${att.data.slot} (bits ${bits.join(",")}) does not verify`);
          failures.push({ index: i, message: "invalid" });
          return;
        }
        this.attestations.push({ value: att, at, nodeSlot: this.slotAt(at), validatorIndex: v });
      });
      if (failures.length > 0) return send(res, 400, { code: 400, message: "some failed", failures });
      return send(res, 200, undefined);
    }
    if (req.method === "GET" && path === "/eth/v1/validator/aggregate_attestation") {
      const dataRoot = url.searchParams.get("attestation_data_root") ?? "";
      const slot = Number(url.searchParams.get("slot"));
      const matching = this.attestations.filter((a) => a.value.data.slot === slot && hex(T.AttestationData.hashTreeRoot(a.value.data)) === dataRoot);
      if (matching.length === 0) return send(res, 404, { code: 404, message: "no matching attestations" });
      const bits = BitArray.fromBitLen(matching[0].value.aggregationBits.bitLen);
      for (const a of matching) for (const i of a.value.aggregationBits.getTrueBitIndexes()) bits.set(i, true);
      const aggregate: Attestation = {
        aggregationBits: bits,
        data: matching[0].value.data,
        signature: aggregateSignatures(matching.map((a) => a.value.signature)),
      };
      return send(res, 200, { data: T.Attestation.toJson(aggregate) });
    }
    if (req.method === "POST" && path === "/eth/v1/validator/aggregate_and_proofs") {
      for (const json of JSON.parse(body) as unknown[]) {
        const signed = T.SignedAggregateAndProof.fromJson(json);
        const { aggregatorIndex, aggregate, selectionProof } = signed.message;
        const slot = aggregate.data.slot;
        const pk = this.pubkeys[aggregatorIndex];
        const selectionRoot = computeSigningRoot(this.config, primitive.Slot, slot, this.domain(this.config.DOMAIN_SELECTION_PROOF));
        const root = computeSigningRoot(this.config, T.AggregateAndProof, signed.message, this.domain(this.config.DOMAIN_AGGREGATE_AND_PROOF));
        if (!pk || !verify(pk, selectionRoot, selectionProof) || !verify(pk, root, signed.signature)) {
          this.problems.push(`aggregate of validator ${aggregatorIndex} for slot ${slot} does not verify`);
          continue;
        }
        if (!isAggregator(this.config, this.committeeLength(slot), selectionProof)) {
          this.problems.push(`validator ${aggregatorIndex} aggregated at slot ${slot} without being selected`);
          continue;
        }
        this.aggregates.push({ value: signed, at, nodeSlot: this.slotAt(at), validatorIndex: aggregatorIndex });
      }
      return send(res, 200, undefined);
    }
    const liveness = /^\/eth\/v1\/validator\/liveness\/(\d+)$/.exec(path);
    if (req.method === "POST" && liveness && this.opts.liveIndices) {
      const live = new Set(this.opts.liveIndices);
      const data = (JSON.parse(body) as string[]).map((i) => ({ index: i, is_live: live.has(Number(i)) }));
      return send(res, 200, { data });
    }
    if (req.method === "GET" && path === "/eth/v1/events") {
      const topics = url.searchParams.getAll("topics").flatMap((t) => t.split(","));
      if (!topics.includes("head")) return send(res, 400, { code: 400, message: "unknown topics" });
      const headers = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" };
      if (this.opts.eventsHeadersWithFirstEvent) {
        // implicit headers: node:http sends them with the first write
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      } else {
        res.writeHead(200, headers);
        res.flushHeaders();
        res.write(": connected\n\n");
      }
      this.sseClients.add(res);
      res.on("close", () => this.sseClients.delete(res));
      return;
    }
    send(res, 404, { code: 404, message: `no route ${req.method} ${path}` });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sha(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

export { hex };
