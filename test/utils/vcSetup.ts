// Helpers for validator client tests: start a Validator on interop keys against fake beacon nodes, with a real
// slashing protection store in a temporary directory, and wait for conditions.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before } from "node:test";
import type { BeaconConfig } from "../../src/config/index.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { createLogger, nullLogger, type Logger } from "../../src/util/logger.js";
import type { ValidatorMetrics } from "../../src/validator/metrics.js";
import { SlashingProtection } from "../../src/validator/slashingProtection/index.js";
import { Validator, type ValidatorOptions } from "../../src/validator/validator.js";
import { until } from "./poll.js";
import { FakeBeaconNode } from "./fakeBeaconNode.js";

export interface VcOptions {
  config: BeaconConfig;
  urls: string[];
  /** Interop key indices this validator client holds. */
  keys: number[];
  secondsPerSlot: number;
  /** Directory for the slashing protection store. */
  dir: string;
  now?: () => number;
  graffiti?: Uint8Array;
  metrics?: ValidatorMetrics;
  extra?: Partial<ValidatorOptions>;
}

/** Logs to stderr with CAIRN_TEST_LOG=debug|info|warn, else nothing. */
export function testLogger(): Logger {
  const level = process.env["CAIRN_TEST_LOG"];
  return level === "debug" || level === "info" || level === "warn" || level === "error" ? createLogger({ level }) : nullLogger;
}

export async function startValidatorClient(o: VcOptions): Promise<Validator> {
  const validator = await Validator.create({
    config: o.config,
    beaconNodes: o.urls,
    beaconNodesOptions: { timeoutMs: 2000, healthCheckIntervalMs: 200, eventsReconnectMs: 100 },
    secretKeys: o.keys.map((i) => interopSecretKeyBytes(i)),
    openSlashingProtection: (genesisValidatorsRoot) => SlashingProtection.open(join(o.dir, "slashing-protection"), { genesisValidatorsRoot }),
    graffiti: o.graffiti,
    now: o.now,
    secondsPerSlot: o.secondsPerSlot,
    logger: testLogger(),
    metrics: o.metrics,
    genesisRetryMs: 100,
    ...o.extra,
  });
  validator.start();
  return validator;
}

/** Polls `cond` until it holds; rejects with `what` after `timeoutMs`. */
export function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return until(what, cond, timeoutMs);
}

export interface VcSetupOptions {
  secondsPerSlot: number;
  validatorCount: number;
  keys: number[];
  headEventFraction?: number | null;
  committeeLength?: number;
  hiddenValidators?: number[];
  graffiti?: Uint8Array;
  metrics?: ValidatorMetrics;
}

/**
 * Per-file test bed: a temporary directory (removed after the file), cleanups run after each test, and `setup` for
 * a fake beacon node (genesis 1000 s ago) with a validator client on it. Call at the top level of a test file.
 */
export function vcTestBed(config: BeaconConfig) {
  let dir = "";
  let n = 0;
  const cleanups: (() => Promise<void>)[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cairn-vc-test-"));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const nextDir = (): string => join(dir, `vc${n++}`);
  async function setup(opts: VcSetupOptions): Promise<{ node: FakeBeaconNode; vc: Validator }> {
    const node = await FakeBeaconNode.start({
      config,
      validatorCount: opts.validatorCount,
      genesisTime: Math.floor(Date.now() / 1000) - 1000,
      secondsPerSlot: opts.secondsPerSlot,
      headEventFraction: opts.headEventFraction,
      committeeLength: opts.committeeLength,
      hiddenValidators: opts.hiddenValidators,
    });
    cleanups.push(() => node.close());
    const vc = await startValidatorClient({
      config,
      urls: [node.url],
      keys: opts.keys,
      secondsPerSlot: opts.secondsPerSlot,
      dir: nextDir(),
      graffiti: opts.graffiti,
      metrics: opts.metrics,
    });
    cleanups.push(() => vc.close());
    return { node, vc };
  }
  return { setup, cleanups, nextDir };
}
