/// The console's script: a small client of the admin API, no framework. Every element is made
/// with `h()` (text goes in as text, never as markup), so a value a device wrote cannot become
/// script in an operator's browser.
enum ConsoleScript {
    static let js = #"""
"use strict";
const T = {
  en: {
    overview: "Overview", review: "Review", devices: "Devices", records: "Records", files: "District files", audit: "Audit", operators: "Operators",
    login: "Log in", logout: "Log out", name: "Name", password: "Password", loginTitle: "FieldSync central node", loading: "Loading…",
    totals: "Records", openReview: "Open review items", staleDevices: "Devices not seen for more than a day", opsPerDay: "Operations per day (UTC, last 30 days)",
    health: "Node health", cell: "Cell", households: "Households", doorplates: "Doorplates", tasks: "Tasks", conflicts: "Conflicts", duplicates: "Duplicates",
    quarantine: "Held operations", conflict: "Conflict", duplicate: "Duplicate", kind: "Kind", filter: "Filter", all: "All", next: "Next page", first: "First page",
    summary: "Summary", open: "Open", device: "Device", time: "Time", value: "Value", winner: "current winner", pick: "Keep this value",
    newValue: "Or write a new value", resolve: "Resolve", merge: "Merge: keep this one", dismiss: "Not the same household", release: "Release", discard: "Discard",
    receive: "What devices will receive", receivers: "Devices of the cell", none: "none", back: "Back", cells: "Cells", lastSeen: "Last sync", never: "never",
    held: "Held ops", status: "Status", revoked: "revoked", active: "active", revoke: "Revoke", changeCells: "Change cells", save: "Save", enroll: "Enroll a device",
    enrollDone: "Enrolled. Scan this code with the tablet (shown once).", print: "Print", token: "Token", payload: "Enrollment payload",
    search: "Search", searchHint: "doorplate code, head name, phone", collection: "Collection", headName: "Head", phone: "Phone", doorplate: "Doorplate",
    members: "Members", history: "History", changes: "Changes", upload: "Upload CSV", table: "Table", file: "File", download: "Download",
    importOK: "Imported", badRows: "Nothing was imported. Fix these rows and upload again:", actor: "Who", action: "Action", detail: "Detail",
    role: "Role", add: "Add", disable: "Disable", enable: "Enable", resetPw: "New password", saved: "Saved", confirmRevoke: "Revoke this device now? It can no longer sync.",
    forbidden: "Your role cannot do this.", differs: "differs", code: "Code", street: "Street", address: "Address", mergedInto: "Merged into",
    reason: "Reason", tasksOf: "Tasks", noItems: "Nothing here.", sessionEnded: "Your session ended; log in again.", viewOnly: "View only: your role cannot settle review items.",
    exports: "Exports", exportAll: "All cells", qrTitle: "Enrollment QR code", wrong: "Error", deviceName: "Device name", cellsHint: "e.g. JS-0412, JS-0413",
    deleted: "deleted", kept: "kept", digest: "Digest", bundles: "Bundles carried by hand", bundlesHint: "A tablet without network exports a bundle file; import it here and give the tablet the reply file.",
    bundleImport: "Import the tablet's bundle", bundleDone: "Imported. The reply for the tablet:", bundleExport: "A bundle of the device's cells", personal: "personal", personalHint: "personal data: shown to operators only, never written to logs or the audit", revokeOnly: "revoke only", wipeLost: "lost: erase its data", wipeStolen: "stolen: erase its data",
    eraseTitle: "Erase personal data", eraseHint: "Removes this household's name, phone number, family size and notes from this node now and from every tablet at its next sync. Its id, address, visits and tasks stay. Give the reason (a request's date or ticket number), without the person's details.", eraseReason: "Reason", erase: "Erase", erasedBadge: "personal data erased by an operator", confirmErase: "Erase this household's personal data everywhere? This cannot be undone.", erasedDone: "Personal data erased",
    confirmWipe: "Revoke this device and have it erase everything it holds when it next connects?", wiped: "erased", wipeRequested: "erase requested", lost: "lost", stolen: "stolen", role_viewer: "viewer", role_reviewer: "reviewer", role_admin: "admin", asOf: "Totals and operations per day as of", unsynced: "Unsent at last sync", clockOffset: "Clock offset",
    clockOffsetHint: "the tablet's clock minus the node's at its last sync (+ ahead, − behind)", nodeURL: "Node address the tablet uses", count: "Count", nodeTime: "Node time", retentionKept: "Superseded personal values kept", retentionForever: "for good (no retention set)", retentionDays: "days", retentionErased: "erased so far", lastRun: "last run", pushes: "Pushes committed", turnedAway: "Pushes turned away", ops: "Operations logged",
  },
  zh: {
    overview: "概览", review: "审核", devices: "设备", records: "记录", files: "辖区文件", audit: "审计日志", operators: "操作员",
    login: "登录", logout: "退出", name: "用户名", password: "密码", loginTitle: "FieldSync 中心节点", loading: "加载中…",
    totals: "记录数", openReview: "待审核事项", staleDevices: "超过一天未同步的设备", opsPerDay: "每日操作数（UTC，近30天）",
    health: "节点状态", cell: "网格", households: "住户", doorplates: "门牌", tasks: "任务", conflicts: "冲突", duplicates: "疑似重复",
    quarantine: "暂扣的操作", conflict: "冲突", duplicate: "疑似重复", kind: "类型", filter: "筛选", all: "全部", next: "下一页", first: "第一页",
    summary: "摘要", open: "打开", device: "设备", time: "时间", value: "值", winner: "当前采用", pick: "采用此值",
    newValue: "或填写新值", resolve: "裁定", merge: "合并：保留此户", dismiss: "不是同一户", release: "放行", discard: "丢弃",
    receive: "设备将收到", receivers: "该网格的设备", none: "无", back: "返回", cells: "网格", lastSeen: "最近同步", never: "从未",
    held: "暂扣", status: "状态", revoked: "已吊销", active: "正常", revoke: "吊销", changeCells: "调整网格", save: "保存", enroll: "登记设备",
    enrollDone: "已登记。请用平板扫描此码（仅显示一次）。", print: "打印", token: "令牌", payload: "登记内容",
    search: "搜索", searchHint: "门牌编码、户主姓名、电话", collection: "类别", headName: "户主", phone: "电话", doorplate: "门牌",
    members: "人数", history: "变更历史", changes: "变更", upload: "上传 CSV", table: "表", file: "文件", download: "下载",
    importOK: "已导入", badRows: "未导入任何记录。请修正以下各行后重新上传：", actor: "操作人", action: "操作", detail: "详情",
    role: "角色", add: "添加", disable: "停用", enable: "启用", resetPw: "新密码", saved: "已保存", confirmRevoke: "立即吊销此设备？吊销后无法再同步。",
    forbidden: "您的角色无权执行此操作。", differs: "不同", code: "编码", street: "街道", address: "地址", mergedInto: "已合并至",
    reason: "原因", tasksOf: "任务", noItems: "暂无内容。", sessionEnded: "会话已结束，请重新登录。", viewOnly: "只读：您的角色不能处理审核事项。",
    exports: "导出", exportAll: "全部网格", qrTitle: "登记二维码", wrong: "错误", deviceName: "设备名称", cellsHint: "例如 JS-0412, JS-0413",
    deleted: "已删除", kept: "保留", digest: "摘要值", bundles: "离线数据包", bundlesHint: "无网络的平板导出数据包文件；在此导入，并把回复文件交给平板。",
    bundleImport: "导入平板的数据包", bundleDone: "已导入。给平板的回复文件：", bundleExport: "该设备网格的数据包", personal: "个人信息", personalHint: "个人信息：仅对操作员显示，从不写入日志或审计记录", revokeOnly: "仅吊销", wipeLost: "遗失：清除数据", wipeStolen: "被盗：清除数据",
    eraseTitle: "清除个人信息", eraseHint: "清除该住户的姓名、电话、家庭人数和备注：本节点立即清除，各平板在下次同步时清除。编号、地址、走访记录和任务保留。请填写原因（申请日期或工单号），不要写入个人信息。", eraseReason: "原因", erase: "清除", erasedBadge: "个人信息已由操作员清除", confirmErase: "在所有设备上清除该住户的个人信息？此操作无法撤销。", erasedDone: "个人信息已清除",
    confirmWipe: "吊销此设备，并在其下次连接时清除其全部数据？", wiped: "已清除", wipeRequested: "待清除", lost: "遗失", stolen: "被盗", role_viewer: "查看员", role_reviewer: "审核员", role_admin: "管理员", asOf: "总数与每日操作数统计于", unsynced: "上次同步时未发送", clockOffset: "时钟偏差",
    clockOffsetHint: "上次同步时平板时钟减节点时钟（+ 快，− 慢）", nodeURL: "平板连接的节点地址", count: "数量", nodeTime: "节点时间", retentionKept: "被覆盖的个人信息保留", retentionForever: "永久（未设置保留期）", retentionDays: "天", retentionErased: "已清除", lastRun: "上次执行", pushes: "已提交推送", turnedAway: "被拒推送", ops: "已记录操作",
  },
};
let lang = localStorage.getItem("fs-lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");
const t = (key) => (T[lang] && T[lang][key]) || T.en[key] || key;
let me = null;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (id) => document.getElementById(id);
function say(text, bad) {
  const s = $("status"); s.textContent = text; s.className = "show" + (bad ? " bad" : "");
  clearTimeout(say.timer); say.timer = setTimeout(() => { s.className = ""; }, bad ? 8000 : 3500);
}
const when = (ms) => ms === null || ms === undefined ? t("never") : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
function offset(ms) {
  if (ms === null || ms === undefined) return "—";
  const a = Math.abs(ms), sign = ms > 0 ? "+" : ms < 0 ? "−" : "±";
  const text = a < 2000 ? "0 s" : a < 120000 ? Math.round(a / 1000) + " s" : a < 7200000 ? Math.round(a / 60000) + " min" : a < 172800000 ? Math.round(a / 3600000) + " h" : Math.round(a / 86400000) + " d";
  return h("span", { class: a > 300000 ? "badge bad" : "", title: t("clockOffsetHint") }, a < 2000 ? text : sign + text);
}
const show = (v) => v === null || v === undefined ? "—" : Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : String(v);
const can = (p) => me && (p === "read" || (p === "settle" && me.role !== "viewer") || (p === "manage" && me.role === "admin"));

class ApiError extends Error { constructor(status, body) { super(body.message || ("HTTP " + status)); this.status = status; this.body = body; } }
async function api(method, path, body, raw) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = (me && me.csrf) || "";
  if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
  if (raw) headers["Content-Type"] = "text/csv";
  const response = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/v1/admin/login") { me = null; say(t("sessionEnded"), true); renderLogin(); throw new ApiError(401, data); }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
const q = (params) => Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
function fail(error) { if (error.status !== 401) say(t("wrong") + ": " + error.message, true); }
async function act(button, work) {
  button.disabled = true;
  try { await work(); } catch (e) { fail(e); } finally { button.disabled = false; }
}

const sections = ["overview", "review", "devices", "records", "files", "audit", "operators"];
function chrome() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  $("top").hidden = !me;
  $("skip").textContent = lang === "zh" ? "跳到正文" : "Skip to content";
  $("lang").value = lang; $("lang-label").textContent = lang === "zh" ? "语言" : "Language";
  $("logout").textContent = t("logout");
  $("nav").setAttribute("aria-label", lang === "zh" ? "栏目" : "Sections");
  if (!me) return;
  $("whoami").textContent = me.operator + " (" + t("role_" + me.role) + ")";
  const current = (location.hash.slice(2).split(/[/?]/)[0]) || "overview";
  $("nav").replaceChildren(...sections.filter((s) => s !== "operators" || can("manage")).map((s) =>
    h("a", { href: "#/" + s, id: "nav-" + s, "aria-current": (current === s || (s === "review" && current === "item") || (s === "records" && current === "household")) ? "page" : null }, t(s))));
}
function params() { const i = location.hash.indexOf("?"); return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1)); }
function go(path, p) { const s = p ? q(p) : ""; location.hash = "#/" + path + (s ? "?" + s : ""); }
function page(title, ...content) {
  document.title = title + " · FieldSync";
  const main = $("main"); main.replaceChildren(h("h1", { id: "page-title" }, title), ...content.flat().filter((c) => c !== null && c !== undefined && c !== false)); main.focus();
}
function table(headers, rows, caption) {
  return h("div", { class: "table-wrap" }, h("table", {}, caption ? h("caption", { class: "sr" }, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)));
}
function pager(next, onNext, onFirst, hasPrev) {
  return h("div", { class: "pager" }, hasPrev ? h("button", { type: "button", onclick: onFirst }, t("first")) : null,
    next !== null && next !== undefined ? h("button", { type: "button", id: "next-page", onclick: () => onNext(next) }, t("next")) : null);
}

