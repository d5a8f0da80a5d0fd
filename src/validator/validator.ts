// The validator client: follows the slot clock and the beacon node's head, and performs its validators' duties
// (block proposals, attestations, aggregates) through the standard Beacon API only, so it runs against any
// phase 0 beacon node. Create with Validator.create(), then start(); close() stops it and closes its stores.
import { BeaconApiError, BeaconNodes, parseHeadEvent, type BeaconNodesOptions, type Genesis, type HeadEvent } from "../api/client/index.js";
import type { BeaconConfig } from "../config/index.js";
import type { SecretKey } from "../crypto/bls.js";
import { SlotClock, sleep } from "../util/slotClock.js";
import { nullLogger, type Logger } from "../util/logger.js";
import type { ValidatorMetrics } from "./metrics.js";
import { AttestationService, type HeadWaiter } from "./services/attestation.js";
import { AttesterDutiesService } from "./services/attesterDuties.js";
import { BlockService } from "./services/block.js";
import { bytesEqual, toHex, type ValidatorContext } from "./services/context.js";
import { IndicesService } from "./services/indices.js";
import { ProposerDutiesService } from "./services/proposerDuties.js";
import { ValidatorSigner, type SlashingProtectionLike } from "./signer.js";
import { DoppelgangerError, DoppelgangerWatch, isLivenessUnsupported } from "./doppelganger.js";
import { compareSpec } from "./specCheck.js";
import { DutySummary } from "./summary.js";
import { TimeCheck, type TimeSource } from "./timeCheck.js";

export interface SlashingProtectionHandle extends SlashingProtectionLike {
  close(): Promise<void>;
}

export interface ValidatorOptions {
  config: BeaconConfig;
  /** Beacon API base URLs, in order of preference. */
  beaconNodes: readonly string[];
  beaconNodesOptions?: Omit<BeaconNodesOptions, "onNodeStatus">;
  secretKeys: (SecretKey | Uint8Array)[];
  /** Opens slashing protection for the chain (its genesis validators root); closed by Validator.close(). */
  openSlashingProtection: (genesisValidatorsRoot: Uint8Array) => Promise<SlashingProtectionHandle>;
  /** 32 bytes put in our blocks (zeros by default). */
  graffiti?: Uint8Array;
  /** The clock (ms since the Unix epoch); Date.now by default. */
  now?: () => number;
  /** Overrides the config's SECONDS_PER_SLOT for the clock (tests run short slots against a fake node). */
  secondsPerSlot?: number;
  logger?: Logger;
  metrics?: ValidatorMetrics;
  /** SNTP servers to compare our clock with; no time check without them. */
  timeSources?: TimeSource[];
  timeOffsetWarnMs?: number;
  timeCheckIntervalMs?: number;
  /** Never sign for an epoch further than this from the beacon node's (default 2). */
  maxEpochsFromHead?: number;
  /** While the beacon node is unreachable or before genesis, ask again after this long (default 5 s). */
  genesisRetryMs?: number;
  /**
   * Doppelganger protection (off without this): sign nothing until the keys have been watched for `epochs`
   * (default 2) through the liveness endpoint. A node without that endpoint: create() throws ("refuse") or the
   * client signs without the watch ("proceed").
   */
  doppelganger?: { epochs?: number; unsupported: "refuse" | "proceed" };
  /** Aborts create() while it waits for the beacon node. */
  signal?: AbortSignal;
}

export class Validator implements HeadWaiter {
  readonly clock: SlotClock;
  readonly signer: ValidatorSigner;
  private readonly ctx: ValidatorContext;
  private readonly controller = new AbortController();
  private readonly indices: IndicesService;
  private readonly proposerDuties: ProposerDutiesService;
  private readonly attesterDuties: AttesterDutiesService;
  private readonly blocks: BlockService;
  private readonly attestations: AttestationService;
  private readonly timeCheck: TimeCheck | undefined;
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly headWaiters = new Set<{ slot: number; resolve: () => void }>();
  private unsubscribeEvents: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private doppelganger: DoppelgangerWatch | undefined;
  private readonly summary: DutySummary;
  /** Our keys' balances at the last summary (Gwei), to show the change. */
  private lastBalances = new Map<number, number>();
  private resolveStopped: (e: DoppelgangerError) => void = () => {};
  /** Resolves when the client stops itself (a doppelganger was seen); it is then closed. */
  readonly stopped = new Promise<DoppelgangerError>((r) => (this.resolveStopped = r));

