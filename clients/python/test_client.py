"""Tests of the Python client against PROTOCOL.md's worked example and a real node.

    python3 clients/python/test_client.py <path to the fieldsync binary>

`make test` runs it. The live part starts `fieldsync central serve` with the sample district,
enrolls this client and a Swift device (the `fieldsync` CLI) for cell JS-0401, and has them
exchange edits and an erasure through the node: the node verifies the Python client's digests,
and they equal the Swift device's.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fieldsync_client import Device, Replica, Schema, conformance  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = None
PASSWORD = "correct-horse-battery"

NOTES_SCHEMA = {"hash": "-", "protocol": 1, "collections": [{
    "cellField": "cell", "name": "notes", "fields": [
        {"name": "cell", "personal": False, "policy": "register", "review": False, "type": "text"},
        {"name": "title", "personal": False, "policy": "register", "review": True, "type": "text"},
        {"name": "views", "personal": False, "policy": "counter", "review": False, "type": "int"},
        {"name": "tags", "personal": False, "policy": "set", "review": False, "type": "text"},
        {"name": "score", "personal": False, "policy": "register", "review": False, "type": "real"},
    ]}]}


class WorkedExampleTests(unittest.TestCase):
    """PROTOCOL.md section 10's example, merged from its operations by this client."""

    def test_the_digest_of_the_worked_example(self):
        one, two = "0000000000000001000000009e3779b9", "0000000000000002000000013c6ef372"
        replica = Replica(Schema(NOTES_SCHEMA))
        ops = [
            {"id": one + ".1", "hlc": "1767225600000.0", "collection": "notes", "entity": "N1", "assignments": [
                {"field": "_exists", "prev": [], "set": {"bool": True}},
                {"field": "cell", "prev": [], "set": {"text": "C1"}},
                {"field": "title", "prev": [], "set": {"text": "Hello"}},
                {"field": "score", "prev": [], "set": {"real": 1.5}},
                {"add": {"text": "b"}, "field": "tags"}, {"add": {"text": "a"}, "field": "tags"}]},
            {"id": one + ".2", "hlc": "1767225600000.1", "collection": "notes", "entity": "N1", "assignments": [
                {"field": "_exists", "prev": [one + ".1"], "set": {"bool": True}}, {"field": "views", "increment": 2}]},
            {"id": one + ".3", "hlc": "1767225601000.0", "collection": "notes", "entity": "N1", "assignments": [
                {"field": "_exists", "prev": [one + ".2"], "set": {"bool": True}},
                {"field": "title", "prev": [one + ".1"], "set": {"text": "Hi"}}]},
            {"id": two + ".1", "hlc": "1767225601000.0", "collection": "notes", "entity": "N1", "assignments": [
                {"field": "_exists", "prev": [one + ".2"], "set": {"bool": True}},
                {"field": "title", "prev": [one + ".1"], "set": {"text": "Hey"}}]},
        ]
        for op in reversed(ops + ops[:2]):     # any order, duplicates included
            replica.apply(op)
        values, live = replica.values("notes", "N1")
        self.assertTrue(live)
        self.assertEqual(values["title"], ("text", "Hey"))
        self.assertEqual(replica.conflicts("notes", "N1"), {"title": [("text", "Hey"), ("text", "Hi")]})
        self.assertEqual(replica.digest("C1"), "bdc3439e415bc0b34d13008d3240fe2693f1982442ffec5cb1cb1466ec1f9b8d")


