// cairn validator: the validator client. Loads the keystores, connects to one or more beacon nodes over the standard
// Beacon API and performs the validators' duties until SIGINT/SIGTERM.
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Registry } from "prom-client";
import { defaultPoolSize, loadKeystores } from "../../validator/keystore/index.js";
import { DbError } from "../../db/errors.js";
import { createLogger, type Logger } from "../../util/logger.js";
import { createValidatorMetrics } from "../../validator/metrics.js";
import { SlashingProtection } from "../../validator/slashingProtection/index.js";
import { parseTimeSources } from "../../validator/timeCheck.js";
import { Validator } from "../../validator/validator.js";
import { exitHelp, runExit } from "./validatorExit.js";
import type { BeaconConfig } from "../../config/index.js";
import { BUNDLED_NETWORKS, isBundledNetwork } from "../../config/networks.js";
import { loadNetwork as loadBundledNetwork } from "../../network/networks.js";
import { CliError, defaultDatadir, EXIT_DOPPELGANGER, EXIT_OK, errorMessage, loadBeaconConfig, parseUintArg, type Command, type Io } from "../common.js";
import { custom, flag, logLevel, optionsHelp, parseOptions, str, uint } from "../options.js";
import { createProcessClock, hasClockOptions } from "../../sim/processClock.js";
import { SIM_CLOCK_OPTIONS, SIMULATION, simClockOptions } from "../simClock.js";

const NAME = "validator";

const OPTIONS = {
  "beacon-nodes": custom("<URLs>", "Beacon API base URLs, comma-separated, in order of preference", (v) => (v === undefined ? undefined : parseUrls(v))),
  datadir: str("<DIR>", "the validator client's directory (created if missing; default\n$XDG_DATA_HOME/cairn/<network>/validator)"),
  keystores: str("<DIR>", 'EIP-2335 keystores (default <datadir>/keystores, as "cairn account import" writes)'),
  secrets: str("<DIR>", "one password file per keystore (default <datadir>/secrets)"),
  "password-file": str("<F>", "one password for every keystore (instead of --secrets)"),
  network: str("<name>", "the network, as cairn beacon names it (mainnet, pyrmont, medalla, ..., minimal)"),
  config: str("<C>", "or the network's config: minimal, mainnet or FILE.yaml (default mainnet); must match the beacon node's"),
  graffiti: custom("<TEXT>", "up to 32 bytes of UTF-8 put in proposed blocks", (v) => (v === undefined ? undefined : parseGraffiti(v))),
  "time-sources": custom("<LIST>", "SNTP servers (host:port) to compare the clock with; warns, never adjusts it", (v) => {
    try {
      return v === undefined ? undefined : parseTimeSources(v);
    } catch (e) {
      throw new CliError(`--time-sources: ${errorMessage(e)}`);
    }
  }),
  // no default here: the time check has its own (500 ms)
  "time-offset-warn-ms": uint("<N>", "warn when the clock is off by more than N ms (default 500)"),
  "metrics-port": custom("<N>", "serve Prometheus metrics on 127.0.0.1:N/metrics", (v, flag) => {
    if (v === undefined) return undefined;
    const p = parseUintArg(flag, v);
    if (p < 1 || p > 65535) throw new CliError(`${flag}: ${p} is not a port`);
    return p;
  }),
  "doppelganger-protection": custom("<true|false>", "watch the keys for 2 epochs before signing (default true)", (v, flag) => parseBool(v, flag, true)),
  "doppelganger-unsupported": custom("<refuse|proceed>", "a node without the liveness endpoint: refuse it (default) or sign unwatched", (v, flag) => {
    if (v === undefined || v === "refuse" || v === "proceed") return v ?? "refuse";
    throw new CliError(`${flag}: expected refuse or proceed, got ${JSON.stringify(v)}`);
  }),
  "unsafe-time-follow-mean": flag("UNSAFE: move the clock to the MEAN of --time-sources (the roughtime\nbug of Medalla: one bad source moves every validator)", { group: SIMULATION }),
  ...SIM_CLOCK_OPTIONS,
  "log-level": logLevel("info", "; log lines go to stderr"),
  help: flag("", { short: "h", hidden: true }),
};

