/// The console's style sheet: plain, readable at 1366x768 and on a tablet, printable enrollment
/// cards.
enum ConsoleStyle {
    static let css = #"""
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --soft:#f6f8fa; --accent:#0b5cad; --bad:#b42318; --good:#1a7f37; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, "Noto Sans CJK SC", "Noto Sans", sans-serif; color:var(--fg); background:var(--bg); }
a { color: var(--accent); }
.skip { position:absolute; left:-999px; top:0; background:#fff; padding:.5em; z-index:9; }
.skip:focus { left:.5em; }
.sr { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
header { display:flex; flex-wrap:wrap; align-items:center; gap:.5em 1em; padding:.5em 1em; border-bottom:1px solid var(--line); background:var(--soft); }
.brand { font-weight:700; }
nav { display:flex; flex-wrap:wrap; gap:.25em; flex:1; }
nav a { padding:.35em .7em; border-radius:6px; text-decoration:none; color:var(--fg); }
nav a[aria-current="page"] { background:var(--accent); color:#fff; }
.who { display:flex; gap:.5em; align-items:center; }
main { padding:1em; max-width:1400px; margin:0 auto; }
main:focus { outline:none; }
h1 { font-size:1.35em; margin:.2em 0 .6em; }
h2 { font-size:1.1em; margin:1.2em 0 .5em; }
button, .button { font:inherit; padding:.4em .9em; border:1px solid var(--line); border-radius:6px; background:#fff; cursor:pointer; color:var(--fg); text-decoration:none; display:inline-block; }
button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
button.danger { color:var(--bad); border-color:var(--bad); }
button.link { border:none; background:none; color:var(--accent); text-decoration:underline; padding:0; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid #f5a623; outline-offset:1px; }
button[disabled] { opacity:.5; cursor:default; }
input, select, textarea { font:inherit; padding:.35em .5em; border:1px solid var(--line); border-radius:6px; }
form.row, .row { display:flex; flex-wrap:wrap; gap:.5em; align-items:end; margin:.5em 0; }
label { display:flex; flex-direction:column; font-size:.9em; color:var(--muted); gap:.15em; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; margin:.5em 0; }
th, td { text-align:left; padding:.35em .6em; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:.75em; }
.card { border:1px solid var(--line); border-radius:8px; padding:.7em; background:var(--soft); }
.card .n { font-size:1.6em; font-weight:700; }
.side { display:grid; grid-template-columns:repeat(auto-fit, minmax(280px, 1fr)); gap:1em; }
.candidate { border:1px solid var(--line); border-radius:8px; padding:.7em; }
.candidate.winner { border-color:var(--good); box-shadow:0 0 0 1px var(--good) inset; }
.diff { background:#fff4ce; }
.badge { display:inline-block; padding:0 .45em; border-radius:10px; font-size:.85em; background:var(--soft); border:1px solid var(--line); }
.badge.bad { color:var(--bad); border-color:var(--bad); }
.badge.good { color:var(--good); border-color:var(--good); }
.error { color:var(--bad); }
.note { color:var(--muted); font-size:.92em; }
.effect { border-left:4px solid var(--accent); padding:.4em .7em; background:var(--soft); margin:.7em 0; }
#status { position:fixed; bottom:0; left:0; right:0; padding:.4em 1em; background:#1b1f24; color:#fff; display:none; }
#status.show { display:block; }
#status.bad { background:var(--bad); }
.login { max-width:360px; margin:3em auto; border:1px solid var(--line); border-radius:10px; padding:1.2em; }
.login label { margin-bottom:.7em; }
.login input { width:100%; }
.qr img { width:280px; height:280px; image-rendering:pixelated; background:#fff; }
svg.chart { width:100%; max-width:900px; height:220px; }
svg.chart rect.bar { fill:var(--accent); }
svg.chart text { font-size:10px; fill:var(--muted); }
.pager { display:flex; gap:.5em; align-items:center; margin:.5em 0; }
ul.issues { color:var(--bad); }
@media (max-width: 800px) { body { font-size:16px; } main { padding:.6em; } .who { width:100%; justify-content:flex-end; } }
@media print {
  header, nav, #status, .noprint, .skip { display:none !important; }
  main { padding:0; }
  .qr img { width:70mm; height:70mm; }
  /* The enrollment card alone, when printed from its Print button. */
  body.print-qr main * { visibility:hidden; }
  body.print-qr .qr, body.print-qr .qr * { visibility:visible; }
  body.print-qr .qr { position:absolute; left:0; top:0; border:none; background:#fff; }
}
"""#
}