  /** The latest head event's slot, and the node's own current slot (head_slot + sync_distance) at its last poll. */
  private headSlot: number | null = null;
  private syncSlot: number | null = null;
  private dutiesEpoch = -1;
  private dutiesTask: Promise<boolean> = Promise.resolve(false);
  private dutiesOk = false;
  private summaryEpoch = -1;

  private constructor(
    private readonly opts: ValidatorOptions,
    readonly api: BeaconNodes,
    readonly genesis: Genesis,
    private readonly slashingProtection: SlashingProtectionHandle,
    private readonly watchDoppelgangers: boolean,
  ) {
    const config = opts.config;
    const logger = opts.logger ?? nullLogger;
    this.summary = new DutySummary(config.SLOTS_PER_EPOCH);
    this.clock = new SlotClock({
      genesisTime: genesis.genesisTime,
      secondsPerSlot: opts.secondsPerSlot ?? config.SECONDS_PER_SLOT,
      slotsPerEpoch: config.SLOTS_PER_EPOCH,
      now: opts.now,
    });
    this.signer = new ValidatorSigner({
      config,
      genesisValidatorsRoot: genesis.genesisValidatorsRoot,
      forkVersion: genesis.genesisForkVersion,
      secretKeys: opts.secretKeys,
      slashingProtection,
      clock: this.clock,
      beaconSlot: () => this.beaconSlot(),
      maxEpochsFromHead: opts.maxEpochsFromHead,
    });
    this.ctx = { config, api, clock: this.clock, signer: this.signer, logger, metrics: opts.metrics, summary: this.summary, signal: this.controller.signal };
    this.indices = new IndicesService(this.ctx, this.signer.pubkeys);
    this.proposerDuties = new ProposerDutiesService(this.ctx, this.indices);
    this.attesterDuties = new AttesterDutiesService(this.ctx, this.indices);
    this.blocks = new BlockService(this.ctx, this.proposerDuties, opts.graffiti ?? new Uint8Array(32));
    this.attestations = new AttestationService(this.ctx, this.attesterDuties, this);
    if (opts.timeSources && opts.timeSources.length > 0) {
      this.timeCheck = new TimeCheck({
        sources: opts.timeSources,
        warnThresholdMs: opts.timeOffsetWarnMs,
        intervalMs: opts.timeCheckIntervalMs,
        now: this.clock.now,
        logger,
        metrics: opts.metrics,
      });
    }
  }

  /**
   * Connects to the beacon nodes (waiting for one to answer and for genesis), checks that they run our network
   * (critical config keys, genesis fork version), and opens slashing protection. Throws a one-line error on a
   * mismatch. Does not start duties: call start().
   */
  static async create(opts: ValidatorOptions): Promise<Validator> {
    if (opts.graffiti && opts.graffiti.length !== 32) throw new Error(`graffiti must be 32 bytes, got ${opts.graffiti.length}`);
    const logger = opts.logger ?? nullLogger;
    const metrics = opts.metrics;
    const api = new BeaconNodes(opts.beaconNodes, opts.config.types, {
      ...opts.beaconNodesOptions,
      onNodeStatus: (url, healthy, reason) => {
        metrics?.beaconNodeHealthy.set({ url }, healthy ? 1 : 0);
        if (healthy) logger.info("beacon node healthy", { url });
        else logger.warn("beacon node unhealthy", { url, reason });
      },
    });
    for (const n of api.nodes) metrics?.beaconNodeHealthy.set({ url: n.url }, 1);
    try {
      const genesis = await waitForGenesis(api, logger, opts.genesisRetryMs ?? 5000, opts.signal);
      await checkNetwork(api, opts.config, genesis, logger);
      const watch = opts.doppelganger !== undefined && (await checkLiveness(api, opts, genesis, logger));
      const slashingProtection = await opts.openSlashingProtection(genesis.genesisValidatorsRoot);
      return new Validator(opts, api, genesis, slashingProtection, watch);
    } catch (e) {
      api.close();
      throw e;
    }
  }

