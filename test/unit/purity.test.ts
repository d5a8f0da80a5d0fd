// The consensus core must stay pure: no I/O, no timers, nothing from the node layers. This test reads every import
// of the pure folders and fails when one reaches outside.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PURE_DIRS = ["src/params", "src/types", "src/state-transition", "src/config", "src/crypto", "src/fork-choice"];
const FORBIDDEN_PACKAGES = [/^node:(fs|net|http|https|child_process|worker_threads|timers|dgram|tls|os)/, /^(fs|net|http|child_process)$/, /libp2p/, /level/, /fastify/, /prom-client/];
const ALLOWED_LOCAL = /^\.\.?\//;
const NODE_LAYERS = ["src/cli", "src/chain", "src/db", "src/network", "src/sync", "src/api", "src/validator", "src/node"];

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

test("pure consensus folders import no I/O and no node layer", () => {
  const violations: string[] = [];
  let checked = 0;
  for (const dir of PURE_DIRS) {
    for (const file of walk(join(repo, dir))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        checked++;
        if (ALLOWED_LOCAL.test(spec)) {
          const target = resolve(dirname(file), spec).slice(repo.length + 1);
          if (NODE_LAYERS.some((l) => target.startsWith(l))) violations.push(`${file}: imports node layer ${spec}`);
        } else if (FORBIDDEN_PACKAGES.some((re) => re.test(spec))) {
          violations.push(`${file}: imports ${spec}`);
        }
      }
    }
  }
  assert.ok(checked > 50, `expected to check many imports, checked ${checked}`);
  assert.deepEqual(violations, []);
});

test("the import scanner sees forbidden imports", () => {
  const sample = `import { readFileSync } from "node:fs";\nimport x from "../chain/foo.js";\nexport * from "./a.js";`;
  assert.deepEqual(importsOf(sample), ["node:fs", "../chain/foo.js", "./a.js"]);
});
