/// The console's one HTML page (`/console/`); the script fills `main`.
enum ConsolePage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FieldSync console</title>
<link rel="stylesheet" href="/console/app.css">
</head>
<body>
<a class="skip" href="#main" id="skip">Skip to content</a>
<header id="top" hidden>
  <span class="brand" id="brand">FieldSync</span>
  <nav id="nav" aria-label="Sections"></nav>
  <div class="who">
    <label for="lang" id="lang-label" class="sr">Language</label>
    <select id="lang"><option value="en">English</option><option value="zh">中文</option></select>
    <span id="whoami"></span>
    <button type="button" id="logout">Log out</button>
  </div>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<div id="status" role="status" aria-live="polite"></div>
<script src="/console/app.js"></script>
</body>
</html>
"""#
}