  start(): void {
    if (this.loop || this.controller.signal.aborted) return;
    this.ctx.logger.info("validator client started", {
      keys: this.signer.pubkeys.length,
      genesisTime: this.genesis.genesisTime,
      beaconNodes: this.api.nodes.map((n) => n.url).join(","),
    });
    this.api.start();
    this.timeCheck?.start();
    // Not in the genesis epoch (or before genesis), as Lighthouse does: no other client can have signed anything
    // earlier, one starting at the same moment would pass a watch as well, and a new chain whose validators all
    // watched would make no blocks for the watch's epochs (a single-node chain's beacon node then calls itself
    // syncing and refuses duties: the chain never starts; Lodestar 1.5.1 did, in the interop test).
    const epoch = this.clock.currentEpoch();
    if (this.watchDoppelgangers && epoch <= 0) {
      this.ctx.logger.info("doppelganger protection: not needed in the genesis epoch, signing at once", { epoch });
    } else if (this.watchDoppelgangers) {
      this.signer.hold(true);
      this.doppelganger = new DoppelgangerWatch(this.ctx, this.indices, epoch, this.opts.doppelganger?.epochs);
    }
    this.unsubscribeEvents = this.api.subscribeEvents(
      ["head"],
      (e) => {
        if (e.event !== "head") return;
        let head: HeadEvent;
        try {
          head = parseHeadEvent(JSON.parse(e.data));
        } catch (err) {
          this.ctx.logger.debug("malformed head event", { error: err });
          return;
        }
        this.onHead(head);
      },
      (err) => this.ctx.logger.debug("event stream interrupted", { error: err }),
    );
    this.loop = this.runSlotLoop();
  }

  /** Stops duties, waits for those in flight to settle, closes the connections and slashing protection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.controller.abort();
      this.unsubscribeEvents?.();
      this.timeCheck?.close();
      this.api.close();
      for (const w of this.headWaiters) w.resolve();
      await this.loop;
      await Promise.allSettled([...this.tasks]);
      await this.slashingProtection.close();
    })();
    return this.closing;
  }

  /** The slot the beacon node is at, as far as we know: its latest head or its own clock, whichever is later. */
  beaconSlot(): number | null {
    if (this.headSlot === null) return this.syncSlot;
    if (this.syncSlot === null) return this.headSlot;
    return Math.max(this.headSlot, this.syncSlot);
  }