function renderLogin(message) {
  chrome();
  const name = h("input", { id: "login-name", name: "name", autocomplete: "username", required: true });
  const pw = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const err = h("p", { class: "error", id: "login-error", role: "alert" }, message || "");
  const form = h("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault(); err.textContent = "";
    try { me = await api("POST", "/v1/admin/login", { name: name.value, password: pw.value }); pw.value = ""; route(); }
    catch (x) { err.textContent = x.message; }
  } }, h("h1", {}, t("loginTitle")), h("label", {}, t("name"), name), h("label", {}, t("password"), pw),
    h("button", { class: "primary", type: "submit", id: "login-submit" }, t("login")), err,
    h("p", {}, h("button", { type: "button", class: "link", id: "login-lang", lang: lang === "zh" ? "en" : "zh-CN",
      onclick: () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("fs-lang", lang); renderLogin(); } }, lang === "zh" ? "English" : "中文")));
  document.title = t("login") + " · FieldSync";
  $("main").replaceChildren(form); name.focus();
}

async function route() {
  if (!me) {
    try { me = await fetch("/v1/admin/session", { credentials: "same-origin" }).then((r) => r.ok ? r.json() : null); } catch (e) { me = null; }
    if (!me) return renderLogin();
  }
  chrome();
  const [path] = location.hash.slice(2).split("?");
  const view = { overview, review, item, devices, records, household, files, audit, operators }[path || "overview"] || overview;
  try { await view(params()); } catch (e) { fail(e); }
}

