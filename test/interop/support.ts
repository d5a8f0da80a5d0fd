// What the interop scenarios share: Lodestar 1.5.1 installed in test/interop/lodestar on first use, free loopback
// ports, one interop genesis, child processes logging to files and always killed, and the few Beacon API reads
// that tell whether a chain finalized.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { loadBeaconConfig } from "../../src/cli/common.js";
import { createInteropGenesisState } from "../../src/state-transition/genesis/interop.js";

// compiled to dist/test/interop/
export const repoRoot = new URL("../../../", import.meta.url).pathname;
export const cairnBin = join(repoRoot, "bin/cairn.js");
export const LODESTAR_DIR = join(repoRoot, "test/interop/lodestar");
const lodestarCli = join(LODESTAR_DIR, "node_modules/@chainsafe/lodestar/lib/index.js");
/** The native modules npm 11 leaves unbuilt until approved (README of the pinned install). */
const NATIVE = ["@chainsafe/blst", "snappy", "classic-level", "bigint-buffer", "secp256k1", "keccak", "bcrypto", "gc-stats"];

/** Installs the pinned Lodestar (package.json + lockfile in LODESTAR_DIR) once, with npm's own progress output. */
export function ensureLodestar(log: (line: string) => void): void {
  if (existsSync(lodestarCli)) return;
  log(`installing Lodestar 1.5.1 into ${LODESTAR_DIR} (once, a few minutes: native modules are compiled) ...`);
  const npm = (args: string[]) => {
    log(`$ npm ${args.join(" ")}`);
    const r = spawnSync("npm", args, { cwd: LODESTAR_DIR, stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) throw new Error(`npm ${args[0]} failed in ${LODESTAR_DIR} (exit ${r.status})`);
  };
  npm(["ci", "--no-audit", "--no-fund"]);
  // package.json approves the native install scripts (allowScripts); rebuilding them also covers an npm that skipped them
  npm(["rebuild", ...NATIVE]);
  if (!existsSync(lodestarCli)) throw new Error(`Lodestar's CLI is missing after the install: ${lodestarCli}`);
}

async function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}
async function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => resolve(false));
    s.bind(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

let nextPort = 39000 + Math.floor(Math.random() * 400) * 5;
/** A port free for both TCP and UDP on loopback, from a private range, never the same twice in one run. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 500; tries++) {
    const p = nextPort++;
    if (p > 41999) nextPort = 39000;
    if ((await tcpFree(p)) && (await udpFree(p))) return p;
  }
  throw new Error("no free port in 39000..41999");
}

/** The shared config with short slots, and the interop genesis of `validators` keys starting at `genesisTime`. */
export function writeNetwork(dir: string, secondsPerSlot: number, validators: number, genesisTime: number): { configPath: string; genesisPath: string } {
  const text = readFileSync(join(repoRoot, "test/interop/config.yaml"), "utf8").replace(/^SECONDS_PER_SLOT: \d+$/m, `SECONDS_PER_SLOT: ${secondsPerSlot}`);
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, text);
  const config = loadBeaconConfig(configPath, () => {});
  const genesisPath = join(dir, "genesis.ssz");
  writeFileSync(genesisPath, createInteropGenesisState(config, validators, genesisTime).serialize());
  return { configPath, genesisPath };
}

export interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

/** Starts `node script args` with stdout and stderr into `<logDir>/<name>.log`. */
export function startProc(logDir: string, name: string, script: string, args: string[], env: Record<string, string> = {}): Proc {
  const logPath = join(logDir, `${name}.log`);
  const fd = openSync(logPath, "a");
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Lodestar's CLI reads LODESTAR_* variables as flags; only the preset may pass
  for (const k of Object.keys(childEnv)) if (k.startsWith("LODESTAR_") && k !== "LODESTAR_PRESET") delete childEnv[k];
  // cwd: the log dir, so that Lodestar does not take the repository's git commit for its own version
  const child = spawn(process.execPath, [script, ...args], { cwd: logDir, env: childEnv, stdio: ["ignore", fd, fd] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { name, child, logPath, exited };
}

export function startLodestar(logDir: string, name: string, args: string[]): Proc {
  return startProc(logDir, name, lodestarCli, args, { LODESTAR_PRESET: "minimal" });
}

export function startCairn(logDir: string, name: string, args: string[]): Proc {
  return startProc(logDir, name, cairnBin, args);
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 5000);
  await p.exited;
  clearTimeout(timer);
}

export async function getJson<T>(url: string, timeoutMs = 3000): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    if (!res.ok) return null;
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

export interface ChainView {
  headSlot: number;
  headRoot: string;
  finalizedEpoch: number;
  finalizedRoot: string;
}

/** Head and finality as a beacon node's REST API reports them; null while it does not answer. */
export async function chainView(restUrl: string): Promise<ChainView | null> {
  const head = await getJson<{ data: { root: string; header: { message: { slot: string } } } }>(`${restUrl}/eth/v1/beacon/headers/head`);
  const fin = await getJson<{ data: { finalized: { epoch: string; root: string } } }>(`${restUrl}/eth/v1/beacon/states/head/finality_checkpoints`);
  if (!head || !fin) return null;
  return {
    headSlot: Number(head.data.header.message.slot),
    headRoot: head.data.root,
    finalizedEpoch: Number(fin.data.finalized.epoch),
    finalizedRoot: fin.data.finalized.root,
  };
}

async function metricsText(metricsUrl: string): Promise<string | null> {
  try {
    return await (await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  } catch {
    return null;
  }
}

/** `topic count ...` of one metric's non-zero samples whose labels include `match` (e.g. result="accept"). */
function byTopic(text: string, metric: string, match = ""): string {
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    const topic = /topic="([^"]+)"/.exec(m[1])?.[1];
    if (topic && m[1].includes(match) && Number(m[2]) > 0) out.push(`${topic} ${m[2]}`);
  }
  return out.join(" ") || "none";
}

/**
 * What a node's metrics say about its libp2p side: gossip messages accepted by topic, and any rejected (a message
 * from the other client that fails validation is an interop bug); for Cairn also the blocks range sync imported.
 */
export async function networkEvidence(client: "cairn" | "lodestar", metricsUrl: string): Promise<string> {
  const text = await metricsText(metricsUrl);
  if (text === null) return `${client} metrics not answering`;
  if (client === "lodestar") {
    return `lodestar gossip accepted ${byTopic(text, "lodestar_gossip_validation_accept_total")}, rejected ${byTopic(text, "lodestar_gossip_validation_reject_total")}`;
  }
  const ranged = /^cairn_sync_blocks_imported (\d+)/m.exec(text)?.[1] ?? "?";
  return `cairn range sync imported ${ranged} blocks, gossip accepted ${byTopic(text, "cairn_gossip_messages", 'result="accept"')}, rejected ${byTopic(text, "cairn_gossip_messages", 'result="reject"')}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The last lines of a log, for a failure's evidence. */
export function logTail(p: Proc, lines = 5): string {
  try {
    return readFileSync(p.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
