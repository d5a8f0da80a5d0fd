// Several beacon nodes behind one client: requests go to the first healthy node in the configured order and fall
// back to the next when one fails; failed or unsynced nodes are re-probed periodically, and requests return to the
// first one as soon as it is healthy again.
import type { Phase0Types } from "../../types/index.js";
import type { Attestation, AttestationData, BeaconBlock, SignedAggregateAndProof, SignedBeaconBlock, SignedVoluntaryExit } from "../../types/index.js";
import { BeaconApiClient, type RequestOptions } from "./client.js";
import { BeaconApiError } from "./errors.js";
import type { ServerSentEvent } from "./sse.js";
import type {
  AttesterDuty,
  BeaconCommitteeSubscription,
  DutiesResponse,
  Genesis,
  Liveness,
  ProposerDuty,
  SyncingStatus,
  ValidatorResponse,
} from "./types.js";

export interface BeaconNodesOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** How often every node's `/node/syncing` is probed once start() has been called (default 12 s). */
  healthCheckIntervalMs?: number;
  /** A node that reports `is_syncing` further than this many slots behind is skipped (default 8). */
  maxSyncDistance?: number;
  /** Wait before reconnecting a failed or ended event stream (default 1 s). */
  eventsReconnectMs?: number;
  /** Called when a node turns healthy or unhealthy, with the reason (for logs and metrics). */
  onNodeStatus?: (url: string, healthy: boolean, reason: string) => void;
  fetch?: typeof fetch;
}

export interface BeaconNodeState {
  readonly url: string;
  readonly client: BeaconApiClient;
  healthy: boolean;
  /** Why it was last marked unhealthy. */
  lastError: string | undefined;
}

type Call<T> = (client: BeaconApiClient, opts: RequestOptions) => Promise<T>;

export class BeaconNodes {
  readonly nodes: readonly BeaconNodeState[];
  private readonly healthCheckIntervalMs: number;
  private readonly maxSyncDistance: number;
  private readonly eventsReconnectMs: number;
  private readonly onNodeStatus: BeaconNodesOptions["onNodeStatus"];
  /** Aborted by close(): in-flight requests, streams and sleeps end at once. */
  private readonly closeController = new AbortController();
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly streams = new Set<{ index: number; controller: AbortController }>();

  constructor(urls: readonly string[], types: Phase0Types, opts: BeaconNodesOptions = {}) {
    if (urls.length === 0) throw new Error("no beacon node URL given");
    const seen = new Set<string>();
    this.nodes = urls.map((url) => {
      const client = new BeaconApiClient(url, types, { timeoutMs: opts.timeoutMs, fetch: opts.fetch });
      if (seen.has(client.baseUrl)) throw new Error(`beacon node URL given twice: ${client.baseUrl}`);
      seen.add(client.baseUrl);
      return { url: client.baseUrl, client, healthy: true, lastError: undefined };
    });
    this.healthCheckIntervalMs = opts.healthCheckIntervalMs ?? 12_000;
    this.maxSyncDistance = opts.maxSyncDistance ?? 8;
    this.eventsReconnectMs = opts.eventsReconnectMs ?? 1_000;
    this.onNodeStatus = opts.onNodeStatus;
  }

  /** Starts the periodic health checks (the first one runs at once). */
  start(): void {
    if (this.healthTimer || this.closed) return;
    void this.checkHealth();
    this.healthTimer = setInterval(() => void this.checkHealth(), this.healthCheckIntervalMs);
    this.healthTimer.unref();
  }

  close(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    this.closeController.abort();
  }

  get closed(): boolean {
    return this.closeController.signal.aborted;
  }

  /** The node requests go to first: the first healthy one in the configured order (the first one if none is). */
  preferredIndex(): number {
    const i = this.nodes.findIndex((n) => n.healthy);
    return i < 0 ? 0 : i;
  }