async function overview(p) {
  const o = await api("GET", "/v1/admin/overview?" + q({ after: p.get("after") }));
  const cards = h("div", { class: "cards" },
    ["households", "doorplates", "tasks"].map((k) => h("div", { class: "card" }, h("div", { class: "n" }, o.totals[k] ?? 0), t(k))),
    h("div", { class: "card" }, h("div", { class: "n", id: "open-review" }, o.review.conflict + o.review.duplicate + o.review.quarantine),
      h("a", { href: "#/review" }, t("openReview"))),
    h("div", { class: "card" }, h("div", { class: "n" }, o.staleDeviceCount + " / " + o.deviceCount), t("staleDevices")));
  const days = o.operationsPerDay, max = Math.max(1, ...days.map((d) => d.operations));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "chart"); svg.setAttribute("viewBox", "0 0 900 220"); svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("opsPerDay") + ": " + days.map((d) => d.day + " " + d.operations).join(", "));
  days.forEach((d, i) => {
    const w = 900 / days.length, bh = Math.round(180 * d.operations / max);
    const r = document.createElementNS(svg.namespaceURI, "rect");
    r.setAttribute("class", "bar"); r.setAttribute("x", i * w + 2); r.setAttribute("width", w - 4); r.setAttribute("y", 190 - bh); r.setAttribute("height", bh);
    const tip = document.createElementNS(svg.namespaceURI, "title"); tip.textContent = d.day + ": " + d.operations; r.append(tip); svg.append(r);
    if (i % 5 === 0 || i === days.length - 1) {
      const tx = document.createElementNS(svg.namespaceURI, "text"); tx.setAttribute("x", i * w + 2); tx.setAttribute("y", 206); tx.textContent = d.day.slice(5); svg.append(tx);
    }
  });
  const top = document.createElementNS(svg.namespaceURI, "text"); top.setAttribute("x", 2); top.setAttribute("y", 10); top.textContent = "max " + max; svg.append(top);
  const cellRows = o.cells.map((c) => h("tr", {}, h("th", { scope: "row" }, h("a", { href: "#/records?" + q({ c: "households", cell: c.cell }) }, c.cell)),
    h("td", {}, c.records.households ?? 0), h("td", {}, c.records.doorplates ?? 0), h("td", {}, c.records.tasks ?? 0),
    h("td", {}, c.openConflicts ? h("a", { href: "#/review?" + q({ kind: "conflict", cell: c.cell }) }, c.openConflicts) : "0"),
    h("td", {}, c.openDuplicates ? h("a", { href: "#/review?" + q({ kind: "duplicate", cell: c.cell }) }, c.openDuplicates) : "0"), h("td", {}, c.devices),
    h("td", {}, h("button", { type: "button", class: "digest", "aria-label": t("digest") + " " + c.cell, onclick: (e) => act(e.target, async () => {
      const d = await api("GET", "/v1/admin/digest?" + q({ cell: c.cell })); e.target.replaceWith(h("code", { title: d.digest }, d.digest.slice(0, 16) + "…")); }) }, t("digest")))));
  const health = o.health;
  page(t("overview"), cards,
    h("p", { class: "note", id: "as-of" }, t("asOf") + " " + when(o.asOfMillis)),
    h("h2", {}, t("opsPerDay")), svg,
    h("h2", {}, t("health")), h("p", { id: "health" }, h("span", { class: "badge good" }, health.status), " · ", t("nodeTime") + " " + when(health.nowMillis),
      " · ", t("ops") + " " + health.operations, " · ", t("pushes") + " " + health.pushesCommitted, " · ", t("turnedAway") + " " + health.pushesTurnedAway),
    h("p", { id: "retention" }, t("retentionKept") + ": ", o.retention.days === null ? t("retentionForever")
      : [o.retention.days + " " + t("retentionDays"), " · ", t("lastRun") + " " + when(o.retention.lastRunMillis), " · ", o.retention.valuesErased + " " + t("retentionErased")]),
    h("h2", {}, t("staleDevices")), o.staleDevices.length ? h("ul", {}, o.staleDevices.map((d) => h("li", {}, h("a", { href: "#/devices?" + q({ q: d.name }) }, d.name), " · ", t("lastSeen") + ": " + when(d.lastSeenMillis)))) : h("p", { class: "note" }, t("none")),
    h("h2", {}, t("cells")),
    table([t("cell"), t("households"), t("doorplates"), t("tasks"), t("conflicts"), t("duplicates"), t("devices"), t("digest")], cellRows, t("cells")),
    pager(o.nextCell, (n) => go("overview", { after: n }), () => go("overview"), !!p.get("after")));
}

