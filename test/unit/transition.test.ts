// The success path of `cairn transition`, on an interop genesis state with real signed blocks.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { getNamedConfig } from "../../src/config/index.js";
import {
  createCachedBeaconState,
  createInteropGenesisState,
  processSlots,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { toHex as hex } from "../../src/util/bytes.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = join(repo, "bin", "cairn.js");
const config = getNamedConfig("minimal");

function cairn(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
}

describe("cairn transition on an interop chain", () => {
  let dir: string;
  let genesis: CachedBeaconState;
  let prePath: string;
  const blockPaths: string[] = [];
  let expectedAfterBlocks: CachedBeaconState;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cairn-transition-"));
    genesis = createCachedBeaconState(config, createInteropGenesisState(config, 64, 1_600_000_000));
    prePath = join(dir, "pre.ssz");
    writeFileSync(prePath, genesis.state.serialize());
    // blocks at slots 1, 2 and 9 (crossing the epoch boundary at 8)
    let head = genesis;
    for (const slot of [1, 2, 9]) {
      const block = makeSignedEmptyBlock(head, slot);
      head = stateTransition(head, block);
      const p = join(dir, `block_${slot}.ssz`);
      writeFileSync(p, config.types.SignedBeaconBlock.serialize(block));
      blockPaths.push(p);
    }
    expectedAfterBlocks = head;
  });

  test("applies signed blocks and prints the post-state root", () => {
    const r = cairn("transition", "--config", "minimal", "--pre", prePath, "--blocks", ...blockPaths);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), hex(expectedAfterBlocks.state.hashTreeRoot()));
  });

  test("advances empty slots across an epoch and writes the post state with --out", () => {
    const out = join(dir, "post.ssz");
    const r = cairn("transition", "--config", "minimal", "--pre", prePath, "--slots", "17", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    const expected = genesis.clone();
    processSlots(expected, 17);
    const root = hex(expected.state.hashTreeRoot());
    assert.equal(r.stdout.trim(), root);
    assert.equal(hex(config.types.BeaconState.deserializeToViewDU(readFileSync(out)).hashTreeRoot()), root);
  });

  test("rejects a block with a bad signature unless told not to verify", () => {
    const block = config.types.SignedBeaconBlock.deserialize(readFileSync(blockPaths[0]));
    block.signature = new Uint8Array(96); // not a valid signature
    const bad = join(dir, "bad.ssz");
    writeFileSync(bad, config.types.SignedBeaconBlock.serialize(block));
    const r = cairn("transition", "--config", "minimal", "--pre", prePath, "--blocks", bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    const ok = cairn("transition", "--config", "minimal", "--pre", prePath, "--blocks", bad, "--no-verify-signatures");
    assert.equal(ok.status, 0, ok.stderr);
  });

  test("rejects a block whose state root is wrong", () => {
    const block = config.types.SignedBeaconBlock.deserialize(readFileSync(blockPaths[0]));
    block.message.stateRoot = new Uint8Array(32).fill(1);
    const bad = join(dir, "badroot.ssz");
    writeFileSync(bad, config.types.SignedBeaconBlock.serialize(block));
    const r = cairn("transition", "--config", "minimal", "--pre", prePath, "--blocks", bad, "--no-verify-signatures");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /state root/);
  });

  test("a transition leaves the pre-state untouched", () => {
    const before = hex(genesis.state.hashTreeRoot());
    stateTransition(genesis, makeSignedEmptyBlock(genesis, 3));
    assert.equal(hex(genesis.state.hashTreeRoot()), before);
  });
});