const help = `Usage: cairn validator --beacon-nodes <URL[,URL...]> [--datadir <DIR>] [--network <NAME>]
                       [--keystores <DIR>] [--secrets <DIR> | --password-file <F>]
                       [--network <NAME> | --config <minimal|mainnet|FILE.yaml>] [--graffiti <TEXT>]
                       [--time-sources <HOST:PORT,...>] [--time-offset-warn-ms <N>]
                       [--unsafe-time-follow-mean] [--metrics-port <N>] [--log-level <error|warn|info|debug>]
                       [--doppelganger-protection <true|false>] [--doppelganger-unsupported <refuse|proceed>]

The validator client. It speaks only the standard Beacon API, so it runs against any phase 0 beacon node:
it proposes blocks, attests (at one third of the slot, or at the head event if earlier) and aggregates when
selected, re-fetching duties on re-orgs and at each epoch. Requests go to the first beacon node that is healthy
and synced, in the order given, falling back to the next one; it returns to the first once it recovers.

Safety: nothing is signed for a slot more than one slot ahead of the clock, or for an epoch more than 2 epochs
from the beacon node's; every block and attestation is recorded in the slashing protection store
(<datadir>/slashing-protection) before it is signed. Doppelganger protection (on by default) signs nothing until
the keys have been watched for 2 epochs through the beacon node's liveness endpoint; if another client is seen
using one of them, it logs the key and exits with status 3, having signed nothing.

${optionsHelp(OPTIONS)}
Stops cleanly on SIGINT or SIGTERM (exit status 0). Bad options or a beacon node on another network: one line
on stderr, exit status 2. A doppelganger: exit status 3.

${exitHelp}`;

function parseBool(v: string | undefined, flag: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === "true" || v === "false") return v === "true";
  throw new CliError(`${flag}: expected true or false, got ${JSON.stringify(v)}`);
}

function parseGraffiti(text: string): Uint8Array {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > 32) throw new CliError(`--graffiti: ${bytes.length} bytes of UTF-8, at most 32 fit in a block`);
  const out = new Uint8Array(32);
  out.set(bytes);
  return out;
}