async function review(p) {
  const kind = p.get("kind") || "conflict", cell = p.get("cell") || "";
  const data = await api("GET", "/v1/admin/review?" + q({ kind, cell, after: p.get("after") }));
  const tabs = h("div", { class: "row", role: "group", "aria-label": t("kind") }, ["conflict", "duplicate", "quarantine"].map((k) =>
    h("button", { type: "button", id: "tab-" + k, "aria-pressed": k === kind ? "true" : "false", class: k === kind ? "primary" : "",
      onclick: () => go("review", { kind: k, cell }) }, t(k === "quarantine" ? "quarantine" : k + "s") + " (" + data.counts[k] + ")")));
  const cellInput = h("input", { id: "review-cell", value: cell, placeholder: "JS-0412", size: 10 });
  const filter = h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); go("review", { kind, cell: cellInput.value.trim() }); } },
    h("label", {}, t("cell"), cellInput), h("button", { type: "submit" }, t("filter")));
  const rows = data.items.map((i) => h("tr", {}, h("td", {}, h("a", { href: "#/item?" + q({ id: i.id }), class: "item-link" }, i.id)),
    h("td", {}, show(i.cell)), h("td", {}, i.device ? i.device + ": " : "", i.summary)));
  page(t("review"), tabs, filter, can("settle") ? null : h("p", { class: "note", id: "view-only" }, t("viewOnly")),
    data.items.length ? table(["ID", t("cell"), t("summary")], rows, t("review")) : h("p", { class: "note" }, t("noItems")),
    pager(data.next, (n) => go("review", { kind, cell, after: n }), () => go("review", { kind, cell }), !!p.get("after")));
}