  /** Probes every node's `/node/syncing` now; a node is healthy when it answers and is not far behind. */
  async checkHealth(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.checkNode(i)));
  }

  private async checkNode(index: number): Promise<void> {
    try {
      const s = await this.nodes[index].client.getSyncing({ signal: this.closeController.signal });
      if (s.isSyncing && s.syncDistance > this.maxSyncDistance) this.setHealth(index, false, `syncing, ${s.syncDistance} slots behind`);
      else this.setHealth(index, true, "synced");
    } catch (e) {
      if (this.closed) return;
      this.setHealth(index, false, e instanceof Error ? e.message : String(e));
    }
  }

  private setHealth(index: number, healthy: boolean, reason: string): void {
    const node = this.nodes[index];
    if (!healthy) node.lastError = reason;
    if (node.healthy === healthy) return;
    node.healthy = healthy;
    this.onNodeStatus?.(node.url, healthy, reason);
    // an event stream on a node that is no longer the preferred one moves to the preferred one; one on this node
    // is reopened, since a silent stream may sit on a connection that died with the node (streams have no timeout)
    const preferred = this.preferredIndex();
    for (const s of this.streams) if (s.index !== preferred || s.index === index) s.controller.abort();
  }

  /**
   * Runs `call` on the healthy nodes in order, then on the unhealthy ones as a last resort. A node failure
   * (no answer, timeout, 5xx, garbage) marks the node unhealthy and moves on. A 4xx answer is the request's
   * fault: a write (POST) is not retried elsewhere; a read is, since another node may know more.
   */
  private async run<T>(write: boolean, call: Call<T>): Promise<T> {
    const order = [...this.nodes.keys()].sort((a, b) => Number(this.nodes[b].healthy) - Number(this.nodes[a].healthy) || a - b);
    let requestError: BeaconApiError | undefined;
    let lastError: unknown;
    for (const i of order) {
      if (this.closed) break;
      try {
        return await call(this.nodes[i].client, { signal: this.closeController.signal });
      } catch (e) {
        lastError = e;
        if (!(e instanceof BeaconApiError) || e.kind === "aborted") throw e;
        if (e.isNodeFailure) {
          this.setHealth(i, false, e.message);
          continue;
        }
        if (write) throw e;
        requestError ??= e;
      }
    }
    if (this.closed) throw new BeaconApiError({ status: 0, message: "closed", url: this.nodes[0].url, kind: "aborted" });
    throw requestError ?? lastError;
  }

  getGenesis(): Promise<Genesis> {
    return this.run(false, (c, o) => c.getGenesis(o));
  }
  getSpec(): Promise<Record<string, string>> {
    return this.run(false, (c, o) => c.getSpec(o));
  }
  getSyncing(): Promise<SyncingStatus> {
    return this.run(false, (c, o) => c.getSyncing(o));
  }
  getHealth(): Promise<number> {
    return this.run(false, (c, o) => c.getHealth(o));
  }
  getStateValidators(stateId: string, ids: (Uint8Array | number)[]): Promise<ValidatorResponse[]> {
    return this.run(false, (c, o) => c.getStateValidators(stateId, ids, o));
  }
  publishBlock(block: SignedBeaconBlock): Promise<void> {
    return this.run(true, (c, o) => c.publishBlock(block, o));
  }
  submitPoolAttestations(attestations: Attestation[]): Promise<void> {
    return this.run(true, (c, o) => c.submitPoolAttestations(attestations, o));
  }
  submitPoolVoluntaryExit(exit: SignedVoluntaryExit): Promise<void> {
    return this.run(true, (c, o) => c.submitPoolVoluntaryExit(exit, o));
  }
  // a POST that reads, like the attester duties
  getLiveness(epoch: number, indices: number[]): Promise<Liveness[]> {
    return this.run(false, (c, o) => c.getLiveness(epoch, indices, o));
  }
  getProposerDuties(epoch: number): Promise<DutiesResponse<ProposerDuty>> {
    return this.run(false, (c, o) => c.getProposerDuties(epoch, o));
  }
  // a POST only by the API's choice (the body carries indices): it reads, so it may be retried elsewhere
  getAttesterDuties(epoch: number, indices: number[]): Promise<DutiesResponse<AttesterDuty>> {
    return this.run(false, (c, o) => c.getAttesterDuties(epoch, indices, o));
  }
  produceBlock(slot: number, randaoReveal: Uint8Array, graffiti: Uint8Array): Promise<BeaconBlock> {
    return this.run(false, (c, o) => c.produceBlock(slot, randaoReveal, graffiti, o));
  }
  produceAttestationData(committeeIndex: number, slot: number): Promise<AttestationData> {
    return this.run(false, (c, o) => c.produceAttestationData(committeeIndex, slot, o));
  }
  getAggregatedAttestation(attestationDataRoot: Uint8Array, slot: number): Promise<Attestation> {
    return this.run(false, (c, o) => c.getAggregatedAttestation(attestationDataRoot, slot, o));
  }
  publishAggregateAndProofs(aggregates: SignedAggregateAndProof[]): Promise<void> {
    return this.run(true, (c, o) => c.publishAggregateAndProofs(aggregates, o));
  }
  prepareBeaconCommitteeSubnet(subscriptions: BeaconCommitteeSubscription[]): Promise<void> {
    return this.run(true, (c, o) => c.prepareBeaconCommitteeSubnet(subscriptions, o));
  }

  /**
   * Follows `/eth/v1/events` on the preferred node, reconnecting when the stream ends or fails, and moving to
   * another node when the preferred one changes. Runs until close() or the returned function is called.
   * `onError` hears about each failed connection. A stream that stays silent, even without headers, is left
   * open: the node's health is judged by its answers to requests, and a failed stream only triggers that check.
   */
  subscribeEvents(topics: string[], onEvent: (e: ServerSentEvent) => void, onError?: (e: unknown) => void): () => void {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.closeController.signal]);
    void (async () => {
      while (!signal.aborted) {
        const index = this.preferredIndex();
        const stream = { index, controller: new AbortController() };
        this.streams.add(stream);
        let failed = false;
        try {
          // a listener's own failure must not count against the node
          const listener = (e: ServerSentEvent): void => {
            try {
              onEvent(e);
            } catch (err) {
              onError?.(err);
            }
          };
          await this.nodes[index].client.streamEvents(topics, listener, AbortSignal.any([signal, stream.controller.signal]));
        } catch (e) {
          failed = true;
          if (e instanceof BeaconApiError && e.isNodeFailure) void this.checkNode(index);
          onError?.(e);
        } finally {
          this.streams.delete(stream);
        }
        // switching to a better node happens at once; after a failure or an end, wait before reconnecting
        if (!failed && stream.controller.signal.aborted) continue;
        await sleep(this.eventsReconnectMs, signal);
      }
    })();
    return () => stop.abort();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