function parseUrls(text: string): string[] {
  const urls = text
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (urls.length === 0) throw new CliError("--beacon-nodes: no URL given");
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new CliError(`--beacon-nodes: invalid URL ${JSON.stringify(u)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`--beacon-nodes: ${JSON.stringify(u)} is not an http(s) URL`);
  }
  return urls;
}

/** Resolves when the process receives SIGINT or SIGTERM; the handlers are removed by the returned cleanup. */
function onStopSignal(): { stopped: Promise<string>; signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let resolveStop: (s: string) => void = () => {};
  const stopped = new Promise<string>((r) => (resolveStop = r));
  const handler = (sig: NodeJS.Signals): void => {
    controller.abort();
    resolveStop(sig);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    stopped,
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

async function run(args: string[], io: Io): Promise<number> {
  if (args[0] === "exit") return runExit(args.slice(1), io);
  const { values, given } = parseOptions(NAME, OPTIONS, args);
  if (!given("beacon-nodes")) throw new CliError(`missing --beacon-nodes (see cairn ${NAME} --help)`);
  if (given("network") && given("config")) throw new CliError("give --network or --config, not both");
  if (given("secrets") && given("password-file")) {
    throw new CliError("give either --secrets or --password-file, not both");
  }
  const urls = values["beacon-nodes"]!;
  const config = validatorConfig(values.network, values.config, (m) => io.stderr(`warning: ${m}\n`));
  const datadir = values.datadir ?? defaultDatadir(values.network ?? config.CONFIG_NAME, "validator");
  const logLevel = values["log-level"];
  const graffiti = values.graffiti;
  const timeSources = values["time-sources"];
  const timeOffsetWarnMs = values["time-offset-warn-ms"];
  const metricsPort = values["metrics-port"];
  const doppelganger = values["doppelganger-protection"];
  const unsupported = values["doppelganger-unsupported"];
  const logger = createLogger({ level: logLevel, write: (line) => io.stderr(line) });
  if (!doppelganger) logger.warn("doppelganger protection is off: if another client runs these keys, both will be slashed");

  const keystoresDir = values.keystores ?? join(datadir, "keystores");
  const passwordFile = values["password-file"];
  const secretsDir = passwordFile === undefined ? (values.secrets ?? join(datadir, "secrets")) : undefined;
  // nothing is created for a datadir without keys (a mistyped path)
  if (!existsSync(keystoresDir)) throw new CliError(`cannot load the keystores in ${keystoresDir}: no such directory`);
  if (values["unsafe-time-follow-mean"] && !timeSources) throw new CliError("--unsafe-time-follow-mean needs --time-sources");
  const clockOpts = simClockOptions(values, values["unsafe-time-follow-mean"] ? timeSources : undefined);
  try {
    mkdirSync(datadir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create --datadir ${datadir}: ${errorMessage(e)}`, { cause: e });
  }
  // the slashing protection store's lock is the datadir's: taken before the (slow) decryption, so a second
  // client on this datadir is refused at once; the chain it is for is checked once the beacon node says
  let store: SlashingProtection;
  try {
    store = await SlashingProtection.open(join(datadir, "slashing-protection"));
  } catch (e) {
    if (e instanceof DbError && e.code === "LOCKED") {
      throw new CliError(`--datadir ${datadir} is in use by another validator client (its slashing protection store is locked)`, { cause: e });
    }
    throw new CliError(errorMessage(e), { cause: e });
  }
  let validator: Validator | undefined;
  try {
    let keys;
    logger.info("decrypting keystores", { dir: keystoresDir, threads: defaultPoolSize() });
    try {
      keys = await loadKeystores({ keystoresDir, secretsDir, passwordFile, onProgress: decryptionProgress(logger) });
    } catch (e) {
      throw new CliError(`cannot load the keystores in ${keystoresDir}: ${errorMessage(e)}`, { cause: e });
    }
    if (keys.length === 0) throw new CliError(`no keystores in ${keystoresDir}`);
    logger.info("keystores loaded", { count: keys.length, dir: keystoresDir });
    // simulation only: a clock offset or the mean of the time sources (cairn sim)
    const clock = hasClockOptions(clockOpts) ? createProcessClock({ ...clockOpts, logger }) : undefined;
    const registry = new Registry();
    const metrics = createValidatorMetrics(registry);
    const stop = onStopSignal();
    let server: Server | undefined;
    try {
      if (metricsPort !== undefined) server = await serveMetrics(registry, metricsPort);
      try {
        validator = await Validator.create({
          config,
          beaconNodes: urls,
          secretKeys: keys.map((k) => k.secretKey),
          openSlashingProtection: async (genesisValidatorsRoot) => {
            await store.bindGenesisValidatorsRoot(genesisValidatorsRoot);
            return store;
          },
          graffiti,
          logger,
          metrics,
          timeSources,
          timeOffsetWarnMs,
          doppelganger: doppelganger ? { unsupported } : undefined,
          ...(clock ? { now: clock.now } : {}),
          signal: stop.signal,
        });
      } catch (e) {
        if (stop.signal.aborted) return EXIT_OK; // stopped while waiting for the beacon node
        throw new CliError(errorMessage(e), { cause: e });
      }
      validator.start();
      const why = await Promise.race([stop.stopped, validator.stopped]);
      if (typeof why !== "string") return EXIT_DOPPELGANGER; // logged by the validator, with the keys
      logger.info("stopping", { signal: why });
      return EXIT_OK;
    } finally {
      stop.dispose();
      await validator?.close();
      clock?.close();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
    }
  } finally {
    await store.close(); // closed by the validator already when it ran; this covers every failure before
  }
}

/** A log line at each tenth of the decryption (scrypt keystores take about a second each per core). */
function decryptionProgress(logger: Logger): (done: number, total: number) => void {
  let lastTenth = -1;
  return (done, total) => {
    const tenth = Math.floor((done * 10) / total);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    logger.info("decrypting keystores", { done, total });
  };
}

async function serveMetrics(registry: Registry, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new CliError(`--metrics-port ${port}: ${errorMessage(e)}`)));
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}

export const command: Command = { help, run };

/** The config of `--network NAME` (a bundled network or minimal) or of `--config` (default mainnet). */
function validatorConfig(network: string | undefined, configArg: string | undefined, warn: (m: string) => void): BeaconConfig {
  if (network === undefined || network === "minimal" || network === "mainnet") return loadBeaconConfig(network ?? configArg ?? "mainnet", warn);
  if (!isBundledNetwork(network)) throw new CliError(`--network: expected minimal, ${BUNDLED_NETWORKS.join(", ")}; got ${JSON.stringify(network)}`);
  try {
    return loadBundledNetwork(network, { warn, info: () => undefined }).config;
  } catch (e) {
    throw new CliError((e as Error).message, { cause: e });
  }
}
