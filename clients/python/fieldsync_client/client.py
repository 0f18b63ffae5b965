"""A FieldSync device in Python (standard library only), written from PROTOCOL.md.

    from fieldsync_client import Device
    device = Device.enroll("fieldsync:enroll?v=1&url=http%3A%2F%2F127.0.0.1%3A8443&token=…")
    device.sync()                                   # bootstrap the device's cells, verify
    device.update("households", household_id, {"phone": ("text", "13900000000")})
    device.sync()
    device.digest("JS-0401")                        # equal to the node's

State is kept in memory (a dashboard reads, a script writes a few records): a new `Device`
bootstraps again.
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from .merge import EXISTS, ERASE, Replica, Schema, parse_hlc, spelled_out, value_to_json

PROTOCOL = 1
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Refused(Exception):
    """The node refused a request: its HTTP status and error code (PROTOCOL.md 8.3)."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def base32(data):
    """Crockford base32 as PROTOCOL.md section 3 defines it."""
    bits, buffer, out = 0, 0, []
    for byte in data:
        buffer = (buffer << 8) | byte
        bits += 8
        while bits >= 5:
            out.append(CROCKFORD[(buffer >> (bits - 5)) & 31])
            bits -= 5
    if bits:
        out.append(CROCKFORD[(buffer << (5 - bits)) & 31])
    return "".join(out)


