"""Writes the conformance kit's scenarios (their steps and operations, without expectations).

    python3 Fixtures/conformance/generate.py
    fieldsync conformance --url URL --operator NAME --record   # fills in what a fresh node answers

The scenarios use FieldKit's schema (households, doorplates, tasks) and clocks of 2026-01-01,
so that no operation is ahead of a node's clock, except where a scenario wants one held.
PROTOCOL.md section 15 describes the format.
"""

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCH = 1767225600000
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
from fieldsync_client import base32  # noqa: E402  (PROTOCOL.md section 3's Crockford base32)


def natural_id(collection, *parts):
    data = collection.encode() + b"\x00" + b"\x1f".join(p.encode() for p in parts)
    return "k" + base32(hashlib.sha256(data).digest()[:16])


def replica(n):
    return "%032x" % (0xC0F0 << 64 | n)


class Writer:
    """One device's operations: numbered, stamped, with their prev lists given by the caller."""

    def __init__(self, n):
        self.id = replica(n)
        self.seq = 0

    def op(self, collection, entity, assignments, at=0):
        self.seq += 1
        return {"id": f"{self.id}.{self.seq}", "hlc": f"{EPOCH + at}.{self.seq}", "collection": collection,
                "entity": entity, "assignments": assignments}

    def ref(self, seq):
        return f"{self.id}.{seq}"


def s(field, value, prev=()):
    return {"field": field, "prev": list(prev), "set": value}


def text(v):
    return {"text": v}


def household(cell, plate, name, phone, members=3):
    return [s("_exists", {"bool": True}), s("cell", text(cell)), s("doorplate", text(plate)),
            s("head_name", text(name)), s("head_name_key", text(name)), s("member_count", {"int": members}),
            s("phone", text(phone)), s("status", text("active"))]


def write(name, about, devices, steps):
    doc = {"scenario": name, "about": about, "devices": devices, "steps": steps}
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")


