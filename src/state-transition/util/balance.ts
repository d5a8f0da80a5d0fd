import type { BeaconStateView } from "../../types/index.js";

// increase_balance
export function increaseBalance(state: BeaconStateView, index: number, delta: number): void {
  state.balances.set(index, state.balances.get(index) + delta);
}

// decrease_balance
export function decreaseBalance(state: BeaconStateView, index: number, delta: number): void {
  const b = state.balances.get(index);
  state.balances.set(index, delta > b ? 0 : b - delta);
}
