// The import rules of src, read from every import statement:
//   - the consensus core stays pure: no I/O, no timers, nothing from the node layers (the pure folders, plus the
//     few src/util files they may use);
//   - layers import one way: cli -> {validator, api, chain, network, sync, node, testnet} -> {db, fork-choice,
//     state-transition} -> {types, config, params, crypto, util}; within a layer only the sibling imports listed
//     in SIBLINGS are allowed (a new one is a design decision: add it here, with the reason).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PURE_DIRS = ["src/params", "src/types", "src/state-transition", "src/config", "src/crypto", "src/fork-choice"];
/** The only src/util files pure code may import; they are held to the same rules. */
const PURE_UTIL_FILES = ["src/util/bytes.ts"];
const FORBIDDEN_PACKAGES = [/^node:(fs|net|http|https|child_process|worker_threads|timers|dgram|tls|os)/, /^(fs|net|http|child_process)$/, /libp2p/, /level/, /fastify/, /prom-client/];
const ALLOWED_LOCAL = /^\.\.?\//;
const NODE_LAYERS = ["src/cli", "src/eth1", "src/chain", "src/db", "src/network", "src/sync", "src/api", "src/validator", "src/node", "src/testnet", "src/sim"];

/** Folders of src by layer, top first: a folder may import any folder of a lower layer. */
const LAYERS = [["cli"], ["sim"], ["validator", "api", "chain", "network", "sync", "node", "testnet", "eth1"], ["db", "fork-choice", "state-transition"], ["types", "config", "params", "crypto", "util"]];
/** Imports within a layer, as path prefixes below src/ a folder may import. */
const SIBLINGS: Record<string, string[]> = {
  validator: ["api/client/"], // the REST client only: the validator client talks to beacon nodes over HTTP
  api: ["chain/", "network/interface.ts"], // the server reads the chain; network state only through its interface
  network: ["chain/", "sync/"], // gossip and req/resp feed the chain; network.ts runs range and parent sync
  sync: ["chain/"],
  node: ["api/server/", "chain/", "network/", "eth1/"], // the node wires the services together
  eth1: [], // the follower implements chain's Eth1ForBlockProduction by shape, importing nothing of the chain
  testnet: ["validator/keystore/"], // writes the testnet's keystores
  chain: [],
  "fork-choice": ["state-transition/"],
  "state-transition": [],
  db: [],
  types: ["params/", "crypto/", "util/bytes.ts"],
  config: ["params/", "types/", "util/bytes.ts"],
  params: ["util/bytes.ts"],
  crypto: [],
  util: [],
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function importsOf(source: string): string[] {
  const re = /(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;
  const out: string[] = [];
  for (const m of source.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The repo-relative .ts path a local import of `file` names. */
function targetOf(file: string, spec: string): string {
  return resolve(dirname(file), spec).slice(repo.length + 1).replace(/\.js$/, ".ts");
}

function pureViolation(target: string): string | null {
  if (NODE_LAYERS.some((l) => target.startsWith(`${l}/`))) return "imports node layer";
  if (target.startsWith("src/util/") && !PURE_UTIL_FILES.includes(target)) return "imports a util file that is not pure";
  return null;
}

/** Why `from` (a path below src/) may not import `to` (a path below src/), or null when it may. */
function layerViolation(from: string, to: string): string | null {
  const [fromDir, toDir] = [from.split("/")[0], to.split("/")[0]];
  if (fromDir === toDir) return null;
  const layerOf = (d: string) => LAYERS.findIndex((l) => l.includes(d));
  const [fl, tl] = [layerOf(fromDir), layerOf(toDir)];
  if (fl < 0 || tl < 0) return `src/${fl < 0 ? fromDir : toDir} is in no layer (add it to LAYERS)`;
  if (tl > fl) return null;
  if (tl < fl) return `${fromDir} imports ${toDir}, a layer above it`;
  if ((SIBLINGS[fromDir] ?? []).some((p) => to.startsWith(p))) return null;
  return `${fromDir} imports ${toDir}/, not an allowed sibling import`;
}

test("pure consensus folders import no I/O and no node layer", () => {
  const violations: string[] = [];
  let checked = 0;
  const files = [...PURE_DIRS.flatMap((dir) => walk(join(repo, dir))), ...PURE_UTIL_FILES.map((f) => join(repo, f))];
  for (const file of files) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      checked++;
      if (ALLOWED_LOCAL.test(spec)) {
        const why = pureViolation(targetOf(file, spec));
        if (why) violations.push(`${file}: ${why} ${spec}`);
      } else if (FORBIDDEN_PACKAGES.some((re) => re.test(spec))) {
        violations.push(`${file}: imports ${spec}`);
      }
    }
  }
  assert.ok(checked > 50, `expected to check many imports, checked ${checked}`);
  assert.deepEqual(violations, []);
});

test("src imports follow the layers: down, or to an allowed sibling", () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of walk(join(repo, "src"))) {
    const from = file.slice(repo.length + "/src/".length);
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!ALLOWED_LOCAL.test(spec)) continue;
      checked++;
      const why = layerViolation(from, targetOf(file, spec).slice("src/".length));
      if (why) violations.push(`src/${from}: ${spec}: ${why}`);
    }
  }
  assert.ok(checked > 300, `expected to check many imports, checked ${checked}`);
  assert.deepEqual(violations, []);
});

test("the layer rules refuse imports up, across to a sibling not listed, and into impure util", () => {
  assert.equal(layerViolation("network/network.ts", "api/server/index.ts"), "network imports api/, not an allowed sibling import");
  assert.equal(layerViolation("validator/validator.ts", "chain/chain.ts"), "validator imports chain/, not an allowed sibling import");
  assert.equal(layerViolation("chain/chain.ts", "sync/rangeSync.ts"), "chain imports sync/, not an allowed sibling import");
  assert.equal(layerViolation("state-transition/index.ts", "db/index.ts"), "state-transition imports db/, not an allowed sibling import");
  assert.equal(layerViolation("db/beaconDb.ts", "chain/chain.ts"), "db imports chain, a layer above it");
  assert.equal(layerViolation("util/logger.ts", "types/index.ts"), "util imports types/, not an allowed sibling import");
  assert.equal(layerViolation("sync/x.ts", "newdir/y.ts"), "src/newdir is in no layer (add it to LAYERS)");
  assert.equal(layerViolation("api/server/context.ts", "network/interface.ts"), null);
  assert.equal(layerViolation("cli/index.ts", "node/node.ts"), null);
  assert.equal(pureViolation("src/util/logger.ts"), "imports a util file that is not pure");
  assert.equal(pureViolation("src/util/bytes.ts"), null);
  assert.equal(pureViolation("src/testnet/testnet.ts"), "imports node layer");
});

test("the import scanner sees forbidden imports", () => {
  const sample = `import { readFileSync } from "node:fs";\nimport x from "../chain/foo.js";\nexport * from "./a.js";`;
  assert.deepEqual(importsOf(sample), ["node:fs", "../chain/foo.js", "./a.js"]);
});
