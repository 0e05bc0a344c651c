// Owns the markup and styles of the live ticker page served at `/` (the behaviour is in live-page.ts).
// Must never hold logic or external assets: one self-contained document, so dist needs no copied files.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tickcast · live</title>
<style>
:root {
  --bg: #0f1419; --panel: #161c24; --line: #232b36; --text: #d7dde5; --muted: #7d8a99;
  --up: #2ecc71; --down: #ff5c5c; --accent: #4da3ff; --warn: #f5b041;
  color-scheme: dark;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 16px; margin: 0; letter-spacing: .04em; }
h1 span { color: var(--accent); }
.pill { padding: 2px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); color: var(--muted); }
#state.open { color: var(--up); border-color: var(--up); }
#state.connecting, #state.reconnecting { color: var(--warn); border-color: var(--warn); }
#state.closed, #state.idle { color: var(--down); border-color: var(--down); }
.metric { color: var(--muted); font-size: 12px; }
.metric b { color: var(--text); font-weight: 600; font-variant-numeric: tabular-nums; }
form { margin-left: auto; display: flex; gap: 6px; }
input { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; width: 220px; font: inherit; text-transform: uppercase; }
input:focus { outline: none; border-color: var(--accent); }
input::placeholder { text-transform: none; color: var(--muted); }
button { background: var(--accent); color: #08111c; border: 0; border-radius: 6px; padding: 6px 12px; font: inherit; font-weight: 600; cursor: pointer; }
main { padding: 12px 20px 24px; }
#message { min-height: 18px; color: var(--warn); font-size: 12px; margin-bottom: 6px; }
/* rows are fixed-column grids, each its own layout root (contain), not an auto-layout table: a changed price then
   re-lays out its own row, where a table re-measures every column of every row; only the rows in view exist
   (row-window.ts: the tbody's height and top padding, set from script, stand for the others), all 31 px high.
   Their numbers are drawn on the canvas #grid behind them (grid-canvas.ts); the number cells' own text is
   transparent, rewritten about once a second, for screen readers and copying */
table { display: block; width: 100%; font-variant-numeric: tabular-nums; }
thead { display: block; position: sticky; top: 0; background: var(--bg); z-index: 1; }
tbody { display: block; position: relative; }
#grid { position: absolute; left: 0; top: 0; z-index: -1; pointer-events: none; }
#rows td:not(.c-sym):not(.c-x) { color: transparent; }
#rows td { contain: strict; } /* a cell's new text re-lays out that cell only */
tr { display: grid; grid-template-columns: minmax(70px, 1.1fr) repeat(5, minmax(70px, 1fr)) minmax(70px, 1fr) minmax(56px, .8fr) minmax(70px, .9fr) 40px;
  border-bottom: 1px solid var(--line); }
tbody tr { height: 31px; contain: strict; }
th { text-align: right; color: var(--muted); font-weight: 500; font-size: 12px; padding: 6px 10px; }
td { text-align: right; padding: 5px 10px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
th:first-child, td:first-child { text-align: left; }
td.c-sym { font-weight: 600; }
td.c-st { text-align: center; }
td.c-x { padding: 3px 2px; text-overflow: clip; text-align: center; }
td.c-x button { background: none; color: var(--muted); padding: 0 6px; font-size: 16px; line-height: 1; }
td.c-x button:hover { color: var(--down); }
/* the canvas draws the numbers' flashes, change colours, halted status and a partial book's dotted underline;
   a stale row's symbol is dimmed here as its numbers are there */
tr.stale td.c-sym { opacity: .45; font-style: italic; }
#chart-panel { margin-bottom: 10px; }
.chart-head { display: flex; gap: 14px; align-items: baseline; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.chart-head b { color: var(--text); font-size: 14px; }
.k-bid { color: var(--up); } .k-ask { color: var(--down); } .k-trade { color: var(--text); }
#chart { display: block; width: 100%; height: 140px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
tbody tr { cursor: pointer; }
tr[aria-current="true"] td.c-sym { color: var(--accent); box-shadow: inset 3px 0 0 var(--accent); }
footer { color: var(--muted); font-size: 12px; padding: 0 20px 16px; }
footer a { color: var(--accent); }
</style>
</head>
<body>
<header>
  <h1><span>tick</span>cast · live</h1>
  <span id="state" class="pill idle">idle</span>
  <span class="metric">latency <b id="latency">–</b></span>
  <span class="metric">updates/s <b id="rate">0</b></span>
  <span class="metric">symbols <b id="count">0</b></span>
  <span class="metric">format <b id="format">json</b></span>
  <span class="metric">node <b id="node">–</b></span>
  <form id="add" autocomplete="off">
    <input id="symbol-input" placeholder="Add symbols: IBM, ORCL" aria-label="symbols to add">
    <button type="submit">Add</button>
  </form>
</header>
<main>
  <div id="message" role="status"></div>
  <section id="chart-panel" aria-label="chart of the selected symbol">
    <div class="chart-head"><b id="chart-symbol">–</b><span><span class="k-bid">━</span> bid</span><span><span class="k-ask">━</span> ask</span>
      <span>spread shaded</span><span><span class="k-trade">┃</span> trades</span><span>last 30 s · click a row to chart it</span></div>
    <canvas id="chart" role="img" aria-label="bid, ask and trades of the selected symbol over the last 30 seconds"></canvas>
  </section>
  <table role="table" aria-label="symbols">
    <thead role="rowgroup"><tr role="row">
      <th role="columnheader">Symbol</th><th role="columnheader">Bid</th><th role="columnheader">Ask</th>
      <th role="columnheader">Bid size</th><th role="columnheader">Ask size</th><th role="columnheader">Last</th>
      <th role="columnheader">Change</th><th role="columnheader">Upd/s</th><th role="columnheader">Status</th><th role="columnheader"><span hidden>remove</span></th>
    </tr></thead>
    <tbody id="rows" role="rowgroup"></tbody>
  </table>
</main>
<footer>Built on the tickcast client library (<a href="/client.js">/client.js</a>) · contract: <a href="/asyncapi.json">/asyncapi.json</a></footer>
<script type="module" src="/client/page/live-page.js"></script>
</body>
</html>
`
