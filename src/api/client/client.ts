// A typed client for one beacon node's standard Beacon API: one method per endpoint a phase 0 validator client uses.
// BeaconNodes (beaconNodes.ts) puts several of these behind fallbacks.
import type { Phase0Types } from "../../types/index.js";
import type { Attestation, AttestationData, BeaconBlock, SignedAggregateAndProof, SignedBeaconBlock, SignedVoluntaryExit } from "../../types/index.js";
import { BeaconApiError } from "./errors.js";
import { asObject, bytesToHex, fromJsonStrict, hexToBytes, uintToJson } from "./json.js";
import { readEventStream, type ServerSentEvent } from "./sse.js";
import {
  parseAttesterDuties,
  parseGenesis,
  parseLiveness,
  parseProposerDuties,
  parseSyncing,
  parseValidators,
  subscriptionToJson,
  type AttesterDuty,
  type BeaconCommitteeSubscription,
  type DutiesResponse,
  type Genesis,
  type Liveness,
  type ProposerDuty,
  type SyncingStatus,
  type ValidatorResponse,
} from "./types.js";

export interface BeaconApiClientOptions {
  /**
   * Per-request timeout (default 10 s). Not for the event stream: a quiet stream is not a failure, and some nodes
   * (Lodestar) send its headers only with the first event.
   */
  timeoutMs?: number;
  /** For tests: a fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Aborts the request (the client's close, for instance), on top of the per-request timeout. */
  signal?: AbortSignal;
}

/** How many `id` query parameters go in one validators request, to keep URLs well under common limits. */
const VALIDATOR_IDS_PER_REQUEST = 64;

