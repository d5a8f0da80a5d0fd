// cairn validator: the validator client. Loads the keystores, connects to one or more beacon nodes over the standard
// Beacon API and performs the validators' duties until SIGINT/SIGTERM.
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Registry } from "prom-client";
import { loadKeystores } from "../../validator/keystore/index.js";
import { createLogger } from "../../util/logger.js";
import { createValidatorMetrics } from "../../validator/metrics.js";
import { SlashingProtection } from "../../validator/slashingProtection/index.js";
import { parseTimeSources } from "../../validator/timeCheck.js";
import { Validator } from "../../validator/validator.js";
import { CliError, EXIT_OK, errorMessage, loadBeaconConfig, parseUintArg, type Command, type Io } from "../common.js";
import { custom, flag, logLevel, optionsHelp, parseOptions, str, uint } from "../options.js";
import { createProcessClock, hasClockOptions } from "../../sim/processClock.js";
import { SIM_CLOCK_OPTIONS, SIMULATION, simClockOptions } from "../simClock.js";

const NAME = "validator";

const OPTIONS = {
  "beacon-nodes": custom("<URLs>", "Beacon API base URLs, comma-separated, in order of preference", (v) => (v === undefined ? undefined : parseUrls(v))),
  datadir: str("<DIR>", "the validator client's directory (created if missing)"),
  keystores: str("<DIR>", 'EIP-2335 keystores (default <datadir>/keystores, as "cairn account import" writes)'),
  secrets: str("<DIR>", "one password file per keystore (default <datadir>/secrets)"),
  "password-file": str("<F>", "one password for every keystore (instead of --secrets)"),
  config: str("<C>", "the network's config (default {default}); must match the beacon node's", { default: "mainnet" }),
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
  "unsafe-time-follow-mean": flag("UNSAFE: move the clock to the MEAN of --time-sources (the roughtime\nbug of Medalla: one bad source moves every validator)", { group: SIMULATION }),
  ...SIM_CLOCK_OPTIONS,
  "log-level": logLevel("info", "; log lines go to stderr"),
  help: flag("", { short: "h", hidden: true }),
};

const help = `Usage: cairn validator --beacon-nodes <URL[,URL...]> --datadir <DIR>
                       [--keystores <DIR>] [--secrets <DIR> | --password-file <F>]
                       [--config <minimal|mainnet|FILE.yaml>] [--graffiti <TEXT>]
                       [--time-sources <HOST:PORT,...>] [--time-offset-warn-ms <N>]
                       [--unsafe-time-follow-mean] [--metrics-port <N>] [--log-level <error|warn|info|debug>]

The validator client. It speaks only the standard Beacon API, so it runs against any phase 0 beacon node:
it proposes blocks, attests (at one third of the slot, or at the head event if earlier) and aggregates when
selected, re-fetching duties on re-orgs and at each epoch. Requests go to the first beacon node that is healthy
and synced, in the order given, falling back to the next one; it returns to the first once it recovers.

Safety: nothing is signed for a slot more than one slot ahead of the clock, or for an epoch more than 2 epochs
from the beacon node's; every block and attestation is recorded in the slashing protection store
(<datadir>/slashing-protection) before it is signed.

${optionsHelp(OPTIONS)}
Stops cleanly on SIGINT or SIGTERM (exit status 0). Bad options or a beacon node on another network: one line
on stderr, exit status 2.
`;

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
  const { values, given } = parseOptions(NAME, OPTIONS, args);
  for (const k of ["beacon-nodes", "datadir"] as const) {
    if (!given(k)) throw new CliError(`missing --${k} (see cairn ${NAME} --help)`);
  }
  if (given("secrets") && given("password-file")) {
    throw new CliError("give either --secrets or --password-file, not both");
  }
  const urls = values["beacon-nodes"]!;
  const datadir = values.datadir!;
  const logLevel = values["log-level"];
  const graffiti = values.graffiti;
  const timeSources = values["time-sources"];
  const timeOffsetWarnMs = values["time-offset-warn-ms"];
  const metricsPort = values["metrics-port"];
  const config = loadBeaconConfig(values.config, (m) => io.stderr(`warning: ${m}\n`));
  const logger = createLogger({ level: logLevel, write: (line) => io.stderr(line) });

  const keystoresDir = values.keystores ?? join(datadir, "keystores");
  const passwordFile = values["password-file"];
  const secretsDir = passwordFile === undefined ? (values.secrets ?? join(datadir, "secrets")) : undefined;
  let keys;
  try {
    keys = await loadKeystores({ keystoresDir, secretsDir, passwordFile });
  } catch (e) {
    throw new CliError(`cannot load the keystores in ${keystoresDir}: ${errorMessage(e)}`, { cause: e });
  }
  if (keys.length === 0) throw new CliError(`no keystores in ${keystoresDir}`);
  if (values["unsafe-time-follow-mean"] && !timeSources) throw new CliError("--unsafe-time-follow-mean needs --time-sources");
  const clockOpts = simClockOptions(values, values["unsafe-time-follow-mean"] ? timeSources : undefined);
  const clock = hasClockOptions(clockOpts) ? createProcessClock({ ...clockOpts, logger }) : undefined;
  logger.info("keystores loaded", { count: keys.length, dir: keystoresDir });

  try {
    mkdirSync(datadir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create --datadir ${datadir}: ${errorMessage(e)}`, { cause: e });
  }

  const registry = new Registry();
  const metrics = createValidatorMetrics(registry);
  const stop = onStopSignal();
  let server: Server | undefined;
  let validator: Validator | undefined;
  try {
    if (metricsPort !== undefined) server = await serveMetrics(registry, metricsPort);
    try {
      validator = await Validator.create({
        config,
        beaconNodes: urls,
        secretKeys: keys.map((k) => k.secretKey),
        openSlashingProtection: (genesisValidatorsRoot) =>
          SlashingProtection.open(join(datadir, "slashing-protection"), { genesisValidatorsRoot }),
        graffiti,
        logger,
        metrics,
        timeSources,
        timeOffsetWarnMs,
        ...(clock ? { now: clock.now } : {}),
        signal: stop.signal,
      });
    } catch (e) {
      if (stop.signal.aborted) return EXIT_OK; // stopped while waiting for the beacon node
      throw new CliError(errorMessage(e), { cause: e });
    }
    validator.start();
    const sig = await stop.stopped;
    logger.info("stopping", { signal: sig });
    return EXIT_OK;
  } finally {
    stop.dispose();
    await validator?.close();
    clock?.close();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
  }
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