  waitForHead(slot: number, signal: AbortSignal): Promise<void> {
    if (this.headSlot !== null && this.headSlot >= slot) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        slot,
        resolve: () => {
          this.headWaiters.delete(waiter);
          signal.removeEventListener("abort", waiter.resolve);
          resolve();
        },
      };
      if (signal.aborted) return resolve();
      this.headWaiters.add(waiter);
      signal.addEventListener("abort", waiter.resolve, { once: true });
    });
  }

  private onHead(head: HeadEvent): void {
    this.headSlot = head.slot;
    for (const w of [...this.headWaiters]) if (w.slot <= head.slot) w.resolve();
    this.proposerDuties.onHead(head);
    this.attesterDuties.onHead(head);
  }

  private async runSlotLoop(): Promise<void> {
    const signal = this.controller.signal;
    let last: number | undefined;
    while (!signal.aborted) {
      const slot = this.clock.currentSlot();
      if (slot !== last) {
        if (last !== undefined && (slot < last || slot > last + 2)) {
          this.ctx.logger.warn("clock jumped", { fromSlot: last, toSlot: slot });
        }
        last = slot;
        this.track(this.onSlot(slot));
      }
      await this.clock.waitForSlotChange(slot, signal);
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((e) => this.ctx.logger.error("duty task failed", { error: e }));
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }

  private async onSlot(slot: number): Promise<void> {
    const epoch = this.clock.epochAtSlot(Math.max(0, slot));
    if (epoch !== this.dutiesEpoch || !this.dutiesOk) {
      this.dutiesEpoch = epoch;
      this.dutiesTask = this.runEpochTasks(epoch).then(
        () => (this.dutiesOk = true),
        (e) => {
          if (!this.controller.signal.aborted) this.ctx.logger.warn("cannot fetch duties; trying again next slot", { epoch, error: e });
          return (this.dutiesOk = false);
        },
      );
    }
    await Promise.all([this.dutiesTask, this.pollSyncing()]);
    if (slot < 0 || this.controller.signal.aborted) return; // before genesis: duties fetched ahead, nothing to sign
    if (this.doppelganger && !this.doppelganger.released && !(await this.checkDoppelgangers(slot))) return;
    await Promise.all([this.blocks.runSlot(slot), this.attestations.runSlot(slot), this.attesterDuties.prepareAggregation(slot + 1)]);
  }

  /** True once the watch has passed (the keys are released); a doppelganger stops the client. */
  private async checkDoppelgangers(slot: number): Promise<boolean> {
    try {
      if (!(await this.doppelganger!.check(slot))) return false;
      this.signer.hold(false);
      return true;
    } catch (e) {
      if (!(e instanceof DoppelgangerError)) throw e;
      if (this.controller.signal.aborted) return false; // another slot's check saw it first
      this.ctx.logger.error("doppelganger detected: stopping, nothing was signed", { error: e.message });
      for (const l of e.live) this.ctx.logger.error("key live elsewhere", { index: l.index, pubkey: l.pubkey, epoch: l.epoch });
      void this.close().then(() => this.resolveStopped(e));
      return false;
    }
  }

  private async runEpochTasks(epoch: number): Promise<void> {
    this.dutiesOk = false;
    if (epoch !== this.summaryEpoch) {
      // the epoch we started in is summed up at its end; nothing before it
      if (this.summaryEpoch >= 0) this.track(this.logEpochSummary(epoch - 1));
      this.summaryEpoch = epoch;
    }
    const found = this.indices.unknownCount > 0 ? await this.indices.refresh() : [];
    const force = found.length > 0;
    await Promise.all([this.proposerDuties.poll(epoch, force), this.attesterDuties.poll(epoch, force), this.attesterDuties.poll(epoch + 1, force)]);
    this.proposerDuties.prune(epoch);
    this.attesterDuties.prune(epoch);
    const minSlot = (epoch - 1) * this.opts.config.SLOTS_PER_EPOCH;
    this.blocks.prune(minSlot);
    this.attestations.prune(minSlot);
    if (this.indices.unknownCount > 0) this.ctx.logger.info("keys unknown to the beacon node", { count: this.indices.unknownCount });
  }

  /** One line for the epoch just ended: duties done and missed (with why), and our keys' balances. */
  private async logEpochSummary(epoch: number): Promise<void> {
    const t = this.summary.take(epoch);
    const held = this.doppelganger !== undefined && !this.doppelganger.released;
    const fields: Record<string, unknown> = {
      epoch,
      attestations: t.done.attestation,
      proposals: t.done.block,
      aggregates: t.done.aggregate,
      missed: t.missed.length,
    };
    if (held) fields["signing"] = "held by doppelganger protection";
    const indices = this.indices.indices;
    if (indices.length > 0) {
      try {
        const vs = await this.api.getStateValidators("head", indices);
        let total = 0;
        let change = 0;
        const losing: number[] = [];
        for (const v of vs) {
          total += v.balance;
          const before = this.lastBalances.get(v.index);
          if (before !== undefined) {
            change += v.balance - before;
            if (v.balance < before) losing.push(v.index);
          }
          this.lastBalances.set(v.index, v.balance);
        }
        fields["balanceEth"] = (total / 1e9).toFixed(4);
        fields["changeGwei"] = change;
        if (losing.length > 0) fields["losing"] = losing.slice(0, 10).join(",") + (losing.length > 10 ? ",..." : "");
      } catch (e) {
        this.ctx.logger.debug("balances unavailable", { error: e });
      }
    }
    this.ctx.logger.info("epoch summary", fields);
    for (const m of t.missed.slice(0, 5)) {
      this.ctx.logger.warn("missed duty", { epoch, kind: m.kind, slot: m.slot, validator: m.validator, outcome: m.outcome, reason: m.reason });
    }
    if (t.missed.length > 5) this.ctx.logger.warn("more missed duties", { epoch, count: t.missed.length - 5 });
  }

  private async pollSyncing(): Promise<void> {
    try {
      const s = await this.api.getSyncing();
      this.syncSlot = s.headSlot + s.syncDistance;
    } catch (e) {
      this.ctx.logger.debug("sync status unavailable", { error: e });
    }
  }
}

