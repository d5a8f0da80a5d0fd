// The Lodestar modules the differential fuzz target (test/fuzz/targets/differential.ts) uses, resolved from this
// folder's node_modules. Lodestar reads its preset once, when @lodestar/params first loads, so everything else is
// imported after setActivePreset: the minimal preset with the values Cairn's v0.12.3 minimal config has where
// today's preset changed them (version differences, not bugs). Returns the overrides so the target can list them.
export async function loadLodestar(cairnConfig) {
  const { setActivePreset } = await import("@lodestar/params/setPreset");
  const { minimalPreset } = await import("@lodestar/params/presets/minimal");
  const overrides = {};
  for (const [key, value] of Object.entries(minimalPreset)) {
    const ours = cairnConfig[key];
    if (typeof value === "number" && typeof ours === "number" && ours !== value) overrides[key] = ours;
  }
  setActivePreset("minimal", overrides);
  const { setHasher } = await import("@chainsafe/persistent-merkle-tree");
  const { hasher } = await import("@chainsafe/persistent-merkle-tree/hasher/hashtree");
  setHasher(hasher);
  const { minimalChainConfig } = await import("@lodestar/config/configs");
  const stateTransition = await import("@lodestar/state-transition");
  const { ssz } = await import("@lodestar/types");
  // the chain config likewise: Cairn's v0.12.3 values where the keys are shared, every later fork disabled
  const chainConfig = { ...minimalChainConfig };
  const configOverrides = {};
  for (const key of Object.keys(chainConfig)) {
    if (key.endsWith("_FORK_EPOCH")) chainConfig[key] = Infinity;
    const ours = cairnConfig[key];
    const theirs = chainConfig[key];
    if (typeof theirs === "number" && typeof ours === "number" && ours !== theirs) chainConfig[key] = configOverrides[key] = ours;
    if (theirs instanceof Uint8Array && ours instanceof Uint8Array && Buffer.compare(theirs, ours) !== 0) chainConfig[key] = configOverrides[key] = ours;
  }
  return { chainConfig, ssz, stateTransition, overrides: { ...overrides, ...configOverrides } };
}
