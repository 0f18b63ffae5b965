"""The conformance kit (Fixtures/conformance/, PROTOCOL.md section 15) run by this client.

For each scenario, the client plays every device: it enrolls them through the node's admin API,
carries each step's operations as the device's own (merged locally first), syncs, and checks
what the node answered against the file (acknowledgements, holds, operations and snapshot
records pulled, refusals) and, where the file gives digests, that its *own* digest of each cell
equals the recorded one (and that the node agrees). Runs against a fresh node.
"""

import http.cookiejar
import json
import os
import urllib.request

from .client import Device, Refused
from .merge import spelled_out


class Admin:
    """An operator's session on the admin API (cookie and CSRF token)."""

    def __init__(self, url, name, password):
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = self.call("POST", "/v1/admin/login", {"name": name, "password": password})["csrf"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        if getattr(self, "csrf", None):
            request.add_header("X-CSRF-Token", self.csrf)
        with self.opener.open(request, timeout=60) as response:
            return json.loads(response.read())


class Mismatch(AssertionError):
    pass


def run(url, operator, password, directory, snapshot_form=2):
    """Runs every scenario in `directory`; returns one line per scenario, raises Mismatch."""
    admin = Admin(url, operator, password)
    lines = []
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".json")):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            scenario = json.load(f)
        lines.append(run_scenario(admin, url, scenario, name, snapshot_form))
    return lines


def run_scenario(admin, url, scenario, file, snapshot_form=2):
    devices = {}
    known = {spec["replica"] for spec in scenario["devices"].values()}
    for name, spec in sorted(scenario["devices"].items()):
        enrolled = admin.call("POST", "/v1/admin/devices/enroll", {"device": file.split(".")[0] + "-python-" + name, "cells": spec["cells"]})
        devices[name] = Device(url, enrolled["token"], replica_id=spec["replica"])
        devices[name].snapshot_form = snapshot_form
    erasure = None
    # A device's own operations the node holds are in its state and in no state the node sends
    # (PROTOCOL.md section 9): its digest is the node's again once an operator released them.
    held = {name: set() for name in devices}

    def normalized(op_id):
        replica, seq = op_id.rsplit(".", 1)
        return op_id if replica in known else "node." + seq

    for index, step in enumerate(scenario["steps"], 1):
        expect = step.get("expect", {})
        where = f"{file} step {index}"
        if "operator" in step:
            if step["operator"] == "erase":
                erasure = admin.call("POST", "/v1/admin/records/erase", {"collection": step["collection"], "id": step["entity"], "reason": "conformance kit"})["erasure"]
            elif step["operator"] in ("release", "discard"):
                admin.call("POST", "/v1/admin/review/" + step["operator"], {"op": step["op"]})
                if step["operator"] == "release":
                    for ops in held.values():
                        ops.discard(step["op"])
            continue
        device = devices[step["device"]]
        ops = json.loads(json.dumps(step.get("push", [])).replace("node.ERASURE", erasure or "node.ERASURE"))
        observed = exchange(device, ops, step.get("pullOpsMax", 1000), normalized, raw=step.get("raw", False))
        for key in ("status", "code", "acceptedThroughSeq", "held", "pulled", "snapshotRecords"):
            if key in expect and expect[key] != observed.get(key):
                raise Mismatch(f"{where}: {key} expected {expect[key]}, got {observed.get(key)}")
        held[step["device"]].update(h["op"] for h in observed.get("held", []))
        for cell, digest in expect.get("digests", {}).items():
            if held[step["device"]]:
                break
            mine = device.digest(cell)
            if mine != digest:
                raise Mismatch(f"{where}: this client's digest of {cell} is {mine}; the kit (and the node) have {digest}")
        if "records" in expect and not held[step["device"]]:
            mine = records_of(device, set(expect.get("digests", {})))
            if mine != expect["records"]:
                differing = sorted(k for k in set(mine) | set(expect["records"]) if mine.get(k) != expect["records"].get(k))
                raise Mismatch(f"{where}: this client shows {differing[0]} as {mine.get(differing[0])}; the kit has {expect['records'].get(differing[0])}")
        if expect.get("digests"):
            reply = device.request("POST", "/v1/sync", {"protocol": 1, "device": device.id, "cursors": dict(device.cursors),
                                                       "push": [], "pullOpsMax": 1000, "digests": expect["digests"]})
            if reply["resync"]:
                raise Mismatch(f"{where}: the node's digests of {reply['resync']} differ from the kit's")
    return f"passed {scenario['scenario']}: {len(scenario['steps'])} steps"


