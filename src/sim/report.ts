// The run's report: report.json (invariants, slashable pairs, per-node series) and one self-contained report.html
// (inline SVG drawn here, no script, no network) with the invariant results on top and, per quantity, one plot over
// time with a line per node and the faults drawn as shaded intervals.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Sample, SimReport } from "./engine.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const FAULT_COLORS: Record<string, string> = {
  partition: "#f4a582",
  isolate: "#fddbc7",
  degrade: "#fcbba1",
  kill: "#d1e5f0",
  restart_all: "#92c5de",
  offline: "#e0e0e0",
  clock: "#fee08b",
  time_source: "#fdae61",
  reset_protection: "#c2a5cf",
};

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

interface PlotSpec {
  title: string;
  unit: string;
  value: (x: Sample, spe: number) => number | null;
}

const PLOTS: PlotSpec[] = [
  { title: "head", unit: "epoch", value: (x, spe) => (x.head === null ? null : x.head / spe) },
  { title: "justified", unit: "epoch", value: (x) => x.justified },
  { title: "finalized", unit: "epoch", value: (x) => x.finalized },
  { title: "participation (previous epoch target)", unit: "share", value: (x) => x.participation },
  { title: "peers", unit: "count", value: (x) => x.peers },
  { title: "RSS peak (VmHWM)", unit: "MB", value: (x) => x.rssMb },
];

function plot(r: SimReport, p: PlotSpec): string {
  const W = 900;
  const H = 200;
  const L = 50;
  const R = 10;
  const T = 24;
  const B = 26;
  const spe = r.slotsPerEpoch;
  const maxSlot = r.epochs * spe;
  let maxY = 0;
  for (const rows of r.series) for (const x of rows) maxY = Math.max(maxY, p.value(x, spe) ?? 0);
  if (maxY === 0) maxY = 1;
  const sx = (slot: number) => L + (slot / maxSlot) * (W - L - R);
  const sy = (v: number) => T + (1 - v / maxY) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(p.title)}">`);
  parts.push(`<text x="${L}" y="15" font-size="13" font-weight="bold">${esc(p.title)} (${p.unit})</text>`);
  for (const f of r.faults) {
    const x0 = sx(f.fromSlot);
    const x1 = sx(Math.min(f.toSlot ?? maxSlot, maxSlot));
    parts.push(`<rect class="fault" x="${x0}" y="${T}" width="${Math.max(2, x1 - x0)}" height="${H - T - B}" fill="${FAULT_COLORS[f.kind] ?? "#eee"}" opacity="0.6"><title>${esc(f.label)}</title></rect>`);
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`);
  for (let e = 0; e <= r.epochs; e += Math.max(1, Math.ceil(r.epochs / 12))) {
    parts.push(`<text x="${sx(e * spe)}" y="${H - 8}" font-size="10" text-anchor="middle">${e}</text>`);
  }
  for (const v of [0, maxY / 2, maxY]) parts.push(`<text x="${L - 4}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${Number(v.toFixed(2))}</text>`);
  r.series.forEach((rows, i) => {
    let d = "";
    let pen = false;
    for (const x of rows) {
      const v = p.value(x, spe);
      if (v === null || !x.up) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${sx(x.slot).toFixed(1)},${sy(v).toFixed(1)}`;
      pen = true;
    }
    if (d !== "") parts.push(`<path class="series" d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"><title>node ${i}</title></path>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

export function renderHtml(r: SimReport): string {
  const met = r.invariants.filter((x) => x.ok).length;
  const failed = r.invariants.length - met;
  const when = (slot: number) => `slot ${slot} (epoch ${(slot / r.slotsPerEpoch).toFixed(2)})`;
  const rows = r.invariants
    .map((x) => `<tr class="${x.ok ? "ok" : "fail"}"><td>${x.ok ? "PASS" : "FAIL"}</td><td>${esc(x.name)}</td><td>${esc(x.detail)}</td><td>${when(x.atSlot)}</td></tr>`)
    .join("");
  const legend = r.nodes
    .map((nd) => `<span style="color:${COLORS[nd.index % COLORS.length]}">&#9632; node ${nd.index} (${nd.validators} validators${nd.startEpoch > 0 ? `, starts at epoch ${nd.startEpoch}` : ""}${nd.followsMean ? ", UNSAFE mean clock" : ""})</span>`)
    .join(" ");
  const faults = r.faults
    .map((f) => `<li><span class="swatch" style="background:${FAULT_COLORS[f.kind] ?? "#eee"}"></span>slot ${f.fromSlot}&ndash;${f.toSlot ?? "end"}: ${esc(f.label)}</li>`)
    .join("");
  const slashable = r.slashable.length === 0 ? "<p>No slashable pair.</p>" : `<ol>${r.slashable.slice(0, 200).map((p) => `<li>${esc(p.offence)} by ${esc(p.validator)}: ${esc(p.a)} / ${esc(p.b)}</li>`).join("")}</ol>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cairn sim ${esc(r.scenario)}</title>
<style>
body{font-family:sans-serif;margin:16px;color:#222;max-width:940px}
h1{font-size:20px;margin:0 0 4px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td{border:1px solid #ccc;padding:2px 6px}
tr.ok td:first-child{color:#fff;background:#2a7d2a}tr.fail td:first-child{color:#fff;background:#b22}
.summary{font-size:15px;font-weight:bold}.swatch{display:inline-block;width:12px;height:10px;margin-right:4px}
ul{font-size:12px;padding-left:16px;margin:4px 0}.legend{font-size:12px}svg.plot{display:block;margin:6px 0}
</style></head><body>
<h1>cairn sim ${esc(r.scenario)} (seed ${r.seed}, ${r.clock} clock)</h1>
<p>${esc(r.description)}</p>
<p class="summary" id="summary">${met} invariants met, ${failed} failed, slashable ${r.slashable.length}</p>
<table id="invariants">${rows}</table>
<p class="legend">${legend}</p>
<ul>${faults}</ul>
${PLOTS.map((p) => plot(r, p)).join("\n")}
<h2>Slashable pairs</h2>${slashable}
</body></html>
`;
}

export function writeReport(dir: string, r: SimReport): void {
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(r, null, 1)}\n`);
  writeFileSync(join(dir, "report.html"), renderHtml(r));
}