class Device:
    def __init__(self, url, token, replica_id=None):
        self.url = url.rstrip("/")
        self.token = token
        self.id = replica_id or os.urandom(16).hex()
        self.seq = 0
        self.clock = (0, 0)
        self.offset = 0
        self.own = []          # every operation this device wrote, in order
        self.acked = 0
        self.cursors = {}
        self.resume = {}
        self.cells = []
        # Compact snapshot pages (form 2) by default; 1 asks for records spelled out.
        self.snapshot_form = 2
        self.schema = Schema(self.get("/v1/schema"))
        self.replica = Replica(self.schema)

    @classmethod
    def enroll(cls, payload):
        """A device from an enrollment payload (PROTOCOL.md section 7)."""
        prefix = "fieldsync:enroll?"
        if not payload.startswith(prefix):
            raise ValueError("not a FieldSync enrollment payload")
        query = urllib.parse.parse_qs(payload[len(prefix):])
        if query.get("v") != ["1"]:
            raise ValueError("enrollment payload version is not 1")
        return cls(query["url"][0], query["token"][0])

    # --- HTTP ---------------------------------------------------------------------------------

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        for _ in range(20):
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                text = error.read()
                if error.code == 503:
                    time.sleep(float(error.headers.get("Retry-After", "1")))
                    continue
                try:
                    reply = json.loads(text)
                except ValueError:
                    reply = {"code": "http", "message": text[:200].decode(errors="replace")}
                raise Refused(error.code, reply.get("code"), reply.get("message")) from None
        raise Refused(503, "overloaded", "the node stayed overloaded")

    def get(self, path):
        return self.request("GET", path)

    # --- clock and local writes (PROTOCOL.md sections 3 and 5) --------------------------------

    def tick(self):
        now = int(time.time() * 1000) + self.offset
        millis, counter = self.clock
        if now > millis:
            self.clock = (now, 0)
        elif counter < 65535:
            self.clock = (millis, counter + 1)
        else:
            self.clock = (millis + 1, 0)
        return "%d.%d" % self.clock

    def receive_clock(self, hlc):
        remote = parse_hlc(hlc)
        if remote > self.clock:
            self.clock = remote

    def write(self, collection, entity, values):
        """One operation setting register fields (values as merge tuples or None)."""
        rec = self.replica.record(collection, entity)
        fields = self.schema.fields(collection)
        assignments = [{"field": EXISTS, "prev": sorted(rec.exists.heads), "set": {"bool": True}}]
        for name, value in values.items():
            if fields[name]["policy"] not in ("register", "lifecycle"):
                raise ValueError(f"{collection}.{name} is a {fields[name]['policy']} field")
            reg = rec.registers.get(name)
            assignments.append({"field": name, "prev": sorted(reg.heads) if reg else [], "set": value_to_json(value)})
        if rec.erasures:
            # A write on a record with erasures says it saw them (PROTOCOL.md 6.6).
            assignments.append({"field": ERASE, "prev": sorted(rec.erasures), "set": {"bool": False}})
        self.seq += 1
        op = {"assignments": assignments, "collection": collection, "entity": entity,
              "hlc": self.tick(), "id": f"{self.id}.{self.seq}"}
        self.replica.apply(op)
        self.own.append(op)
        return op

    def insert(self, collection, values):
        entity = base32(os.urandom(16))
        self.write(collection, entity, values)
        return entity

    update = write

    # --- sync (PROTOCOL.md section 11) --------------------------------------------------------

    def outbox(self):
        return [op for op in self.own if int(op["id"].rsplit(".", 1)[1]) > self.acked]

    def digest(self, cell):
        return self.replica.digest(cell)

    def sync(self, rounds_max=1000):
        """Pushes, pulls every page, then verifies (PROTOCOL.md 11.1); returns the cells the
        node found different (taken again, then verified once more)."""
        must_verify, verifications, resynced, replied = True, 0, [], False
        for _ in range(rounds_max):
            push = self.outbox()[:500]
            caught_up = replied and not push and not self.resume and all(c in self.cursors for c in self.cells)
            request = {"protocol": PROTOCOL, "device": self.id, "cursors": dict(self.cursors), "push": push, "pullOpsMax": 1000,
                       "snapshotForm": self.snapshot_form}
            if self.resume:
                request["snapshots"] = dict(self.resume)
            verifying = caught_up and must_verify and verifications < 2
            if verifying:
                request["digests"] = {cell: self.digest(cell) for cell in self.cells}
            reply = self.request("POST", "/v1/sync", request)
            self.ingest(reply)
            replied = True
            if verifying:
                verifications += 1
                resynced += reply["resync"]
                # A cell that differs is taken again and verified once more, not a third time.
                must_verify = bool(reply["resync"]) and verifications < 2
            if not reply["more"] and not self.outbox() and not self.resume and not must_verify:
                return resynced
        raise RuntimeError("the sync did not finish")

    def ingest(self, reply):
        """Takes a reply whole (PROTOCOL.md 11.1, step 2)."""
        if reply.get("protocol") != PROTOCOL:
            raise ValueError("the reply is not protocol version 1")
        if reply["acceptedThroughSeq"] > self.seq:
            raise ValueError("the node acknowledges more than this device wrote: a restored backup?")
        self.acked = max(self.acked, reply["acceptedThroughSeq"])
        for cell, page in reply.get("snapshots", {}).items():
            for snap in spelled_out(page):
                rec = self.replica.install(snap)
                cover = rec.covers.get(self.id, 0)
                for op in self.own:
                    if op["collection"] == snap["collection"] and op["entity"] == snap["entity"] \
                            and int(op["id"].rsplit(".", 1)[1]) > cover:
                        self.replica.applied.discard(op["id"])
                        self.replica.apply(op)
            if page.get("next"):
                self.resume[cell] = page["next"]
            else:
                self.resume.pop(cell, None)
        for op in reply["ops"]:
            self.replica.apply(op)
            self.receive_clock(op["hlc"])
        for cell, cseq in reply["cursors"].items():
            if cseq < self.cursors.get(cell, 0) and cell not in reply.get("snapshots", {}):
                raise ValueError(f"the reply moves cell {cell}'s cursor back")
            self.cursors[cell] = cseq
        self.cells = list(reply["cells"])
        for cell in reply["resync"]:
            self.cursors.pop(cell, None)
            self.resume.pop(cell, None)
        gone = set(reply["resync"])
        for (collection, entity), rec in list(self.replica.records.items()):
            cell_field = self.schema.collections[collection].get("cellField")
            if cell_field is None:
                continue
            reg = rec.registers.get(cell_field)
            cell = reg.visible() if reg else None
            cell = cell[1] if cell else ""
            if cell in gone or (cell not in self.cells and cell != ""):
                del self.replica.records[(collection, entity)]
        self.offset = reply["serverTimeMillis"] - int(time.time() * 1000)
