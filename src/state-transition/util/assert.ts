/** A block or operation that breaks a spec `assert`: the input is invalid, the node is fine. */
export class StateTransitionError extends Error {
  override name = "StateTransitionError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new StateTransitionError(message);
}
