// Errors raised by the ssz_snappy codec. Each names what was wrong with the input; the req/resp layer maps them to
// InvalidRequest (inbound) or INVALID_RESPONSE (outbound).
export type EncodingErrorCode =
  | "VARINT_TOO_LONG"
  | "VARINT_NON_MINIMAL"
  | "VARINT_OVERFLOW"
  | "LENGTH_OUT_OF_BOUNDS"
  | "MISSING_STREAM_IDENTIFIER"
  | "BAD_STREAM_IDENTIFIER"
  | "RESERVED_CHUNK"
  | "CHUNK_TOO_LARGE"
  | "UNCOMPRESSED_TOO_LARGE"
  | "BAD_SNAPPY"
  | "BAD_CRC"
  | "TOO_MANY_BYTES"
  | "TRUNCATED"
  | "TRAILING_DATA"
  | "BAD_SSZ";

export class EncodingError extends Error {
  constructor(
    readonly code: EncodingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EncodingError";
  }
}

export function isEncodingError(e: unknown, code?: EncodingErrorCode): e is EncodingError {
  return e instanceof EncodingError && (code === undefined || e.code === code);
}