export class BeaconApiClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  /**
   * Which liveness route the node answered: the standard POST /eth/v1/validator/liveness/{epoch}, or the older
   * GET /eth/v1/validator/liveness?epoch&indices; null until one of them has.
   */
  private livenessRoute: "standard" | "legacy" | null = null;

  constructor(
    baseUrl: string,
    private readonly types: Phase0Types,
    opts: BeaconApiClientOptions = {},
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new Error(`invalid beacon node URL ${JSON.stringify(baseUrl)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`invalid beacon node URL ${JSON.stringify(baseUrl)}: expected http:// or https://`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  // --- node and beacon namespaces ---

  async getGenesis(opts?: RequestOptions): Promise<Genesis> {
    return this.parse("/eth/v1/beacon/genesis", await this.request("GET", "/eth/v1/beacon/genesis", undefined, opts), parseGenesis);
  }

  /** Every config value the node runs with, as the API serves them (decimal strings, 0x-hex). */
  async getSpec(opts?: RequestOptions): Promise<Record<string, string>> {
    const path = "/eth/v1/config/spec";
    return this.parse(path, await this.request("GET", path, undefined, opts), (data) => {
      const o = asObject(data, "data");
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(o)) if (typeof v === "string") out[k] = v;
      return out;
    });
  }

  async getSyncing(opts?: RequestOptions): Promise<SyncingStatus> {
    const path = "/eth/v1/node/syncing";
    return this.parse(path, await this.request("GET", path, undefined, opts), parseSyncing);
  }

  /** The HTTP status of `/eth/v1/node/health`: 200 ready, 206 syncing; 503 (thrown) not initialized. */
  async getHealth(opts?: RequestOptions): Promise<number> {
    const res = await this.send("GET", "/eth/v1/node/health", undefined, opts);
    await res.arrayBuffer().catch(() => undefined); // release the connection
    return res.status;
  }

  /** Validators of a state by public key or index; ids the state does not know are simply absent. */
  async getStateValidators(stateId: string, ids: (Uint8Array | number)[], opts?: RequestOptions): Promise<ValidatorResponse[]> {
    const out: ValidatorResponse[] = [];
    for (let i = 0; i < ids.length; i += VALIDATOR_IDS_PER_REQUEST) {
      const query = new URLSearchParams();
      for (const id of ids.slice(i, i + VALIDATOR_IDS_PER_REQUEST)) query.append("id", typeof id === "number" ? String(id) : bytesToHex(id));
      const path = `/eth/v1/beacon/states/${encodeURIComponent(stateId)}/validators?${query.toString()}`;
      out.push(...this.parse(path, await this.request("GET", path, undefined, opts), parseValidators));
    }
    return out;
  }

  async publishBlock(block: SignedBeaconBlock, opts?: RequestOptions): Promise<void> {
    await this.request("POST", "/eth/v1/beacon/blocks", this.types.SignedBeaconBlock.toJson(block), opts);
  }

  async submitPoolAttestations(attestations: Attestation[], opts?: RequestOptions): Promise<void> {
    const body = attestations.map((a) => this.types.Attestation.toJson(a));
    await this.request("POST", "/eth/v1/beacon/pool/attestations", body, opts);
  }

  async submitPoolVoluntaryExit(exit: SignedVoluntaryExit, opts?: RequestOptions): Promise<void> {
    await this.request("POST", "/eth/v1/beacon/pool/voluntary_exits", this.types.SignedVoluntaryExit.toJson(exit), opts);
  }

  // --- validator namespace ---

  /** Whether each validator was seen doing its duties in `epoch` (the node's view: gossip, API and blocks). */
  async getLiveness(epoch: number, indices: number[], opts?: RequestOptions): Promise<Liveness[]> {
    if (this.livenessRoute !== "legacy") {
      const path = `/eth/v1/validator/liveness/${uintToJson(epoch)}`;
      try {
        const out = this.parse(path, await this.request("POST", path, indices.map((i) => uintToJson(i)), opts), parseLiveness);
        this.livenessRoute = "standard";
        return out;
      } catch (e) {
        // a node that predates the standard route may serve the older one (Lodestar up to 1.x of 2023, 1.5.1 among them)
        if (this.livenessRoute === "standard" || !(e instanceof BeaconApiError && (e.status === 404 || e.status === 405))) throw e;
      }
    }
    const path = `/eth/v1/validator/liveness?epoch=${uintToJson(epoch)}${indices.map((i) => `&indices=${uintToJson(i)}`).join("")}`;
    const out = this.parse(path, await this.request("GET", path, undefined, opts), parseLiveness);
    this.livenessRoute = "legacy";
    return out;
  }

  async getProposerDuties(epoch: number, opts?: RequestOptions): Promise<DutiesResponse<ProposerDuty>> {
    const path = `/eth/v1/validator/duties/proposer/${uintToJson(epoch)}`;
    return this.parseDuties(path, await this.request("GET", path, undefined, opts), parseProposerDuties);
  }

  async getAttesterDuties(epoch: number, indices: number[], opts?: RequestOptions): Promise<DutiesResponse<AttesterDuty>> {
    const path = `/eth/v1/validator/duties/attester/${uintToJson(epoch)}`;
    const body = indices.map((i) => uintToJson(i));
    return this.parseDuties(path, await this.request("POST", path, body, opts), parseAttesterDuties);
  }

  /** An unsigned block for `slot` from the node; `graffiti` is 32 bytes. */
  async produceBlock(slot: number, randaoReveal: Uint8Array, graffiti: Uint8Array, opts?: RequestOptions): Promise<BeaconBlock> {
    const query = new URLSearchParams({ randao_reveal: bytesToHex(randaoReveal), graffiti: bytesToHex(graffiti) });
    const path = `/eth/v1/validator/blocks/${uintToJson(slot)}?${query.toString()}`;
    return this.parse(path, await this.request("GET", path, undefined, opts), (d) => fromJsonStrict(this.types.BeaconBlock, d, "data"));
  }

  async produceAttestationData(committeeIndex: number, slot: number, opts?: RequestOptions): Promise<AttestationData> {
    const query = new URLSearchParams({ slot: uintToJson(slot), committee_index: uintToJson(committeeIndex) });
    const path = `/eth/v1/validator/attestation_data?${query.toString()}`;
    return this.parse(path, await this.request("GET", path, undefined, opts), (d) => fromJsonStrict(this.types.AttestationData, d, "data"));
  }

  async getAggregatedAttestation(attestationDataRoot: Uint8Array, slot: number, opts?: RequestOptions): Promise<Attestation> {
    const query = new URLSearchParams({ attestation_data_root: bytesToHex(attestationDataRoot), slot: uintToJson(slot) });
    const path = `/eth/v1/validator/aggregate_attestation?${query.toString()}`;
    return this.parse(path, await this.request("GET", path, undefined, opts), (d) => fromJsonStrict(this.types.Attestation, d, "data"));
  }

  async publishAggregateAndProofs(aggregates: SignedAggregateAndProof[], opts?: RequestOptions): Promise<void> {
    const body = aggregates.map((a) => this.types.SignedAggregateAndProof.toJson(a));
    await this.request("POST", "/eth/v1/validator/aggregate_and_proofs", body, opts);
  }

  async prepareBeaconCommitteeSubnet(subscriptions: BeaconCommitteeSubscription[], opts?: RequestOptions): Promise<void> {
    await this.request("POST", "/eth/v1/validator/beacon_committee_subscriptions", subscriptions.map(subscriptionToJson), opts);
  }

  // --- events ---

  /**
   * Opens `/eth/v1/events?topics=...` and calls `onEvent` for each event until the server ends the stream
   * (resolves) or it fails (rejects with a BeaconApiError). Aborting `signal` ends it (resolves). No timeout, not
   * even for the headers: whether the node is alive is for its answers to requests to say.
   */
  async streamEvents(topics: string[], onEvent: (e: ServerSentEvent) => void, signal?: AbortSignal): Promise<void> {
    const path = `/eth/v1/events?${new URLSearchParams({ topics: topics.join(",") }).toString()}`;
    const url = this.baseUrl + path;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      let res: Response;
      try {
        res = await this.fetchFn(url, { method: "GET", headers: { Accept: "text/event-stream" }, signal: controller.signal });
      } catch (e) {
        if (signal?.aborted) return;
        throw this.fetchError(url, e, controller.signal);
      }
      if (!res.ok) throw await this.httpError(url, res);
      if (!res.body) throw new BeaconApiError({ status: res.status, message: "event stream without a body", url, kind: "invalid-response" });
      try {
        await readEventStream(res.body, onEvent);
      } catch (e) {
        if (signal?.aborted) return;
        throw new BeaconApiError({ status: 0, message: `event stream failed: ${errorText(e)}`, url, kind: "network", cause: e });
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  // --- plumbing ---

  /** Sends a request; resolves to the response when its status is 2xx, throws a BeaconApiError otherwise. */
  private async send(method: "GET" | "POST", path: string, body: unknown, opts?: RequestOptions): Promise<Response> {
    const url = this.baseUrl + path;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts?.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (e) {
      throw this.fetchError(url, e, signal, opts?.signal);
    }
    if (res.status < 200 || res.status >= 300) throw await this.httpError(url, res);
    return res;
  }

  /** The parsed JSON body of a 2xx answer (undefined when it is empty: POSTs answer 200 with no body). */
  private async request(method: "GET" | "POST", path: string, body: unknown, opts?: RequestOptions): Promise<unknown> {
    const res = await this.send(method, path, body, opts);
    const url = this.baseUrl + path;
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new BeaconApiError({ status: res.status, message: `response cut short: ${errorText(e)}`, url, kind: "network", cause: e });
    }
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (method === "POST") return undefined; // some nodes answer a POST with plain text; the status is what counts
      throw new BeaconApiError({ status: res.status, message: "response is not JSON", url, kind: "invalid-response" });
    }
  }

  private parse<T>(path: string, json: unknown, parseData: (data: unknown) => T): T {
    try {
      return parseData(asObject(json, "response")["data"]);
    } catch (e) {
      throw this.shapeError(path, e);
    }
  }

  private parseDuties<T>(path: string, json: unknown, parseData: (data: unknown) => T[]): DutiesResponse<T> {
    try {
      const o = asObject(json, "response");
      return { dependentRoot: hexToBytes(o["dependent_root"], "dependent_root", 32), data: parseData(o["data"]) };
    } catch (e) {
      throw this.shapeError(path, e);
    }
  }

  private shapeError(path: string, e: unknown): BeaconApiError {
    const why = e instanceof Error ? e.message : String(e);
    return new BeaconApiError({ status: 200, message: `unexpected response: ${why}`, url: this.baseUrl + path, kind: "invalid-response", cause: e });
  }

  private fetchError(url: string, e: unknown, signal: AbortSignal, external?: AbortSignal): BeaconApiError {
    if (external?.aborted) return new BeaconApiError({ status: 0, message: "request aborted", url, kind: "aborted", cause: e });
    if (signal.aborted) return new BeaconApiError({ status: 0, message: `no response within ${this.timeoutMs} ms`, url, kind: "timeout", cause: e });
    return new BeaconApiError({ status: 0, message: errorText(e), url, kind: "network", cause: e });
  }

  private async httpError(url: string, res: Response): Promise<BeaconApiError> {
    let code: number | undefined;
    let message = res.statusText || "request failed";
    try {
      const body = JSON.parse(await res.text()) as { code?: unknown; message?: unknown };
      if (typeof body.code === "number") code = body.code;
      if (typeof body.message === "string" && body.message !== "") message = body.message;
    } catch {
      // not the API's error body: the status line says enough
    }
    return new BeaconApiError({ status: res.status, code, message, url, kind: "http" });
  }
}

/** A network error's most specific message: undici's "fetch failed" hides the system error in `cause`. */
function errorText(e: unknown): string {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur instanceof Error && cur.cause instanceof Error; depth++) cur = cur.cause;
  return cur instanceof Error ? cur.message : String(cur);
}