export async function waitForGenesis(api: BeaconNodes, logger: Logger, retryMs: number, signal: AbortSignal | undefined): Promise<Genesis> {
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new Error("aborted while waiting for the beacon node");
    try {
      return await api.getGenesis();
    } catch (e) {
      if (!(e instanceof BeaconApiError) || !(e.isNodeFailure || e.status === 404)) throw e;
      // log the first wait and then every minute or so, not every retry
      if (attempt % Math.max(1, Math.round(60_000 / retryMs)) === 0) {
        logger.warn(e.status === 404 ? "waiting for genesis" : "waiting for a beacon node", { error: e.message });
      }
    }
    await sleep(retryMs, signal);
  }
}

/** Whether the doppelganger watch can run: the node serves liveness (probed once). Throws for "refuse". */
async function checkLiveness(api: BeaconNodes, opts: ValidatorOptions, genesis: Genesis, logger: Logger): Promise<boolean> {
  const now = (opts.now ?? Date.now)() / 1000;
  const slot = Math.max(0, Math.floor((now - genesis.genesisTime) / (opts.secondsPerSlot ?? opts.config.SECONDS_PER_SLOT)));
  try {
    await api.getLiveness(Math.floor(slot / opts.config.SLOTS_PER_EPOCH), [0]);
    return true;
  } catch (e) {
    if (!isLivenessUnsupported(e)) return true; // a passing failure: the watch asks again each slot
    if (opts.doppelganger?.unsupported === "proceed") {
      logger.warn("the beacon node does not serve /eth/v1/validator/liveness: doppelganger protection is OFF", { error: (e as Error).message });
      return false;
    }
    throw new Error(
      "the beacon node does not serve /eth/v1/validator/liveness, which doppelganger protection needs " +
        "(--doppelganger-unsupported proceed to sign without it, or --doppelganger-protection false)",
    );
  }
}

export async function checkNetwork(api: BeaconNodes, config: BeaconConfig, genesis: Genesis, logger: Logger): Promise<void> {
  if (!bytesEqual(genesis.genesisForkVersion, config.GENESIS_FORK_VERSION)) {
    throw new Error(
      `the beacon node's genesis fork version ${toHex(genesis.genesisForkVersion)} differs from the config's ` +
        `${toHex(config.GENESIS_FORK_VERSION)}: it runs another network`,
    );
  }
  const spec = await api.getSpec();
  const { mismatches, missing } = compareSpec(config, spec);
  if (mismatches.length > 0) throw new Error(`the beacon node runs another network configuration: ${mismatches.join("; ")}`);
  if (missing.length > 0) logger.warn("the beacon node's config lacks keys; not compared", { keys: missing.join(",") });
}
