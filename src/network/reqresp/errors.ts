// Req/resp result codes and the one error type every req/resp failure is raised as.

/** The result byte of a response chunk (p2p-interface.md; ResourceUnavailable is from v1.1 and accepted). */
export const RespCode = {
  success: 0,
  invalidRequest: 1,
  serverError: 2,
  resourceUnavailable: 3,
} as const;

/** Lighthouse answers rate-limited requests with this code from the request-specific range [128, 255]. */
export const LIGHTHOUSE_RATE_LIMITED_CODE = 139;
/** The ServerError message Cairn answers rate-limited requests with (the requester maps it back to RATE_LIMITED). */
export const RATE_LIMITED_MESSAGE = "rate limited";

export type ReqRespFault =
  | "INVALID_REQUEST"
  | "INVALID_RESPONSE"
  | "TIMEOUT"
  | "RATE_LIMITED"
  | "SERVER_ERROR"
  | "RESOURCE_UNAVAILABLE"
  | "DIAL_FAILED"
  | "STREAM_ERROR";

export class ReqRespError extends Error {
  constructor(
    readonly fault: ReqRespFault,
    message: string,
    readonly peer?: string,
    /** the result code the remote answered with, when the error is its answer */
    readonly respCode?: number,
  ) {
    super(message);
    this.name = "ReqRespError";
  }

  withPeer(peer: string): ReqRespError {
    return this.peer === peer ? this : new ReqRespError(this.fault, this.message, peer, this.respCode);
  }
}

export function isReqRespError(e: unknown, fault?: ReqRespFault): e is ReqRespError {
  return e instanceof ReqRespError && (fault === undefined || e.fault === fault);
}

/** The fault a non-success result code stands for, as seen by the requester. */
export function faultOfRespCode(code: number, message: string): ReqRespFault {
  if (code === RespCode.invalidRequest) return "INVALID_REQUEST";
  if (code === RespCode.resourceUnavailable) return "RESOURCE_UNAVAILABLE";
  if (code === LIGHTHOUSE_RATE_LIMITED_CODE) return "RATE_LIMITED";
  if (code === RespCode.serverError) return message.startsWith(RATE_LIMITED_MESSAGE) ? "RATE_LIMITED" : "SERVER_ERROR";
  // [4, 127] is reserved: a peer using it does not speak the protocol
  if (code < 128) return "INVALID_RESPONSE";
  return "SERVER_ERROR";
}

/** The result code a responder answers a failed request with. */
export function respCodeOfFault(fault: ReqRespFault): number {
  switch (fault) {
    case "INVALID_REQUEST":
      return RespCode.invalidRequest;
    case "RESOURCE_UNAVAILABLE":
      return RespCode.resourceUnavailable;
    default:
      // RATE_LIMITED too: every v1.0 client understands ServerError, and the message says why
      return RespCode.serverError;
  }
}