function effect(d) {
  return h("div", { class: "effect", id: "effect" }, h("strong", {}, t("receive") + ": "), d.effect, h("br"),
    t("receivers") + " (" + show(d.cell) + "): " + (d.devicesReceive.length ? d.devicesReceive.join(", ") : t("none")));
}
async function item(p) {
  const id = p.get("id");
  const d = await api("GET", "/v1/admin/review/item?" + q({ id }));
  const back = h("p", {}, h("a", { href: "#/review?" + q({ kind: d.kind }) }, "← " + t("back")));
  const done = (text) => { say(text); go("review", { kind: d.kind }); };
  if (d.kind === "conflict") {
    const cands = d.candidates.map((c, i) => h("div", { class: "candidate" + (c.winner ? " winner" : ""), id: "candidate-" + i },
      h("div", { class: "n" }, h("strong", {}, show(c.value))), c.winner ? h("span", { class: "badge good" }, t("winner")) : null,
      h("p", {}, t("device") + ": " + c.device, h("br"), t("time") + ": " + when(c.timeMillis), h("br"), h("small", { class: "note" }, c.op)),
      can("settle") ? h("button", { type: "button", class: "primary pick", "aria-label": t("pick") + ": " + show(c.value) + " (" + c.device + ")", onclick: (e) => act(e.target, async () => {
        await api("POST", "/v1/admin/review/resolve", { id, pick: c.op }); done(t("resolve") + ": " + id); }) }, t("pick")) : null));
    const value = h("input", { id: "new-value" });
    const context = d.recordFields ? h("p", { class: "note" }, ["head_name", "doorplate", "code", "street", "kind", "target"].filter((k) => d.recordFields[k] !== undefined && d.recordFields[k] !== null).map((k) => k + ": " + show(d.recordFields[k])).join(" · ")) : null;
    page(t("conflict") + ": " + d.collection + " · " + d.field, back, context, h("div", { class: "side" }, cands),
      can("settle") ? h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
        await api("POST", "/v1/admin/review/resolve", { id, value: value.value }); done(t("resolve") + ": " + id); }); } },
        h("label", {}, t("newValue"), value), h("button", { type: "submit" }, t("resolve"))) : h("p", { class: "note", id: "view-only" }, t("viewOnly")),
      effect(d));
  } else if (d.kind === "duplicate") {
    const cols = d.households.map((hh, i) => {
      const f = hh.fields || {};
      return h("div", { class: "candidate", id: "household-" + i },
        h("h2", {}, h("a", { href: "#/household?" + q({ id: hh.id }) }, hh.id)),
        h("table", {}, h("tbody", {}, d.compared.map((k) => h("tr", { class: d.differs.includes(k) ? "diff" : "" },
          h("th", { scope: "row" }, k), h("td", {}, show(f[k]), d.differs.includes(k) ? h("span", { class: "sr" }, " (" + t("differs") + ")") : null))),
          h("tr", {}, h("th", { scope: "row" }, t("tasksOf")), h("td", {}, d.tasks[i])))),
        can("settle") && !hh.gone ? h("button", { type: "button", class: "primary merge", "aria-label": t("merge") + ": " + hh.id, onclick: (e) => act(e.target, async () => {
          await api("POST", "/v1/admin/review/merge", { id, keep: hh.id }); done(t("merge") + ": " + hh.id); }) }, t("merge")) : null);
    });
    page(t("duplicate") + " · " + show(d.cell), back, h("p", {}, t("reason") + ": " + d.reason), h("div", { class: "side" }, cols),
      can("settle") ? h("button", { type: "button", id: "dismiss", onclick: (e) => act(e.target, async () => {
        await api("POST", "/v1/admin/review/dismiss", { id }); done(t("dismiss")); }) }, t("dismiss")) : h("p", { class: "note", id: "view-only" }, t("viewOnly")),
      effect(d));
  } else {
    const changes = table([t("detail"), t("value")], d.changes.map((c) => h("tr", {}, h("td", {}, c.field), h("td", {}, show(c.set ?? c.add ?? c.remove ?? c.increment)))));
    page(t("quarantine") + " · " + d.device, back,
      h("p", {}, t("reason") + ": " + d.reason + " — " + d.detail), h("p", {}, d.collection + " " + d.record + " · " + t("time") + ": " + when(d.timeMillis)), changes,
      can("settle") ? h("div", { class: "row" },
        h("button", { type: "button", class: "primary", id: "release", onclick: (e) => act(e.target, async () => { await api("POST", "/v1/admin/review/release", { op: id }); done(t("release")); }) }, t("release")),
        h("button", { type: "button", class: "danger", id: "discard", onclick: (e) => act(e.target, async () => { await api("POST", "/v1/admin/review/discard", { op: id }); done(t("discard")); }) }, t("discard")))
        : h("p", { class: "note", id: "view-only" }, t("viewOnly")),
      effect(d));
  }
}

