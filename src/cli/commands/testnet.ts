// cairn testnet: N beacon nodes and their validator clients as separate processes on 127.0.0.1, one status line
// per epoch for every node; exits non-zero when the nodes disagree on the finalized checkpoint or do not finalize.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testnet, type NodeView } from "../../testnet/testnet.js";
import { CliError, EXIT_OK, expectedFinalizedEpoch, loadBeaconConfig, type Command, type Io } from "../common.js";
import { optionsHelp, parseOptions, str, uint } from "../options.js";

const NAME = "testnet";

const OPTIONS = {
  nodes: uint("<N>", "beacon nodes (default {default})", { default: 4 }),
  validators: uint("<N>", "validators in the genesis state (default {default})", { default: 64 }),
  config: str("<C>", "{default} (default) or a config YAML file", { default: "minimal" }),
  "seconds-per-slot": uint("<S>", "override SECONDS_PER_SLOT (default {default})", { default: 2 }),
  "until-epoch": uint(
    "<N>",
    "stop at epoch N: exit 0 if every node finalized the same checkpoint at epoch N-2 or\nlater (for N of 4 or more), else exit 1 (default: run until Ctrl-C)",
  ),
  datadir: str("<DIR>", "where everything goes (default: a new temporary directory)"),
  "base-port": uint("<P>", "node i uses TCP P+i, UDP P+100+i, REST P+200+i, metrics P+300+i (default {default})", { default: 19000 }),
  "late-node-epoch": uint("<E>", "start one more node, without validators, at epoch E: it must sync from genesis"),
  "kill-node-epoch": uint("<E>", "SIGKILL node 1's beacon node at epoch E and restart it one epoch later"),
  // passed on to the nodes as it is: cairn beacon checks it
  "log-level": str("<L>", "the nodes' log level (default {default})", { default: "info" }),
};

const help = `Usage: cairn testnet [--nodes <N>] [--validators <N>] [--config <minimal|FILE.yaml>] [--seconds-per-slot <S>]
                     [--until-epoch <N>] [--datadir <DIR>] [--base-port <P>]
                     [--late-node-epoch <E>] [--kill-node-epoch <E>] [--log-level <L>]

Runs a local testnet: an interop genesis, N beacon nodes (cairn beacon) with N validator clients (cairn
validator, the validators split among them) as separate processes on 127.0.0.1, peered through static
peers and discv5. Prints one line per node at every epoch. Each node's logs are in <datadir>/node<i>/.

${optionsHelp(OPTIONS)}`;

