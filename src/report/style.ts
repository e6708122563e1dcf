// The report's only stylesheet, inlined so the file needs nothing else to display.
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d0d7de; --miss: #ffebe9; --miss-line: #cf222e; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
code { font: 0.95em ui-monospace, SFMono-Regular, Menlo, monospace; }
.subtitle, .note, figcaption { color: var(--muted); }
.badge { font-size: 12px; font-weight: 600; padding: 2px 10px; border-radius: 999px; background: #eaeef2; }
.badge.pass, .gate.pass { background: #dafbe1; color: var(--ok); }
.badge.fail, .gate.fail { background: var(--miss); color: var(--miss-line); }
.gate { padding: 8px 12px; border-radius: 6px; }
.warning { background: #fff8c5; padding: 6px 10px; border-radius: 6px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; min-width: 120px; }
.tile .value { font-size: 22px; font-weight: 600; }
.tile .label { color: var(--muted); font-size: 12px; }
nav { display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 13px; }
nav a { color: #0969da; text-decoration: none; }
figure { margin: 8px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { font-weight: 600; color: var(--muted); white-space: nowrap; }
table.validation { display: block; max-height: 560px; overflow: auto; }
tr.miss td { background: var(--miss); }
tr.miss td:first-child { box-shadow: inset 3px 0 var(--miss-line); }
.miss-mark { color: var(--miss-line); font-weight: 600; }
.ok { color: var(--ok); }
details summary { cursor: pointer; color: #0969da; margin-top: 8px; }
@media print { body { background: #fff; } table.validation { max-height: none; display: table; } details { display: block; } }
`;
