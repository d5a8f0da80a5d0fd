// The one logger: its line format, level filter, and the module tag a child adds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, nullLogger } from "../../src/util/logger.js";

function capture(level: "error" | "warn" | "info" | "debug" = "info") {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(l), now: () => Date.UTC(2020, 11, 1, 12) });
  return { logger, lines };
}

test("a line is time, level, message and key=value context; below the level nothing is written", () => {
  const { logger, lines } = capture("info");
  logger.info("imported", { slot: 7, root: Uint8Array.of(0xab, 0x01), note: "two words", skipped: undefined });
  logger.debug("not shown");
  assert.deepEqual(lines, ['2020-12-01T12:00:00.000Z info  imported slot=7 root=0xab01 note="two words"\n']);
});

test("a child tags its lines with module=<name> before the context; the parent's lines stay untagged", () => {
  const { logger, lines } = capture("debug");
  const network = logger.child("network");
  network.warn("peer fault", { peer: "16Uiu2" });
  network.child("sync").debug("batch failed");
  logger.error("plain");
  assert.deepEqual(lines, [
    "2020-12-01T12:00:00.000Z warn  peer fault module=network peer=16Uiu2\n",
    "2020-12-01T12:00:00.000Z debug batch failed module=sync\n",
    "2020-12-01T12:00:00.000Z error plain\n",
  ]);
});

test("a child keeps its parent's level", () => {
  const { logger, lines } = capture("warn");
  logger.child("api").info("hidden");
  logger.child("api").error("shown");
  assert.equal(lines.length, 1);
  assert.match(lines[0], / error shown module=api\n$/);
});

test("the null logger's child is silent too", () => {
  assert.equal(nullLogger.child("x"), nullLogger);
});