def exchange(device, ops, pull_ops_max, normalized, raw=False):
    """One step: the step's operations pushed as the device's own, then every page."""
    observed = {}
    if ops:
        expected_next = device.seq + 1
        first = int(ops[0]["id"].rsplit(".", 1)[1])
        own = all(op["id"].rsplit(".", 1)[0] == device.id for op in ops)
        fresh = own and first == expected_next and all(
            int(op["id"].rsplit(".", 1)[1]) == expected_next + i for i, op in enumerate(ops))
        if raw or not fresh:
            # A push the node must refuse whole (a gap, a reused id, another replica's
            # operation): sent as it is, never merged here.
            try:
                reply = device.request("POST", "/v1/sync", {"protocol": 1, "device": device.id, "cursors": dict(device.cursors),
                                                           "push": ops, "pullOpsMax": pull_ops_max})
            except Refused as refusal:
                return {"status": refusal.status, "code": refusal.code}
            return {"acceptedThroughSeq": reply["acceptedThroughSeq"],
                    "held": [{"op": normalized(h["op"]), "reason": h["reason"]} for h in reply["held"]]}
        for op in ops:
            device.replica.apply(op)
            device.own.append(op)
        device.seq = int(ops[-1]["id"].rsplit(".", 1)[1])
    held, pulled, records = [], [], []
    push = device.outbox()[:500]
    for _ in range(1000):
        request = {"protocol": 1, "device": device.id, "cursors": dict(device.cursors), "push": push, "pullOpsMax": pull_ops_max,
                   "snapshotForm": device.snapshot_form}
        if device.resume:
            request["snapshots"] = dict(device.resume)
        try:
            reply = device.request("POST", "/v1/sync", request)
        except Refused as refusal:
            return {"status": refusal.status, "code": refusal.code}
        if push:
            observed["acceptedThroughSeq"] = reply["acceptedThroughSeq"]
        held += [{"op": normalized(h["op"]), "reason": h["reason"]} for h in reply["held"]]
        pulled += [normalized(op["id"]) for op in reply["ops"]]
        for cell in sorted(reply.get("snapshots", {})):
            records += [r["collection"] + "/" + r["entity"] for r in spelled_out(reply["snapshots"][cell])]
        device.ingest(reply)
        push = []
        if not reply["more"] and not device.resume:
            break
    observed.update(held=held, pulled=pulled, snapshotRecords=records)
    return observed


def records_of(device, cells):
    """What the client shows of some cells, in the kit's form: every record (deleted too), its
    non-null values in the wire form, its conflicts' distinct values in canonical order."""
    from .merge import value_to_json
    result = {}
    for (collection, entity), rec in device.replica.records.items():
        cell_field = device.schema.collections[collection].get("cellField")
        if cell_field is None or not rec.exists.heads:
            continue
        values, live = device.replica.values(collection, entity)
        if values.get(cell_field) is None or values[cell_field][1] not in cells:
            continue
        entry = {"deleted": not live, "values": {k: value_to_json(v) for k, v in values.items() if v is not None}}
        conflicts = device.replica.conflicts(collection, entity)
        if conflicts:
            entry["conflicts"] = {k: [value_to_json(v) for v in vs] for k, vs in conflicts.items()}
        result[f"{collection}/{entity}"] = entry
    return result