async function devices(p) {
  const data = await api("GET", "/v1/admin/devices?" + q({ q: p.get("q"), after: p.get("after") }));
  const search = h("input", { id: "device-search", value: p.get("q") || "", placeholder: "tablet-07 / JS-0412" });
  const rows = data.devices.map((d) => {
    const cells = h("input", { value: d.cells.join(", "), "aria-label": t("cells") + " " + d.name, size: 22 });
    return h("tr", { id: "device-" + d.name }, h("th", { scope: "row" }, d.name),
      h("td", {}, can("manage") && !d.revoked ? h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
        await api("POST", "/v1/admin/devices/cells", { device: d.name, cells: cells.value }); say(t("saved")); route(); }); } }, cells, h("button", { type: "submit" }, t("save"))) : d.cells.join(", ")),
      h("td", {}, when(d.lastSeenMillis), d.staleDay && !d.revoked ? h("span", { class: "badge bad" }, "> 1d") : null),
      h("td", {}, d.unsynced === null ? "—" : d.unsynced),
      h("td", {}, offset(d.clockOffsetMillis)),
      h("td", {}, d.heldOperations ? h("a", { href: "#/review?kind=quarantine" }, d.heldOperations) : "0"),
      h("td", {}, d.wipe ? h("span", { class: "badge bad" }, d.wipe.wipedMillis ? t("wiped") + " " + when(d.wipe.wipedMillis) : t("wipeRequested") + " (" + t(d.wipe.reason) + ")")
        : d.revoked ? h("span", { class: "badge bad" }, t("revoked")) : h("span", { class: "badge good" }, t("active"))),
      h("td", {}, can("manage") && !d.revoked ? revokeControl(d) : null));
  });
  const enrollBox = h("div", { id: "enroll-result" });
  const name = h("input", { id: "enroll-name", required: true, placeholder: "tablet-07" });
  const cells = h("input", { id: "enroll-cells", required: true, placeholder: t("cellsHint") });
  const nodeURL = h("input", { id: "enroll-url", required: true, value: location.origin, size: 28 });
  const enroll = can("manage") ? h("section", { "aria-labelledby": "enroll-h" }, h("h2", { id: "enroll-h" }, t("enroll")),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
      const r = await api("POST", "/v1/admin/devices/enroll", { device: name.value.trim(), cells: cells.value, url: nodeURL.value.trim() });
      // The list shows the new device; the card with its QR code stays below it.
      await devices(p);
      const box = $("enroll-result");
      const img = h("img", { id: "enroll-qr", alt: t("qrTitle") + ": " + r.device, src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(r.qrSVG) });
      box.replaceChildren(h("div", { class: "qr card" }, h("p", {}, h("strong", {}, r.device), " · " + r.cells.join(", ")), h("p", {}, t("enrollDone")), img,
        h("p", { class: "note" }, t("payload") + ": ", h("code", { id: "enroll-payload" }, r.payload)),
        h("button", { type: "button", class: "noprint", id: "enroll-print", onclick: () => {
          document.body.classList.add("print-qr"); window.print(); document.body.classList.remove("print-qr"); } }, t("print"))));
      box.scrollIntoView();
    }); } }, h("label", {}, t("deviceName"), name), h("label", {}, t("cells"), cells), h("label", {}, t("nodeURL"), nodeURL),
      h("button", { type: "submit", class: "primary", id: "enroll-submit" }, t("enroll"))), enrollBox) : null;
  page(t("devices"), h("form", { class: "row", role: "search", onsubmit: (e) => { e.preventDefault(); go("devices", { q: search.value.trim() }); } },
      h("label", {}, t("search"), search), h("button", { type: "submit" }, t("search"))),
    table([t("device"), t("cells"), t("lastSeen"), t("unsynced"), t("clockOffset"), t("held"), t("status"), ""], rows, t("devices")),
    pager(data.next, (n) => go("devices", { q: p.get("q"), after: n }), () => go("devices", { q: p.get("q") }), !!p.get("after")), enroll);
}

function revokeControl(d) {
  const how = h("select", { "aria-label": t("revoke") + " " + d.name, class: "revoke-how" },
    h("option", { value: "" }, t("revokeOnly")), h("option", { value: "lost" }, t("wipeLost")), h("option", { value: "stolen" }, t("wipeStolen")));
  return h("span", { class: "row" }, how, h("button", { type: "button", class: "danger revoke", onclick: (e) => {
    if (!confirm(how.value ? t("confirmWipe") : t("confirmRevoke"))) return;
    act(e.target, async () => { await api("POST", "/v1/admin/devices/revoke", { device: d.name, wipe: how.value }); say(t("revoked") + ": " + d.name); route(); });
  } }, t("revoke")));
}

async function records(p) {
  const c = p.get("c") || "households";
  const data = await api("GET", "/v1/admin/records?" + q({ collection: c, q: p.get("q"), cell: p.get("cell"), after: p.get("after") }));
  const query = h("input", { id: "record-query", value: p.get("q") || "", placeholder: t("searchHint"), size: 28 });
  const cell = h("input", { id: "record-cell", value: p.get("cell") || "", placeholder: "JS-0412", size: 10 });
  const coll = h("select", { id: "record-collection" }, ["households", "doorplates"].map((k) => h("option", { value: k, selected: k === c }, t(k))));
  const form = h("form", { class: "row", role: "search", onsubmit: (e) => { e.preventDefault(); go("records", { c: coll.value, q: query.value.trim(), cell: cell.value.trim() }); } },
    h("label", {}, t("collection"), coll), h("label", {}, t("search"), query), h("label", {}, t("cell"), cell), h("button", { type: "submit", id: "record-search" }, t("search")));
  const rows = c === "households"
    ? data.records.map((r) => h("tr", {}, h("td", {}, h("a", { href: "#/household?" + q({ id: r.id }), class: "household-link" }, show(r.head_name))),
        h("td", {}, show(r.phone)), h("td", {}, show(r.doorplate), r.room ? " · " + r.room : ""), h("td", {}, show(r.member_count)), h("td", {}, show(r.cell))))
    : data.records.map((r) => h("tr", {}, h("td", {}, h("a", { href: "#/records?" + q({ c: "households", q: r.code }) }, show(r.code))),
        h("td", {}, [r.district, r.street, r.building_number, r.unit, r.room].filter(Boolean).join(" ")), h("td", {}, show(r.status)), h("td", {}, show(r.cell))));
  const headers = c === "households" ? [t("headName"), t("phone"), t("doorplate"), t("members"), t("cell")] : [t("code"), t("address"), t("status"), t("cell")];
  page(t("records"), form, data.records.length ? table(headers, rows, t(c)) : h("p", { class: "note" }, t("noItems")),
    pager(data.next, (n) => go("records", { c, q: p.get("q"), cell: p.get("cell"), after: n }), () => go("records", { c, q: p.get("q"), cell: p.get("cell") }), !!p.get("after")));
}