function line(epoch: number, v: NodeView, sync: string): string {
  if (!v.up) return `epoch ${String(epoch).padStart(3)}  node ${v.index}  down\n`;
  return (
    `epoch ${String(epoch).padStart(3)}  node ${v.index}  head ${String(v.headSlot).padStart(5)}  justified ${String(v.justifiedEpoch).padStart(3)}  ` +
    `finalized ${String(v.finalizedEpoch).padStart(3)}  peers ${v.peers}${v.syncing ? "  syncing" : ""}${sync}\n`
  );
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v } = parseOptions(NAME, OPTIONS, args);
  const config = loadBeaconConfig(v.config, (m) => io.stderr(`warning: ${m}\n`));
  const nodes = v.nodes;
  if (nodes < 1 || nodes > 32) throw new CliError("--nodes: from 1 to 32");
  const validators = v.validators;
  if (validators < config.SLOTS_PER_EPOCH) throw new CliError(`--validators: at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH})`);
  const secondsPerSlot = v["seconds-per-slot"];
  if (secondsPerSlot < 1) throw new CliError("--seconds-per-slot: at least 1");
  const untilEpoch = v["until-epoch"] ?? null;
  const lateEpoch = v["late-node-epoch"] ?? null;
  const killEpoch = v["kill-node-epoch"] ?? null;
  if (killEpoch !== null && nodes < 2) throw new CliError("--kill-node-epoch needs at least 2 nodes");
  const basePort = v["base-port"];
  if (basePort < 1024 || basePort + 400 > 65535) throw new CliError("--base-port: from 1024 to 65135");
  const datadir = v.datadir ?? mkdtempSync(join(tmpdir(), "cairn-testnet-"));

  const net = new Testnet({ config, nodes, validators, datadir, secondsPerSlot, basePort, logLevel: v["log-level"] });
  await net.prepare();
  io.stdout(`cairn testnet: ${nodes} nodes, ${validators} validators, ${secondsPerSlot} s slots, genesis in ${net.genesisTime - Math.floor(Date.now() / 1000)} s, datadir ${datadir}\n`);
  for (let i = 0; i < nodes; i++) net.startNode(i);

  let stopping = false;
  const onSignal = () => {
    stopping = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const slotMs = secondsPerSlot * 1000;
  const epochStartMs = (e: number) => (net.genesisTime + e * config.SLOTS_PER_EPOCH * secondsPerSlot) * 1000;
  let result = EXIT_OK;
  let late: number | null = null;
  let lateStartMs = 0;
  let lateSynced = false;
  try {
    for (let epoch = 0; !stopping; epoch++) {
      // half a slot into the epoch's first slot: its block has arrived everywhere
      const at = epochStartMs(epoch) + slotMs / 2;
      while (!stopping && Date.now() < at) await new Promise((r) => setTimeout(r, Math.min(250, at - Date.now())));
      if (stopping) break;
      if (killEpoch !== null && epoch === killEpoch) {
        await net.stopBeacon(1, "SIGKILL");
        io.stdout(`epoch ${String(epoch).padStart(3)}  node 1  killed (SIGKILL)\n`);
      }
      if (killEpoch !== null && epoch === killEpoch + 1) {
        net.restartBeacon(1);
        io.stdout(`epoch ${String(epoch).padStart(3)}  node 1  restarted\n`);
      }
      if (lateEpoch !== null && epoch === lateEpoch) {
        late = await net.addLateNode();
        lateStartMs = Date.now();
        io.stdout(`epoch ${String(epoch).padStart(3)}  node ${late}  started late, syncing from genesis\n`);
      }
      const views = await net.views();
      const bestHead = Math.max(...views.map((x) => x.headSlot ?? 0));
      for (const view of views) {
        let sync = "";
        if (view.index === late && !lateSynced && view.headSlot !== null && view.headSlot >= bestHead - 1 && bestHead > 0) {
          lateSynced = true;
          const secs = (Date.now() - lateStartMs) / 1000;
          // epoch-granular: the node's own log has the sync rate ("syncing ... blocksPerSecond=")
          sync = `  caught up (seen at this check, ${secs.toFixed(1)} s after its start)`;
        }
        io.stdout(line(epoch, view, sync));
      }
      if (untilEpoch !== null && epoch >= untilEpoch) {
        const need = expectedFinalizedEpoch(untilEpoch);
        // the epoch's first block may still be on its way to some nodes (a busy machine): give them two slots to
        // agree before calling it a disagreement
        let finalViews = views;
        const agreed = (vs: typeof views) =>
          vs.every((x) => x.up) && new Set(vs.map((x) => `${x.finalizedEpoch}:${x.finalizedRoot}`)).size === 1 && Math.min(...vs.map((x) => x.finalizedEpoch ?? 0)) >= need;
        for (const deadline = Date.now() + 2 * slotMs; !agreed(finalViews) && Date.now() < deadline && !stopping; ) {
          await new Promise((r) => setTimeout(r, 250));
          finalViews = await net.views();
        }
        const up = finalViews.filter((x) => x.up);
        const roots = new Set(up.map((x) => `${x.finalizedEpoch}:${x.finalizedRoot}`));
        const minFinal = Math.min(...up.map((x) => x.finalizedEpoch ?? 0));
        if (up.length !== finalViews.length) {
          io.stderr(`cairn testnet: error: ${finalViews.length - up.length} node(s) not answering at epoch ${epoch}\n`);
          result = 1;
        } else if (roots.size !== 1) {
          io.stderr(`cairn testnet: error: nodes disagree on the finalized checkpoint: ${[...roots].join(" ")}\n`);
          result = 1;
        } else if (minFinal < need) {
          io.stderr(`cairn testnet: error: finalized epoch ${minFinal} at epoch ${epoch}, expected at least ${need}\n`);
          result = 1;
        } else if (late !== null && !lateSynced) {
          io.stderr(`cairn testnet: error: the late node did not catch up\n`);
          result = 1;
        } else {
          io.stdout(`done: every node finalized epoch ${minFinal} (${[...roots][0].split(":")[1]}) at epoch ${epoch}\n`);
        }
        break;
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await net.stopAll();
  }
  return result;
}

export const command: Command = { help, run };
