// The one stylesheet (served at /ui/style.css so the pages' CSP can forbid inline styles and every script).
export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --accent: #0550ae;
  --add: #dafbe1; --del: #ffebe9; --chg: #fff8c5; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d;
  --accent: #6cb6ff; --add: #12361f; --del: #4a1d1d; --chg: #3d3510; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px 8px; z-index: 1; }
header nav { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--line); }
header nav a { padding: 6px 0; } header nav a[aria-current] { font-weight: 600; text-decoration: none; }
.brand { font-weight: 700; margin-right: 8px; }
.logout { margin-left: auto; }
main { padding: 8px 16px 32px; max-width: 1200px; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; word-break: break-word; } h2 { font-size: 1.2rem; margin-top: 1.6em; } h3 { font-size: 1rem; }
footer { color: var(--muted); font-size: .85rem; padding: 0 16px 16px; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: .9rem/1.4 ui-monospace, monospace; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.cards { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card h2 { margin-top: 0; }
.status-complete { color: #1a7f37; } .status-failed, .status-refused { color: #cf222e; } .status-partial { color: #9a6700; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin: 8px 0 16px; }
form.filters label, .field label { display: flex; flex-direction: column; font-size: .9rem; }
input, select, button { font: inherit; padding: 6px 8px; min-height: 40px; }
button { cursor: pointer; }
.chart { width: 100%; height: auto; max-height: 160px; }
.chart rect { fill: var(--accent); }
.chart .axis { stroke: var(--line); }
figure { margin: 0 0 16px; }
.commits { list-style: none; padding: 0; }
.commits > li { border-bottom: 1px solid var(--line); padding: 8px 0; }
.commits .meta { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: .9rem; }
.tags { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; padding: 0; margin: 4px 0; }
.tags li { border: 1px solid var(--line); border-radius: 12px; padding: 0 8px; font-size: .85rem; }
.diff td { width: 40%; } .diff th[scope=row] { width: 20%; word-break: break-word; }
.diff tr.added td.to, .diff tr.added td.from { background: var(--add); }
.diff tr.removed td.from, .diff tr.removed td.to { background: var(--del); }
.diff tr.updated td.from { background: var(--del); } .diff tr.updated td.to { background: var(--add); }
.absent { color: var(--muted); font-style: italic; }
.versions td input { width: 24px; height: 24px; }
.pager { display: flex; gap: 16px; margin: 16px 0; }
.login { max-width: 420px; } .login .field { margin: 12px 0; } .error { color: #cf222e; }
@media (max-width: 640px) {
  main { padding: 4px 10px 24px; }
  .diff thead { position: absolute; left: -9999px; }
  .diff tr { display: block; border-bottom: 2px solid var(--line); }
  .diff th, .diff td { display: block; width: auto !important; border: 0; }
  .diff td::before { content: attr(data-label); display: block; font-size: .8rem; color: var(--muted); }
}
`;