async function household(p) {
  const d = await api("GET", "/v1/admin/household?" + q({ id: p.get("id") }));
  const f = d.household.fields;
  const fields = table([t("detail"), t("value")], Object.keys(f).sort().map((k) => h("tr", {}, h("th", { scope: "row" }, k,
    d.personal.includes(k) ? [" ", h("span", { class: "badge", title: t("personalHint") }, t("personal"))] : null), h("td", {}, show(f[k])))));
  const history = table([t("time"), t("device"), t("changes")], d.history.slice().reverse().map((op) => h("tr", {}, h("td", {}, when(op.timeMillis)), h("td", {}, op.device),
    h("td", {}, op.deletes ? t("deleted") + " " : "", op.changes.map((c) => c.field + " " + (c.set !== undefined ? "= " + show(c.set) : c.add !== undefined ? "+ " + show(c.add) : c.remove !== undefined ? "− " + show(c.remove) : "+" + c.increment)).join("; ")))));
  const tasks = table([t("kind"), t("status"), "assignee", "due"], d.tasks.map((x) => h("tr", {}, h("td", {}, show(x.fields.kind)), h("td", {}, show(x.fields.status)), h("td", {}, show(x.fields.assignee)), h("td", {}, show(x.fields.due_on)))));
  page(t("households") + ": " + show(f.head_name), h("p", {}, h("a", { href: "#/records" }, "← " + t("back"))),
    d.household.deleted ? h("p", { class: "badge bad" }, t("deleted")) : null,
    d.household.erased ? h("p", { class: "badge", id: "erased-badge" }, t("erasedBadge")) : null,
    d.mergedInto ? h("p", {}, t("mergedInto") + " ", h("a", { href: "#/household?" + q({ id: d.mergedInto }) }, d.mergedInto)) : null,
    d.conflicts.length ? h("p", {}, t("conflicts") + ": ", d.conflicts.map((c) => h("a", { href: "#/item?" + q({ id: c }) }, c + " "))) : null,
    fields, can("manage") ? eraseControl(d.household.id) : null, h("h2", {}, t("tasksOf")), tasks, h("h2", {}, t("history")), history);
}

function eraseControl(id) {
  const reason = h("input", { id: "erase-reason", required: true, maxlength: 500, size: 40 });
  return h("form", { class: "row", id: "erase-form", "aria-labelledby": "erase-title", onsubmit: (e) => {
    e.preventDefault();
    if (!confirm(t("confirmErase"))) return;
    act(e.submitter || e.target, async () => {
      await api("POST", "/v1/admin/records/erase", { collection: "households", id, reason: reason.value.trim() });
      say(t("erasedDone")); route();
    });
  } }, h("h2", { id: "erase-title" }, t("eraseTitle")), h("p", { class: "note" }, t("eraseHint")),
    h("label", {}, t("eraseReason"), reason), h("button", { type: "submit", class: "danger", id: "erase-submit" }, t("erase")));
}