def scenarios():
    # 1. Registers: a write, concurrent writes (a conflict), a write that saw both (resolved).
    a, b = Writer(101), Writer(102)
    h = "CONFORMREGISTER00000000001"
    create = a.op("households", h, household("CF-0001", "CF0001-00001", "张伟", "13900000001"))
    ea = a.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("phone", text("13900000002"), [create["id"]])], at=1000)
    eb = b.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("phone", text("13900000003"), [create["id"]])], at=1000)
    fix = a.op("households", h, [s("_exists", {"bool": True}, [ea["id"], eb["id"]]), s("phone", text("13900000004"), [ea["id"], eb["id"]])], at=2000)
    write("01-registers", "a register write, two concurrent writes (a conflict both devices see), a write that saw both",
          {"a": {"replica": a.id, "cells": ["CF-0001"]}, "b": {"replica": b.id, "cells": ["CF-0001"]}},
          [{"device": "a", "about": "a creates a household", "push": [create], "verify": ["CF-0001"]},
           {"device": "b", "about": "b takes the cell as a snapshot", "verify": ["CF-0001"]},
           {"device": "a", "about": "a changes the phone", "push": [ea]},
           {"device": "b", "about": "b changes it concurrently: a conflict", "push": [eb], "verify": ["CF-0001"]},
           {"device": "a", "about": "a sees both and writes a third: resolved", "push": [fix], "verify": ["CF-0001"]},
           {"device": "b", "about": "b takes it", "verify": ["CF-0001"]}])

    # 2. Lifecycle, counter, set.
    a, b = Writer(201), Writer(202)
    t = "CONFORMTASK000000000000001"
    h = "CONFORMCOUNTER000000000001"
    task = a.op("tasks", t, [s("_exists", {"bool": True}), s("cell", text("CF-0002")), s("kind", text("visit")),
                             s("status", text("open")), {"add": text("call first"), "field": "notes"}])
    home = a.op("households", h, household("CF-0002", "CF0002-00001", "王芳", "13900000011") + [{"field": "visit_count", "increment": 1}])
    done = a.op("tasks", t, [s("_exists", {"bool": True}, [task["id"]]), s("status", text("done"), [task["id"]]),
                             {"field": "notes", "remove": text("call first"), "tags": [task["id"]]}], at=1000)
    back = b.op("tasks", t, [s("_exists", {"bool": True}, [task["id"]]), s("status", text("assigned"), [task["id"]]),
                             {"add": text("gate code 1234"), "field": "notes"}], at=5000)
    visit_a = a.op("households", h, [s("_exists", {"bool": True}, [home["id"]]), {"field": "visit_count", "increment": 1}], at=1500)
    visit_b = b.op("households", h, [s("_exists", {"bool": True}, [home["id"]]), {"field": "visit_count", "increment": 2}], at=1500)
    write("02-lifecycle-counter-set", "concurrent task states (the further one shows, the other is a conflict), visits counted on two devices, a note removed while another is added",
          {"a": {"replica": a.id, "cells": ["CF-0002"]}, "b": {"replica": b.id, "cells": ["CF-0002"]}},
          [{"device": "a", "push": [task, home]},
           {"device": "b", "verify": ["CF-0002"]},
           {"device": "a", "push": [done, visit_a]},
           {"device": "b", "push": [back, visit_b], "verify": ["CF-0002"]},
           {"device": "a", "verify": ["CF-0002"]}])

    # 3. Edit against delete.
    a, b = Writer(301), Writer(302)
    h = "CONFORMDELETE0000000000001"
    create = a.op("households", h, household("CF-0003", "CF0003-00001", "李娜", "13900000021"))
    delete = a.op("households", h, [s("_exists", {"bool": False}, [create["id"]])], at=1000)
    edit = b.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("member_count", {"int": 5}, [create["id"]])], at=1000)
    write("03-edit-against-delete", "a delete and a concurrent edit: the record stays, its existence in conflict",
          {"a": {"replica": a.id, "cells": ["CF-0003"]}, "b": {"replica": b.id, "cells": ["CF-0003"]}},
          [{"device": "a", "push": [create]},
           {"device": "b", "verify": ["CF-0003"]},
           {"device": "a", "push": [delete], "verify": ["CF-0003"]},
           {"device": "b", "push": [edit], "verify": ["CF-0003"]},
           {"device": "a", "verify": ["CF-0003"]}])

    # 4. Natural keys.
    a, b = Writer(401), Writer(402)
    code = "CF0004-00001"
    plate = natural_id("doorplates", code)
    pa = a.op("doorplates", plate, [s("_exists", {"bool": True}), s("code", text(code)), s("cell", text("CF-0004")),
                                     s("street", text("幸福路")), s("status", text("installed"))])
    pb = b.op("doorplates", plate, [s("_exists", {"bool": True}), s("code", text(code)), s("cell", text("CF-0004")),
                                     s("street", text("幸福路 1 号")), s("status", text("issued"))])
    wrong = b.op("doorplates", "CONFORMWRONGPLATE000000001", [s("_exists", {"bool": True}), s("code", text("CF0004-00002")),
                                                               s("cell", text("CF-0004")), s("status", text("issued"))])
    write("04-natural-keys", "two devices register the same doorplate offline: one record; a plate whose id is not its code's is held",
          {"a": {"replica": a.id, "cells": ["CF-0004"]}, "b": {"replica": b.id, "cells": ["CF-0004"]}},
          [{"device": "a", "push": [pa]},
           {"device": "b", "push": [pb], "verify": ["CF-0004"]},
           {"device": "b", "about": "a plate whose id is not its code's (no conforming client writes it: sent raw)", "push": [wrong], "raw": True},
           {"device": "a", "verify": ["CF-0004"]}])

    # 5. Snapshot pages.
    a, b = Writer(501), Writer(502)
    homes = [a.op("households", "CONFORMPAGE%015d" % n, household("CF-0005", "CF0005-%05d" % n, "住户%d" % n, "139000005%02d" % n))
             for n in range(1, 8)]
    write("05-snapshot-pages", "a cell of seven households taken as a snapshot in pages of three records",
          {"a": {"replica": a.id, "cells": ["CF-0005"]}, "b": {"replica": b.id, "cells": ["CF-0005"]}},
          [{"device": "a", "push": homes},
           {"device": "b", "pullOpsMax": 3, "verify": ["CF-0005"]}])

    # 6. A record moving between cells.
    a, b, c = Writer(601), Writer(602), Writer(603)
    h = "CONFORMMOVE000000000000001"
    create = a.op("households", h, household("CF-0006", "CF0006-00001", "赵敏", "13900000061"))
    move = a.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("cell", text("CF-0007"), [create["id"]]),
                                  s("doorplate", text("CF0007-00001"), [create["id"]])], at=1000)
    write("06-move-between-cells", "a household moves from one cell to another: the old cell's device lets it go, the new one's receives its whole history",
          {"a": {"replica": a.id, "cells": ["CF-0006", "CF-0007"]}, "b": {"replica": b.id, "cells": ["CF-0007"]},
           "c": {"replica": c.id, "cells": ["CF-0006"]}},
          [{"device": "a", "push": [create]},
           {"device": "b", "verify": ["CF-0007"]},
           {"device": "c", "verify": ["CF-0006"]},
           {"device": "a", "push": [move], "verify": ["CF-0006", "CF-0007"]},
           {"device": "b", "verify": ["CF-0007"]},
           {"device": "c", "verify": ["CF-0006"]}])

    # 7. Quarantine and release; a push out of scope.
    a, b = Writer(701), Writer(702)
    h = "CONFORMHELD000000000000001"
    create = a.op("households", h, household("CF-0008", "CF0008-00001", "周杰", "13900000081"))
    ahead = a.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("member_count", {"int": 9}, [create["id"]])])
    ahead["hlc"] = "4102444800000.0"   # 2100-01-01: far ahead of any node's clock
    stray = b.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("phone", text("13900000089"), [create["id"]])])
    write("07-quarantine-and-release", "a write stamped in 2100 is held (clockDrift) until an operator releases it; a device edits a record of a cell it never served (held, outOfScope)",
          {"a": {"replica": a.id, "cells": ["CF-0008"]}, "b": {"replica": b.id, "cells": ["CF-0009"]}},
          [{"device": "a", "push": [create, ahead], "verify": ["CF-0008"]},
           {"device": "b", "push": [stray]},
           {"operator": "release", "op": ahead["id"]},
           {"device": "a", "verify": ["CF-0008"]}])

    # 8. Erasure.
    a, b = Writer(801), Writer(802)
    h = "CONFORMERASE00000000000001"
    create = a.op("households", h, household("CF-0010", "CF0010-00001", "吴霞", "13900000101"))
    offline = b.op("households", h, [s("_exists", {"bool": True}, [create["id"]]), s("phone", text("13900000102"), [create["id"]])], at=1000)
    write("08-erasure", "an operator erases a household; an older offline edit arrives erased; a write that saw the erasure is new data",
          {"a": {"replica": a.id, "cells": ["CF-0010"]}, "b": {"replica": b.id, "cells": ["CF-0010"]}},
          [{"device": "a", "push": [create]},
           {"device": "b", "verify": ["CF-0010"]},
           {"operator": "erase", "collection": "households", "entity": h},
           {"device": "b", "about": "its edit made before the erasure", "push": [offline], "verify": ["CF-0010"]},
           {"device": "a", "verify": ["CF-0010"]},
           {"device": "a", "about": "a write that lists the erasure", "push": [a.op("households", h, [
               s("_exists", {"bool": True}, [offline["id"]]), s("phone", text("13900000103"), [offline["id"]]),
               {"field": "_erase", "prev": ["node.ERASURE"], "set": {"bool": False}}], at=2000)], "verify": ["CF-0010"]},
           {"device": "b", "verify": ["CF-0010"]}])

    # 9. Refusals.
    a, b = Writer(901), Writer(902)
    h = "CONFORMREFUSE0000000000001"
    first = a.op("households", h, household("CF-0011", "CF0011-00001", "郑强", "13900000111"))
    second = a.op("households", h, [s("_exists", {"bool": True}, [first["id"]]), s("member_count", {"int": 2}, [first["id"]])])
    third = a.op("households", h, [s("_exists", {"bool": True}, [second["id"]]), s("member_count", {"int": 3}, [second["id"]])])
    reused = dict(first, assignments=first["assignments"][:1] + [s("cell", text("CF-0011")), s("phone", text("13900000119"))])
    foreign = b.op("households", h, [s("_exists", {"bool": True}, [first["id"]])])
    write("09-refusals", "pushes refused whole: a gap in the sequence, an operation id reused with other content, another replica's operation",
          {"a": {"replica": a.id, "cells": ["CF-0011"]}},
          [{"device": "a", "push": [first]},
           {"device": "a", "about": "starts at 3 when the node has 1", "push": [third]},
           {"device": "a", "about": "operation 1 again, other content", "push": [reused, second]},
           {"device": "a", "about": "b's operation in a's push", "push": [foreign]},
           {"device": "a", "push": [second, third], "verify": ["CF-0011"]}])


if __name__ == "__main__":
    scenarios()