def start_node(central):
    """Starts `central serve` on a free port; returns the process and its address."""
    server = subprocess.Popen([BIN, "central", "serve", "--db", central, "--port", "0", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    text = ""
    while True:  # the first JSON document on stdout (printed over several lines)
        line = server.stdout.readline()
        if not line:
            raise AssertionError("central serve stopped before it listened")
        text += line
        try:
            return server, json.loads(text)["listening"]
        except json.JSONDecodeError:
            continue


def stop_node(server):
    server.terminate()
    server.wait(timeout=30)
    server.stdout.close()


def run(*args, ok=True, cwd=None):
    env = dict(os.environ, FIELDSYNC_PASSWORD=PASSWORD)
    result = subprocess.run([BIN, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    if ok and result.returncode != 0:
        raise AssertionError(f"fieldsync {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


class LiveNodeTests(unittest.TestCase):
    """This client and a Swift device through a real `central serve`."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="fieldsync-python-")
        central = os.path.join(cls.work, "central.db")
        run("central", "init", "--db", central)
        run("central", "operator", "add", "boss", "--role", "admin", "--db", central)
        for table in ("doorplates", "households"):
            run("central", "import-csv", table, os.path.join(ROOT, "Fixtures/sample-district", table + ".csv"), "--db", central)
        cls.server, cls.base = start_node(central)

    @classmethod
    def tearDownClass(cls):
        stop_node(cls.server)
        shutil.rmtree(cls.work, ignore_errors=True)

    def remote(self, *args, ok=True):
        return run(*args, "--url", self.base, "--operator", "boss", ok=ok)

    def enroll(self, name):
        return json.loads(self.remote("central", "enroll", "--device", name, "--cells", "JS-0401", "--json").stdout)["payload"]

    def test_a_python_client_and_a_swift_device_agree_through_the_node(self):
        cell = "JS-0401"
        python = Device.enroll(self.enroll("python-1"))
        python.snapshot_form = 1     # the kit's run covers form 2 (compact pages)
        self.assertEqual(python.sync(), [], "the node verified the Python client's digest after its bootstrap")
        swift_db = os.path.join(self.work, "swift.db")
        run("device", "init", "--enroll", self.enroll("swift-1"), "--db", swift_db)
        run("sync", "--db", swift_db)

        def swift_digest():
            return run("digest", "--cell", cell, "--db", swift_db).stdout.strip().split()[-1]

        self.assertEqual(python.digest(cell), swift_digest())
        households = sorted(entity for (collection, entity), rec in python.replica.records.items()
                            if collection == "households" and rec.exists.heads)
        self.assertGreater(len(households), 10)
        household = households[0]

        # The Python client edits a phone; the Swift device receives it.
        python.update("households", household, {"phone": ("text", "13911112222")})
        self.assertEqual(python.sync(), [])
        run("sync", "--db", swift_db)
        shown = json.loads(run("household", "show", household, "--json", "--db", swift_db).stdout)
        self.assertEqual(shown.get("phone"), "13911112222")

        # The Swift device edits the family size; the Python client receives it and agrees.
        run("household", "update", household, "member_count=6", "--db", swift_db)
        run("sync", "--db", swift_db)
        self.assertEqual(python.sync(), [])
        values, _ = python.replica.values("households", household)
        self.assertEqual(values["member_count"], ("int", 6))
        self.assertEqual(python.digest(cell), swift_digest())

        # An operator erases the household: the Python client erases it too, and what it writes
        # afterwards says it saw the erasure, so the node keeps it as new data.
        self.remote("central", "erase", "households", household, "--reason", "python client test")
        self.assertEqual(python.sync(), [])
        values, _ = python.replica.values("households", household)
        self.assertEqual((values["phone"], values["head_name"]), (None, None))
        op = python.update("households", household, {"phone": ("text", "13933334444")})
        self.assertTrue(any(a["field"] == "_erase" for a in op["assignments"]))
        self.assertEqual(python.sync(), [])
        run("sync", "--db", swift_db)
        shown = json.loads(run("household", "show", household, "--json", "--db", swift_db).stdout)
        self.assertEqual(shown.get("phone"), "13933334444")
        self.assertEqual(python.digest(cell), swift_digest())

        # The schema it merged with is the node's, by hash.
        schema = python.get("/v1/schema")
        self.assertEqual(schema["hash"], python.schema.hash)
        self.assertEqual(len(schema["hash"]), 64)


class ConformanceKitTests(unittest.TestCase):
    """The kit of Fixtures/conformance/ against a fresh node: driven by `fieldsync conformance`,
    then played by this client, whose digests must equal the recorded ones."""

    def test_the_node_and_this_client_pass_the_conformance_kit(self):
        for player in ("swift", "python", "python-form1"):
            work = tempfile.mkdtemp(prefix="fieldsync-conformance-")
            central = os.path.join(work, "central.db")
            run("central", "init", "--db", central)
            run("central", "operator", "add", "boss", "--role", "admin", "--db", central)
            server, base = start_node(central)
            try:
                kit = os.path.join(ROOT, "Fixtures", "conformance")
                if player == "swift":
                    result = run("conformance", "--url", base, "--operator", "boss", "--dir", kit)
                    lines = result.stdout.splitlines()
                else:
                    lines = conformance.run(base, "boss", PASSWORD, kit, snapshot_form=1 if player == "python-form1" else 2)
                self.assertEqual(len(lines), len([f for f in os.listdir(kit) if f.endswith(".json")]))
                self.assertTrue(all(line.startswith("passed ") for line in lines), lines)
            finally:
                stop_node(server)
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_client.py <path to the fieldsync binary>")
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