async function files() {
  const tableSel = h("select", { id: "upload-table" }, ["households", "doorplates"].map((k) => h("option", { value: k }, t(k))));
  const file = h("input", { id: "upload-file", type: "file", accept: ".csv,text/csv", required: true });
  const result = h("div", { id: "upload-result", "aria-live": "polite" });
  const upload = h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
    result.replaceChildren();
    if (!file.files.length) return;
    try {
      const r = await api("POST", "/v1/admin/import?" + q({ table: tableSel.value }), await file.files[0].arrayBuffer(), true);
      result.replaceChildren(h("p", { class: "badge good" }, t("importOK") + ": " + r.imported));
    } catch (x) {
      if (x.body && x.body.issues) result.replaceChildren(h("p", { class: "error", role: "alert" }, t("badRows")),
        h("ul", { class: "issues", id: "upload-issues" }, x.body.issues.map((i) => h("li", {}, i.message))));
      else throw x;
    }
  }); } }, h("label", {}, t("table"), tableSel), h("label", {}, t("file"), file), h("button", { type: "submit", class: "primary", id: "upload-submit" }, t("upload")));
  const cell = h("input", { id: "export-cell", placeholder: t("exportAll"), size: 10 });
  const links = h("div", { class: "row" }, h("label", {}, t("cell"), cell), ["households", "doorplates"].map((k) =>
    h("button", { type: "button", onclick: () => { location.href = "/v1/admin/export?" + q({ table: k, cell: cell.value.trim() }); } }, t("download") + " " + t(k))));
  const bundleFile = h("input", { id: "bundle-file", type: "file", accept: ".fsbundle", required: true });
  const bundleDevice = h("input", { id: "bundle-device", placeholder: "tablet-07", size: 12 });
  const bundleResult = h("div", { id: "bundle-result", "aria-live": "polite" });
  const bundles = h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
    bundleResult.replaceChildren();
    if (!bundleFile.files.length) return;
    const response = await fetch("/v1/admin/bundle/import?" + q({ device: bundleDevice.value.trim() }), { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": me.csrf, "Content-Type": "application/octet-stream" }, body: await bundleFile.files[0].arrayBuffer() });
    if (!response.ok) { const body = await response.json().catch(() => ({})); throw new ApiError(response.status, body); }
    const url = URL.createObjectURL(await response.blob());
    bundleResult.replaceChildren(h("p", {}, t("bundleDone") + " ", h("a", { href: url, download: "reply-" + (bundleDevice.value.trim() || "device") + ".fsbundle", id: "bundle-reply" }, t("download"))));
  }); } }, h("label", {}, t("file"), bundleFile), h("label", {}, t("device"), bundleDevice), h("button", { type: "submit", id: "bundle-submit" }, t("bundleImport")));
  const exportDevice = h("input", { id: "bundle-export-device", placeholder: "tablet-07", size: 12 });
  const bundleExport = h("div", { class: "row" }, h("label", {}, t("device"), exportDevice),
    h("button", { type: "button", onclick: () => { location.href = "/v1/admin/bundle/export?" + q({ device: exportDevice.value.trim() }); } }, t("bundleExport")));
  page(t("files"), can("manage") ? [h("h2", {}, t("upload")), upload, result, h("h2", {}, t("exports")), links,
    h("h2", {}, t("bundles")), h("p", { class: "note" }, t("bundlesHint")), bundles, bundleResult, bundleExport] : h("p", { class: "note" }, t("forbidden")));
}

async function audit(p) {
  const data = await api("GET", "/v1/admin/audit?" + q({ actor: p.get("actor"), action: p.get("action"), before: p.get("before") }));
  const actor = h("input", { id: "audit-actor", value: p.get("actor") || "", size: 12 });
  const action = h("input", { id: "audit-action", value: p.get("action") || "", size: 12, placeholder: "resolve, enroll…" });
  page(t("audit"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); go("audit", { actor: actor.value.trim(), action: action.value.trim() }); } },
      h("label", {}, t("actor"), actor), h("label", {}, t("action"), action), h("button", { type: "submit" }, t("filter"))),
    table([t("time"), t("actor"), t("action"), t("detail")], data.entries.map((e) => h("tr", {}, h("td", {}, when(e.atMillis)), h("td", {}, e.actor), h("td", {}, e.action), h("td", {}, e.detail))), t("audit")),
    pager(data.next, (n) => go("audit", { actor: p.get("actor"), action: p.get("action"), before: n }), () => go("audit", { actor: p.get("actor"), action: p.get("action") }), !!p.get("before")));
}

async function operators() {
  if (!can("manage")) return page(t("operators"), h("p", { class: "note" }, t("forbidden")));
  const data = await api("GET", "/v1/admin/operators");
  const rows = data.operators.map((o) => {
    const pw = h("input", { type: "password", autocomplete: "new-password", "aria-label": t("resetPw") + " " + o.name, size: 14 });
    return h("tr", {}, h("th", { scope: "row" }, o.name), h("td", {}, o.role), h("td", {}, o.disabled ? h("span", { class: "badge bad" }, t("disable")) : h("span", { class: "badge good" }, t("active"))),
      h("td", {}, o.name === me.operator ? null : h("button", { type: "button", onclick: (e) => act(e.target, async () => { await api("POST", "/v1/admin/operators/disable", { name: o.name, disabled: !o.disabled }); route(); }) }, o.disabled ? t("enable") : t("disable"))),
      h("td", {}, h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => { await api("POST", "/v1/admin/operators/reset", { name: o.name, password: pw.value }); pw.value = ""; say(t("saved")); }); } }, pw, h("button", { type: "submit" }, t("save")))));
  });
  const name = h("input", { id: "op-name", required: true }), pw = h("input", { id: "op-password", type: "password", autocomplete: "new-password", required: true });
  const role = h("select", { id: "op-role" }, ["viewer", "reviewer", "admin"].map((r) => h("option", { value: r }, r)));
  page(t("operators"), table([t("name"), t("role"), t("status"), "", t("resetPw")], rows, t("operators")),
    h("h2", {}, t("add")), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); act(e.submitter || e.target, async () => {
      await api("POST", "/v1/admin/operators/add", { name: name.value.trim(), password: pw.value, role: role.value }); say(t("saved")); route(); }); } },
      h("label", {}, t("name"), name), h("label", {}, t("password"), pw), h("label", {}, t("role"), role), h("button", { type: "submit", class: "primary" }, t("add"))));
}

$("lang").addEventListener("change", (e) => { lang = e.target.value; localStorage.setItem("fs-lang", lang); me ? route() : renderLogin(); });
$("logout").addEventListener("click", async () => { try { await api("POST", "/v1/admin/logout"); } catch (e) {} me = null; renderLogin(); });
window.addEventListener("hashchange", route);
route();
"""#
}
