#!/usr/bin/env python3
"""The operators' console in a real browser (Step 9).

A real `fieldsync central serve`, real `fieldsync` devices syncing over HTTP, and Debian's
headless Chromium driven by Playwright for Python. Each check is an assertion that fails the run
with a message; screenshots of every page land in OUT (default .build/console-test).

    python3 Tests/Browser/console_test.py .build/debug/fieldsync [OUT]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/fieldsync")
OUT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".build/console-test")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORDS = {"boss": "admin-password-1", "rita": "reviewer-password-1", "vic": "viewer-password-1"}
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(message)


def run(*args, password=None, ok=True, cwd=None):
    env = dict(os.environ)
    if password:
        env["FIELDSYNC_PASSWORD"] = password
    result = subprocess.run([BIN, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    if ok and result.returncode != 0:
        raise AssertionError(f"fieldsync {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def run_json(*args, **kw):
    return json.loads(run(*args, "--json", **kw).stdout)


def http(method, url, body=None, headers=None):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def login_cookie(base, name):
    status, headers, body = http("POST", base + "/v1/admin/login", {"name": name, "password": PASSWORDS[name]}, {"Content-Type": "application/json"})
    check(status == 200, f"login of {name} answered {status}: {body[:200]}")
    return headers["Set-Cookie"].split(";")[0], json.loads(body)["csrf"]


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fieldsync-console-")
    central = os.path.join(work, "central.db")
    run("central", "init", "--db", central)
    for name, role in [("boss", "admin"), ("rita", "reviewer"), ("vic", "viewer")]:
        run("central", "operator", "add", name, "--role", role, "--db", central, password=PASSWORDS[name])
    for table in ["doorplates", "households"]:
        run("central", "import-csv", table, os.path.join(ROOT, "Fixtures/sample-district", table + ".csv"), "--db", central)
    server = subprocess.Popen([BIN, "central", "serve", "--db", central, "--port", "0", "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        text = ""
        while True:  # the first JSON document on stdout (printed over several lines)
            line = server.stdout.readline()
            check(line != "", "central serve stopped before it listened")
            text += line
            try:
                base = json.loads(text)["listening"]
                break
            except json.JSONDecodeError:
                continue
        scenario(base, work)
    except BaseException:
        print(f"the files of the failed run are kept in {work}", file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)  # reached only when every check passed
    print(f"console browser test: {checks} checks passed; screenshots in {OUT}")


def device(work, name, base, cells):
    """Enrolls a device through `central enroll --url --operator` and sets it up from the payload."""
    enrolled = run_json("central", "enroll", "--device", name, "--cells", cells, "--url", base, "--operator", "boss", password=PASSWORDS["boss"])
    db = os.path.join(work, name + ".db")
    run("device", "init", "--enroll", enrolled["payload"], "--db", db)
    run("sync", "--db", db)
    return db, enrolled["token"]


def shot(page, name):
    page.wait_for_timeout(150)
    page.screenshot(path=os.path.join(OUT, name + ".png"), full_page=True)


def login(page, base, name):
    page.goto(base + "/console/")
    page.evaluate("localStorage.setItem('fs-lang', 'en')")
    page.goto(base + "/console/#/overview")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORDS[name])
    page.click("#login-submit")
    page.wait_for_selector("#nav-overview")


def scenario(base, work):
    # Two offline devices of cell JS-0401 change the same household's phone: a conflict.
    a, token_a = device(work, "tablet-a", base, "JS-0401")
    b, _ = device(work, "tablet-b", base, "JS-0401")
    household = "M50VXPBB8ZJ4MK359J8YCS3GVC"
    run("household", "update", household, "phone=13900000001", "--db", a)
    run("household", "update", household, "phone=13900000002", "--db", b)
    run("sync", "--db", a)
    run("sync", "--db", b)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    check(chromium is not None, "Debian's chromium is not installed (make deps installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            browse(page, base, work, a, b, household, errors)
        except Exception:
            page.screenshot(path=os.path.join(OUT, "failure.png"), full_page=True)
            print("the page at the failure: " + page.url + "\n" + page.inner_text("body")[:2000], file=sys.stderr)
            raise
        browser.close()
    after_browser(base, token_a)


def browse(page, base, work, a, b, household, errors):
    if True:

        # A reviewer settles the conflict; both devices converge on the value picked.
        login(page, base, "rita")
        shot(page, "overview")
        page.click("#nav-review")
        page.wait_for_selector("a.item-link")
        item_id = f"households/{household}/phone"
        check(page.locator("a.item-link", has_text=item_id).count() == 1, f"the review queue lists {item_id}")
        shot(page, "review")
        page.click(f"a.item-link:has-text('{item_id}')")
        page.wait_for_selector("#candidate-1")
        cards = [page.inner_text(f"#candidate-{i}") for i in range(2)]
        check(any("tablet-a" in c for c in cards) and any("tablet-b" in c for c in cards), f"candidates name both devices: {cards}")
        check("tablet-a" in page.inner_text("#effect") and "tablet-b" in page.inner_text("#effect"), "the item says which devices receive it")
        shot(page, "review-conflict")
        loser = 1
        picked = page.inner_text(f"#candidate-{loser} strong")
        page.click(f"#candidate-{loser} button.pick")
        page.wait_for_selector("#tab-conflict[aria-pressed='true']")
        run("sync", "--db", a)
        run("sync", "--db", b)
        for db in (a, b):
            shown = run_json("household", "show", household, "--db", db)
            phone = shown.get("phone") or shown.get("details", {}).get("phone")
            check(phone == picked, f"{os.path.basename(db)} holds phone {phone}, the reviewer picked {picked}")
            check(run_json("conflicts", "--db", db) == [], f"{os.path.basename(db)} has no conflict left")
        digests = [run_json("digest", "--cell", "JS-0401", "--db", db) for db in (a, b)]
        check(digests[0] == digests[1], f"both devices agree on the cell's digest: {digests}")
        # The node's digest of the cell, from the console's overview and from the CLI over --url.
        page.click("#nav-overview")
        page.click("button.digest[aria-label$='JS-0401']")
        page.wait_for_selector("td code")
        node_digest = page.get_attribute("td code", "title")
        remote = run_json("central", "digest", "--cell", "JS-0401", "--url", base, "--operator", "rita", password=PASSWORDS["rita"])
        device_digest = digests[0]["digest"] if isinstance(digests[0], dict) else digests[0]
        check(node_digest == remote["digest"] == device_digest, f"the node's digest of JS-0401 ({node_digest}, {remote}) is the devices' ({digests[0]})")

        # Two offline collectors register the same new household: a suspected duplicate pair.
        # The reviewer merges it; both devices follow the redirect.
        made = [run_json("household", "add", "--doorplate", "JS0401-00014", "--head", "周一鸣", "--members", "2", "--db", db) for db in (a, b)]
        ids = [m.get("id") or m.get("household", {}).get("id") for m in made]
        check(all(ids) and ids[0] != ids[1], f"two households were made: {made}")
        run("sync", "--db", a)
        run("sync", "--db", b)
        page.goto(base + "/console/#/review?kind=duplicate")
        page.wait_for_selector("a.item-link")
        page.click("a.item-link >> nth=0")
        page.wait_for_selector("#household-1")
        shot(page, "review-duplicate")
        kept = page.inner_text("#household-0 h2").strip()
        check(sorted([kept, page.inner_text("#household-1 h2").strip()]) == sorted(ids), f"the pair shown is the two households made: {ids}")
        gone = ids[1] if kept == ids[0] else ids[0]
        page.click("#household-0 button.merge")
        page.wait_for_selector("#tab-duplicate[aria-pressed='true']")
        run("sync", "--db", a)
        run("sync", "--db", b)
        for db in (a, b):
            listed = run_json("household", "list", "--cell", "JS-0401", "--db", db)
            listed_ids = [h.get("id") for h in (listed if isinstance(listed, list) else listed.get("households", []))]
            check(gone not in listed_ids and kept in listed_ids, f"{os.path.basename(db)} lists the kept household and not the merged one")
            shown = run("household", "show", gone, "--json", "--db", db, ok=False)
            check(kept in shown.stdout + shown.stderr, f"{os.path.basename(db)} follows the redirect of {gone} to {kept}: {shown.stdout}{shown.stderr}")

        # Records: search by head name with another spelling (full-width spaces), the household page.
        page.goto(base + "/console/#/records")
        page.fill("#record-query", "李　俊英")
        page.click("#record-search")
        page.wait_for_selector("a.household-link")
        shot(page, "records")
        page.click("a.household-link >> nth=0")
        page.wait_for_selector("text=History")
        check("tablet-" in page.inner_text("main"), "the household's history names the devices that changed it")
        shot(page, "household")
        page.click("#logout")
        page.wait_for_selector("#login-submit")

        # An admin enrolls a device; the QR on screen decodes to a payload a device accepts.
        login(page, base, "boss")
        page.click("#nav-devices")
        page.fill("#enroll-name", "tablet-c")
        page.fill("#enroll-cells", "JS-0401")
        page.click("#enroll-submit")
        page.wait_for_selector("#enroll-qr")
        page.wait_for_timeout(200)
        check(page.locator("#device-tablet-c").count() == 1, "the list shows the device just enrolled, above its card")
        qr_png = os.path.join(OUT, "enroll-qr.png")
        page.locator("#enroll-qr").screenshot(path=qr_png)
        shot(page, "devices")
        # The enrollment card prints alone (the print style sheet hides the rest of the page).
        page.emulate_media(media="print")
        page.evaluate("document.body.classList.add('print-qr')")
        check(page.locator("#enroll-qr").is_visible() and page.evaluate("getComputedStyle(document.querySelector('h1')).visibility") == "hidden",
              "printing shows the QR card alone")
        page.screenshot(path=os.path.join(OUT, "devices-print.png"))
        page.evaluate("document.body.classList.remove('print-qr')")
        page.emulate_media(media="screen")
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", qr_png], capture_output=True, text=True)
        check(decoded.returncode == 0, f"zbarimg read the QR code from the screenshot: {decoded.stderr.strip()}")
        payload = decoded.stdout.strip()
        check(payload == page.inner_text("#enroll-payload").strip(), "the QR code holds the payload the page shows")
        c = os.path.join(work, "tablet-c.db")
        run("device", "init", "--enroll", payload, "--db", c)
        run("sync", "--db", c)
        check(run_json("digest", "--cell", "JS-0401", "--db", c) == run_json("digest", "--cell", "JS-0401", "--db", a), "the new device holds the cell as the others do")

        # A bad CSV upload lists its bad rows and imports nothing.
        def households_of_cell():
            cookie = login_cookie(base, "boss")[0]
            found, after = [], None
            while True:
                query = "collection=households&cell=JS-0401&limit=200" + ("&after=" + urllib.request.quote(after) if after else "")
                page_of = json.loads(http("GET", base + "/v1/admin/records?" + query, headers={"Cookie": cookie})[2])
                found += [r["id"] for r in page_of["records"]]
                after = page_of["next"]
                if not after:
                    return found
        households_before = households_of_cell()
        bad = os.path.join(work, "bad.csv")
        with open(os.path.join(ROOT, "Fixtures/sample-district/households.csv"), encoding="utf-8") as f:
            header = f.readline()
        with open(bad, "w", encoding="utf-8") as f:
            f.write(header)
            f.write("NEWHOUSEHOLD000000000000001,JS-0401,JS0401-00001*,,,王五,3,13800000000,active,0,,,,\n")
            f.write("NEWHOUSEHOLD000000000000002,JS-04XX,JS0401-00001*,,,赵六,many,13800000000,active,0,,,,\n")
        page.click("#nav-files")
        page.set_input_files("#upload-file", bad)
        page.click("#upload-submit")
        page.wait_for_selector("#upload-issues li")
        issues = page.inner_text("#upload-issues")
        check("Row 3" in issues, f"the upload lists row 3 as bad: {issues}")
        shot(page, "files")
        # Tablet A has no network: its bundle goes to the office on a stick, in through the
        # console; the reply comes back out of it, and the tablet takes it.
        run("household", "update", household, "member_count=4", "--db", a)
        carried = os.path.join(work, "to-office.fsbundle")
        run("bundle", "export", carried, "--db", a)
        check(run_json("device", "status", "--db", a)["unsynced"] >= 1, "the tablet has unsent work before")
        page.set_input_files("#bundle-file", carried)
        page.fill("#bundle-device", "tablet-a")
        page.click("#bundle-submit")
        page.wait_for_selector("#bundle-reply")
        with page.expect_download() as download:
            page.click("#bundle-reply")
        reply = os.path.join(work, "back.fsbundle")
        download.value.save_as(reply)
        run("bundle", "import", reply, "--db", a)
        check(run_json("device", "status", "--db", a)["unsynced"] == 0, "the reply bundle acknowledges the tablet's work")
        node_record = json.loads(http("GET", base + "/v1/admin/household?id=" + household, headers={"Cookie": login_cookie(base, "boss")[0]})[2])
        check(node_record["household"]["fields"]["member_count"] == 4, "the work carried by hand reached the node")
        # The same by the CLI, against the running node.
        run("household", "update", household, "member_count=5", "--db", a)
        run("bundle", "export", carried, "--db", a)
        reply_cli = os.path.join(work, "back-cli.fsbundle")
        run("central", "bundle", "import", carried, "--reply", reply_cli, "--device", "tablet-a", "--url", base, "--operator", "boss", password=PASSWORDS["boss"])
        run("bundle", "import", reply_cli, "--db", a)
        check(run_json("device", "status", "--db", a)["unsynced"] == 0, "a bundle imported with the CLI over --url is acknowledged too")
        remote = run("central", "import-csv", "households", bad, "--url", base, "--operator", "boss", password=PASSWORDS["boss"], ok=False)
        check(remote.returncode == 2 and "Row 3" in remote.stderr, f"the CLI over --url lists the same bad rows (exit 2): {remote.returncode} {remote.stderr}")
        households_after = households_of_cell()
        check(households_after == households_before and "NEWHOUSEHOLD000000000000001" not in households_after, "a bad upload imports nothing")
        page.click("#nav-audit")
        page.wait_for_selector("td")
        audit_text = page.inner_text("main")
        check("rita" in audit_text and "resolve" in audit_text and "merge" in audit_text, "the audit names the reviewer's actions")
        shot(page, "audit")
        page.click("#nav-operators")
        page.wait_for_selector("#op-name")
        shot(page, "operators")
        page.select_option("#lang", "zh")
        page.click("#nav-overview")
        page.wait_for_selector("text=概览")
        shot(page, "overview-zh")
        # A tablet's screen: the same pages, wrapped.
        page.set_viewport_size({"width": 768, "height": 1024})
        page.click("#nav-review")
        page.wait_for_selector("#tab-conflict")
        check(page.evaluate("document.documentElement.scrollWidth") <= 768, "the review page fits a tablet's width")
        shot(page, "review-tablet-zh")
        page.set_viewport_size({"width": 1366, "height": 768})
        page.select_option("#lang", "en")
        page.click("#logout")

        # A viewer sees no settling controls, and the API refuses them.
        run("household", "update", household, "member_count=7", "--db", a)
        run("household", "update", household, "member_count=8", "--db", b)
        run("sync", "--db", a)
        run("sync", "--db", b)
        login(page, base, "vic")
        page.goto(base + "/console/#/item?id=" + f"households/{household}/member_count")
        page.wait_for_selector("#candidate-1")
        check(page.locator("button.pick").count() == 0 and page.locator("#view-only").count() == 1, "a viewer sees no settling controls")
        shot(page, "review-viewer")
        status = page.evaluate("""async (id) => {
            const s = await (await fetch('/v1/admin/session')).json();
            const r = await fetch('/v1/admin/review/resolve', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf},
                                                             body: JSON.stringify({id, value: '9'})});
            return r.status; }""", f"households/{household}/member_count")
        check(status == 403, f"the API refuses a viewer's resolve with 403, got {status}")
        page.click("#logout")

        # Tablet C is reported stolen: an admin revokes it with a wipe; at its next sync it erases
        # everything it holds, and the devices page shows when.
        c = os.path.join(work, "tablet-c.db")
        phone = run_json("household", "show", household, "--db", c).get("phone")
        check(phone and any(phone.encode() in open(c + suffix, "rb").read() for suffix in ("", "-wal") if os.path.exists(c + suffix)),
              "the tablet holds the household's phone before")
        login(page, base, "boss")
        page.click("#nav-devices")
        page.wait_for_selector("#device-tablet-c select.revoke-how")
        page.select_option("#device-tablet-c select.revoke-how", "stolen")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#device-tablet-c button.revoke")
        page.wait_for_selector("#device-tablet-c .badge.bad")
        check("erase requested" in page.inner_text("#device-tablet-c"), "the devices page says the erase is requested")
        wiped = run("sync", "--db", c, ok=False)
        check(wiped.returncode == 2 and "erased its data" in wiped.stderr, f"the stolen tablet's sync ends with its data erased: {wiped.stderr}")
        leftovers = [suffix for suffix in ("", "-wal", "-shm") if os.path.exists(c + suffix) and phone.encode() in open(c + suffix, "rb").read()]
        check(leftovers == [], f"no file of the wiped tablet holds the phone number: {leftovers}")
        check("erased" in run("device", "status", "--db", c).stdout, "the tablet's status says it was erased")
        page.reload()
        page.wait_for_selector("#device-tablet-c .badge.bad")
        check("erased" in page.inner_text("#device-tablet-c"), "the devices page shows that the tablet erased its data")
        shot(page, "devices-wiped")

        # A household asks to be erased. Tablet B edits its phone offline before the erasure; an
        # admin erases it from the household page; after both tablets sync, no file of the node
        # or of either tablet holds its name or phone numbers, and it is still there.
        before = run_json("household", "show", household, "--db", a)
        personal = [v for v in (before.get("phone"), before.get("headName") or before.get("head_name"), "13955550000") if v]
        check(len(personal) == 3, f"the household has a phone and a head name before: {before}")
        run("household", "update", household, "phone=13955550000", "--db", b)
        page.goto(base + "/console/#/household?id=" + household)
        page.wait_for_selector("#erase-submit")
        shot(page, "household-erase")
        page.fill("#erase-reason", "erasure request of 2026-12-07, ticket 118")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#erase-submit")
        page.wait_for_selector("#status:has-text('erased')")
        page.wait_for_selector("#erased-badge")
        check(personal[0] not in page.inner_text("main") and personal[1] not in page.inner_text("main"), "the household page shows no name or phone after the erasure")
        for db in (a, b, a):
            run("sync", "--db", db)
        for db in (a, b):
            after = run_json("household", "show", household, "--db", db)
            check(after.get("phone") is None and after.get("id") == household, f"{os.path.basename(db)} holds the household without its phone: {after}")
        files = [p for db in (a, b, os.path.join(work, "central.db")) for p in (db, db + "-wal", db + "-shm") if os.path.exists(p)]
        leftovers = [(os.path.basename(p), v) for p in files for v in personal if v.encode() in open(p, "rb").read()]
        check(leftovers == [], f"no file of the node or of the tablets holds the erased values: {leftovers}")
        page.click("#nav-overview")
        page.wait_for_selector("#retention")
        check("for good" in page.inner_text("#retention"), "the overview says superseded personal values are kept for good until a district sets retention")
        shot(page, "overview-retention")
        audit = run("central", "audit", "--url", base, "--operator", "boss", password=PASSWORDS["boss"]).stdout
        check("erase" in audit and "ticket 118" in audit, "the audit names the erasure and its reason")
        check(errors == [], f"no script errors in the page: {errors}")


def after_browser(base, token_a):
    # CSRF: another origin, or no token, is refused; device tokens never open the console, and
    # operator sessions never sync.
    cookie, csrf = login_cookie(base, "boss")
    body = {"device": "tablet-b"}
    status, _, _ = http("POST", base + "/v1/admin/devices/revoke", body, {"Cookie": cookie, "Content-Type": "application/json", "Origin": "http://evil.example"})
    check(status == 403, f"a request from another origin without the CSRF token is refused, got {status}")
    status, _, _ = http("POST", base + "/v1/admin/devices/revoke", body, {"Cookie": cookie, "Content-Type": "application/json", "Origin": "http://evil.example", "X-CSRF-Token": csrf})
    check(status == 403, f"a request from another origin is refused even with the token, got {status}")
    status, _, _ = http("POST", base + "/v1/admin/devices/revoke", body, {"Cookie": cookie, "Content-Type": "application/json"})
    check(status == 403, f"a request without the CSRF token is refused, got {status}")
    listed = run("central", "devices", "--url", base, "--operator", "boss", password=PASSWORDS["boss"]).stdout
    check(any(line.startswith("tablet-b\t") and "REVOKED" not in line for line in listed.splitlines()), f"the refused requests revoked nothing: {listed}")
    check(any(line.startswith("tablet-c\t") and "ERASED" in line for line in listed.splitlines()), f"central devices shows the erased tablet: {listed}")
    status, _, _ = http("GET", base + "/v1/admin/overview", headers={"Authorization": "Bearer " + token_a})
    check(status == 401, f"a device token does not open the admin API, got {status}")
    status, _, _ = http("POST", base + "/v1/sync", b"{}", {"Cookie": cookie, "Content-Type": "application/json"})
    check(status == 401, f"an operator session does not sync, got {status}")

    # Five wrong passwords: the next login waits, even with the right password.
    for attempt in range(5):
        status, _, _ = http("POST", base + "/v1/admin/login", {"name": "rita", "password": "wrong-password"}, {"Content-Type": "application/json"})
        check(status in (401, 429), f"wrong password {attempt + 1} answered {status}")
    status, headers, _ = http("POST", base + "/v1/admin/login", {"name": "rita", "password": PASSWORDS["rita"]}, {"Content-Type": "application/json"})
    check(status == 429 and int(headers.get("Retry-After", "0")) >= 1, f"after five wrong passwords a login waits (429 with Retry-After), got {status}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"console browser test FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
