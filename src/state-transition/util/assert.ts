/** A block or operation that breaks a spec `assert`: the input is invalid, the node is fine. */
export class StateTransitionError extends Error {
  override name = "StateTransitionError";
}

/**
 * A spec-valid block that Cairn cannot follow: a value beyond what it holds exactly (src/types/primitive.ts). Still a
 * StateTransitionError (Cairn refuses the block and changes nothing), with its own type so that it is told apart.
 */
export class UnsupportedValueError extends StateTransitionError {
  override name = "UnsupportedValueError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new StateTransitionError(message);
}
