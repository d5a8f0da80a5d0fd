import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MIN_SCORE,
  MIN_SCORE_BEFORE_BAN,
  MIN_SCORE_BEFORE_DISCONNECT,
  PEER_ACTION_SCORE,
  PeerScoreStore,
} from "../../src/network/peers/score.js";

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const HALF_LIFE = 600_000;

test("penalties add up to a disconnect, then decay by half per half-life", () => {
  const c = clock();
  const store = new PeerScoreStore({ now: c.now, halfLifeMs: HALF_LIFE });
  assert.equal(store.applyAction("p", "lowTolerance"), "healthy");
  const state = store.applyAction("p", "lowTolerance");
  const twoLow = 2 * PEER_ACTION_SCORE.lowTolerance;
  assert.equal(store.getScore("p"), twoLow);
  assert.equal(state, twoLow <= MIN_SCORE_BEFORE_DISCONNECT ? "disconnect" : "healthy");
  c.advance(HALF_LIFE);
  assert.ok(Math.abs(store.getScore("p") - twoLow / 2) < 1e-9);
  assert.equal(store.state("p"), twoLow / 2 <= MIN_SCORE_BEFORE_DISCONNECT ? "disconnect" : "healthy");
  // other peers are untouched
  assert.equal(store.getScore("q"), 0);
});

test("fatal goes straight to the minimum and calls for a ban; a ban expires after its duration", () => {
  const c = clock();
  const store = new PeerScoreStore({ now: c.now, banDurationMs: 1000 });
  assert.equal(store.applyAction("p", "fatal"), "ban");
  assert.equal(store.getScore("p"), MIN_SCORE);
  store.ban("p");
  assert.ok(store.isBanned("p"));
  assert.deepEqual(store.bannedPeers(), ["p"]);
  c.advance(999);
  assert.ok(store.isBanned("p"));
  c.advance(1);
  assert.ok(!store.isBanned("p"));
});

test("repeated mid-tolerance faults reach the ban threshold", () => {
  const store = new PeerScoreStore({ now: clock().now });
  let n = 0;
  while (store.state("p") !== "ban") {
    store.applyAction("p", "midTolerance");
    n++;
    assert.ok(n < 100, "never reached a ban");
  }
  assert.equal(n, Math.ceil(MIN_SCORE_BEFORE_BAN / PEER_ACTION_SCORE.midTolerance));
});

test("only a negative gossipsub score counts; the disconnect gossip score maps onto the disconnect threshold", () => {
  const store = new PeerScoreStore({ now: clock().now, gossipDisconnectScore: -1000 });
  store.applyAction("p", "highTolerance");
  assert.equal(store.setGossipScore("p", 500), "healthy");
  assert.equal(store.getScore("p"), PEER_ACTION_SCORE.highTolerance);
  assert.equal(store.setGossipScore("p", -1000), "disconnect");
  assert.equal(store.getScore("p"), PEER_ACTION_SCORE.highTolerance + MIN_SCORE_BEFORE_DISCONNECT);
  assert.equal(store.getOwnScore("p"), PEER_ACTION_SCORE.highTolerance);
  assert.equal(store.setGossipScore("p", -1e9), "ban");
  assert.equal(store.getScore("p"), MIN_SCORE);
  assert.throws(() => new PeerScoreStore({ gossipDisconnectScore: 5 }), /negative/);
});

test("pruning forgets healed and old entries but keeps bans and connected peers", () => {
  const c = clock();
  const store = new PeerScoreStore({ now: c.now, halfLifeMs: 1000, banDurationMs: 1e9, maxRemembered: 3 });
  store.applyAction("healed", "highTolerance");
  store.applyAction("banned", "fatal");
  store.ban("banned");
  store.applyAction("connected", "lowTolerance");
  c.advance(20_000); // 20 half-lives: every score is ~0
  store.applyAction("old", "lowTolerance");
  c.advance(1);
  store.applyAction("new", "lowTolerance");
  store.prune((p) => p === "connected");
  assert.ok(store.isBanned("banned"));
  assert.equal(store.getScore("healed"), 0);
  assert.ok(store.getOwnScore("connected") < 0, "a connected peer's entry is kept");
  // beyond the bound, the oldest unconnected, unbanned entry goes first
  assert.equal(store.getScore("old"), 0);
  assert.ok(store.getScore("new") < 0);
});
