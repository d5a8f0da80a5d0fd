// Typed database errors. Everything the store refuses or cannot read is thrown as a DbError whose `type.code` names
// the failure, so callers branch on the code (and e.g. drop one unreadable block instead of stopping the node) and
// never parse messages. Messages are written for the operator: what is wrong, both sides of a mismatch, what to do.

export type DbErrorType =
  /** The database was written by another schema version. */
  | { code: "SCHEMA_VERSION_MISMATCH"; path: string; found: number; expected: number }
  /** The database belongs to another network (config name or genesis validators root). */
  | { code: "NETWORK_MISMATCH"; path: string; field: "configName" | "genesisValidatorsRoot"; found: string; expected: string }
  /** The directory holds LevelDB data without Cairn's schema meta: not a Cairn database, or its meta was lost. */
  | { code: "NOT_A_CAIRN_DB"; path: string }
  /** A meta value has an unexpected length or content. */
  | { code: "CORRUPT_META"; key: string; reason: string }
  /** A stored value (block, state, index entry) is truncated, fails its checksum or does not decode. */
  | { code: "CORRUPT_VALUE"; bucket: string; key: string; reason: string }
  /** Another process (or another handle in this one) holds the database's LOCK. */
  | { code: "LOCKED"; path: string }
  /** LevelDB itself reported corruption on open. */
  | { code: "CORRUPT_DATABASE"; path: string; reason: string }
  | { code: "OPEN_FAILED"; path: string; reason: string }
  | { code: "CLOSED"; path: string }
  | { code: "BATCH_ALREADY_COMMITTED" }
  | { code: "INVALID_ARGUMENT"; reason: string };

export type DbErrorCode = DbErrorType["code"];

export class DbError extends Error {
  constructor(
    readonly type: DbErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DbError";
  }

  get code(): DbErrorCode {
    return this.type.code;
  }
}

/** True when `e` is a DbError, optionally with the given code. */
export function isDbError(e: unknown, code?: DbErrorCode): e is DbError {
  return e instanceof DbError && (code === undefined || e.type.code === code);
}

export function invalidArgument(reason: string): DbError {
  return new DbError({ code: "INVALID_ARGUMENT", reason }, `invalid database argument: ${reason}`);
}

export function corruptValue(bucket: string, key: string, reason: string, cause?: unknown): DbError {
  return new DbError(
    { code: "CORRUPT_VALUE", bucket, key, reason },
    `corrupt ${bucket} value at key ${key}: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

export function corruptMeta(key: string, reason: string): DbError {
  return new DbError(
    { code: "CORRUPT_META", key, reason },
    `database meta "${key}" is corrupt (${reason}): the database is damaged or was not written by Cairn; ` +
      `start with a fresh --datadir`,
  );
}
