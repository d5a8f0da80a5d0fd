// Errors of the Beacon API client. One class, so callers can tell a node's failure from a request's fault.

/**
 * Why a request failed:
 * - "http": the node answered with a non-2xx status (its `{code, message}` body is kept when it sent one);
 * - "network": no answer at all (connection refused or reset, DNS);
 * - "timeout": no answer within the per-request timeout;
 * - "invalid-response": a 2xx answer that is not the JSON the API defines.
 */
export type BeaconApiErrorKind = "http" | "network" | "timeout" | "invalid-response" | "aborted";

export class BeaconApiError extends Error {
  /** HTTP status, 0 when there was no response. */
  readonly status: number;
  /** The `code` of the node's error body, else the HTTP status (0 without a response). */
  readonly code: number;
  readonly url: string;
  readonly kind: BeaconApiErrorKind;
  /** The node's own message (or ours when it sent none), without the URL and status that `message` adds. */
  readonly reason: string;

  constructor(opts: { status: number; code?: number; message: string; url: string; kind: BeaconApiErrorKind; cause?: unknown }) {
    super(`${opts.url}: ${opts.status > 0 ? `${opts.status} ` : ""}${opts.message}`, { cause: opts.cause });
    this.name = "BeaconApiError";
    this.status = opts.status;
    this.code = opts.code ?? opts.status;
    this.url = opts.url;
    this.kind = opts.kind;
    this.reason = opts.message;
  }

  /** True when the node, not the request, is at fault: another node may well succeed. */
  get isNodeFailure(): boolean {
    return this.kind === "network" || this.kind === "timeout" || this.kind === "invalid-response" || this.status >= 500;
  }
}
