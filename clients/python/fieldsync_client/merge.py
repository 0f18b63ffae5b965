"""The merge rules of PROTOCOL.md, section 6, and the digest of section 10.

Values are Python tuples so that they hash and compare: ``None`` (null), ``("int", n)``,
``("real", x)``, ``("text", s)``, ``("bool", b)``, ``("blob", bytes)``. Op ids are their text
form (``"<32 hex>.<seq>"``); clock readings are ``(millis, counter)``.
"""

import base64
import hashlib
import struct

EXISTS = "_exists"
ERASE = "_erase"


# --- values -------------------------------------------------------------------------------

def value_from_json(v):
    """A wire value (PROTOCOL.md section 5) as a tuple."""
    if v is None:
        return None
    if not isinstance(v, dict) or len(v) != 1:
        raise ValueError(f"a value is null or an object with one key; got {v!r}")
    (kind, payload), = v.items()
    if kind == "blob":
        return ("blob", base64.b64decode(payload))
    if kind in ("int", "real", "text", "bool"):
        return (kind, float(payload) if kind == "real" else payload)
    raise ValueError(f"unknown value type {kind!r}")


def value_to_json(v):
    if v is None:
        return None
    if v[0] == "blob":
        return {"blob": base64.b64encode(v[1]).decode()}
    return {v[0]: v[1]}


_RANK = {"int": 1, "real": 2, "text": 3, "bool": 4, "blob": 5}


def value_order(v):
    """The canonical order of values (PROTOCOL.md section 10)."""
    if v is None:
        return (0,)
    kind, x = v
    if kind == "real":
        return (2, x, struct.unpack(">Q", struct.pack(">d", x))[0])
    if kind == "text":
        return (3, x.encode())
    return (_RANK[kind], x)


def parse_hlc(text):
    millis, counter = text.split(".")
    return (int(millis), int(counter))


def op_key(op_id):
    """(replica bytes as hex, seq) for ordering stamps."""
    replica, seq = op_id.split(".")
    return replica, int(seq)


def stamp(op_id, hlc):
    replica, seq = op_key(op_id)
    return (hlc, replica, seq)


# --- merge state --------------------------------------------------------------------------

class Register:
    def __init__(self):
        self.heads = {}        # op id -> (hlc, value)
        self.pending = set()   # op ids superseded before they arrived

    def write(self, op, hlc, value, prev, is_applied):
        for superseded in prev:
            if superseded == op:
                continue
            if superseded in self.heads:
                del self.heads[superseded]
            elif superseded not in self.pending and not is_applied(superseded):
                self.pending.add(superseded)
        if op in self.pending:
            self.pending.discard(op)
            return
        if op not in self.heads:
            self.heads[op] = (hlc, value)

    def ordered(self, rank=None):
        """Heads, visible first: by rank (lifecycle precedence, existence) then greatest stamp."""
        def key(item):
            op, (hlc, value) = item
            return ((rank(value) if rank else 0), stamp(op, hlc))
        return sorted(self.heads.items(), key=key, reverse=True)

    def visible(self, rank=None):
        heads = self.ordered(rank)
        return heads[0][1][1] if heads else None

    def in_conflict(self):
        return len({value for (_, value) in self.heads.values()}) > 1


class SetField:
    def __init__(self):
        self.elements = {}     # value -> set of tags
        self.pending = set()   # (tag, value) removals seen before their add

    def add(self, element, tag):
        if (tag, element) in self.pending:
            self.pending.discard((tag, element))
            return
        self.elements.setdefault(element, set()).add(tag)

    def remove(self, element, tags, is_applied):
        for tag in tags:
            live = self.elements.get(element)
            if live and tag in live:
                live.discard(tag)
                if not live:
                    del self.elements[element]
            elif (tag, element) not in self.pending and not is_applied(tag):
                self.pending.add((tag, element))

    def present(self):
        return sorted(self.elements, key=value_order)


class Record:
    def __init__(self):
        self.exists = Register()
        self.registers = {}
        self.counters = {}
        self.sets = {}
        self.erasures = set()
        self.covers = {}       # replica hex -> highest seq the state reflects

    def covered(self, op_id):
        replica, seq = op_key(op_id)
        return seq <= self.covers.get(replica, 0)


def erasures_of(op):
    """The erasures an operation descends from (PROTOCOL.md 6.6)."""
    for a in op["assignments"]:
        if a.get("field") == ERASE and "set" in a:
            listed = list(a.get("prev", []))
            if a["set"] == {"bool": True}:
                listed.append(op["id"])
            return listed
    return []


def erased(assignment):
    """An assignment with its value erased (null), everything else kept."""
    a = dict(assignment)
    for key in ("set", "add", "remove"):
        if key in a:
            a[key] = None
    return a


class Schema:
    """The document GET /v1/schema serves (PROTOCOL.md section 4)."""

    def __init__(self, document):
        self.document = document
        self.hash = document["hash"]
        self.collections = {c["name"]: c for c in document["collections"]}

    def fields(self, collection):
        return {f["name"]: f for f in self.collections[collection]["fields"]}

    def rank(self, collection, field):
        f = self.fields(collection)[field]
        if f["policy"] != "lifecycle":
            return None
        precedence = f["lifecycle"]["precedence"]
        return lambda v: precedence.index(v[1]) if v is not None and v[0] == "text" and v[1] in precedence else -1

    def personal(self, collection):
        return {name for name, f in self.fields(collection).items() if f["personal"]}


def existence_rank(value):
    return 1 if value == ("bool", True) else 0


class Replica:
    """Records merged per PROTOCOL.md section 6, in memory."""

    def __init__(self, schema):
        self.schema = schema
        self.records = {}      # (collection, entity) -> Record
        self.applied = set()   # op ids applied
        self.quarantine = []

    def record(self, collection, entity):
        return self.records.setdefault((collection, entity), Record())

    def apply(self, op):
        """Merges one operation (dict, wire form); False for a duplicate."""
        if op["collection"] not in self.schema.collections:
            self.quarantine.append(op)
            return False
        rec = self.record(op["collection"], op["entity"])
        if op["id"] in self.applied or rec.covered(op["id"]):
            return False
        fields = self.schema.fields(op["collection"])
        personal = self.schema.personal(op["collection"])
        listed = erasures_of(op)
        assignments = op["assignments"]
        if rec.erasures - set(listed):
            assignments = [erased(a) if a.get("field") in personal else a for a in assignments]
        new = set(listed) - rec.erasures
        if new:
            rec.erasures |= new
            for name in personal:
                if name in rec.registers:
                    reg = rec.registers[name]
                    reg.heads = {op_id: (hlc, None) for op_id, (hlc, _) in reg.heads.items()}
                rec.sets.pop(name, None)

        def is_applied(op_id):
            return op_id in self.applied or rec.covered(op_id)

        hlc = parse_hlc(op["hlc"])
        for a in assignments:
            name = a["field"]
            if name == ERASE:
                continue
            if "set" in a:
                value = value_from_json(a["set"])
                if name == EXISTS:
                    rec.exists.write(op["id"], hlc, value, a.get("prev", []), is_applied)
                elif name in fields:
                    rec.registers.setdefault(name, Register()).write(op["id"], hlc, value, a.get("prev", []), is_applied)
            elif "increment" in a:
                total = rec.counters.get(name, 0) + a["increment"]
                rec.counters[name] = (total + 2**63) % 2**64 - 2**63
            elif "add" in a:
                if a["add"] is not None:
                    rec.sets.setdefault(name, SetField()).add(value_from_json(a["add"]), op["id"])
            elif "remove" in a:
                if a["remove"] is not None:
                    rec.sets.setdefault(name, SetField()).remove(value_from_json(a["remove"]), a.get("tags", []), is_applied)
        self.applied.add(op["id"])
        return True

    def install(self, snap):
        """Replaces a record's state with a snapshot record (form 1, PROTOCOL.md section 9)."""
        rec = Record()
        refs = [(r[0], parse_hlc(r[1])) for r in snap["refs"]]
        pending = snap.get("pending", {})

        def register(heads, name):
            reg = Register()
            for index, value in heads:
                op_id, hlc = refs[index]
                reg.heads[op_id] = (hlc, value_from_json(value))
            reg.pending = set(pending.get(name, []))
            return reg

        rec.exists = register(snap["exists"], EXISTS)
        for name, heads in snap.get("registers", {}).items():
            rec.registers[name] = register(heads, name)
        for name in pending:
            if name != EXISTS and name not in rec.registers:
                rec.registers[name] = register([], name)
        rec.counters = dict(snap.get("counters", {}))
        for name, elements in snap.get("sets", {}).items():
            s = rec.sets.setdefault(name, SetField())
            for value, tags in elements:
                s.elements[value_from_json(value)] = {refs[t][0] for t in tags}
        for name, removals in snap.get("setPending", {}).items():
            s = rec.sets.setdefault(name, SetField())
            for value, tag in removals:
                s.pending.add((tag, value_from_json(value)))
        rec.erasures = set(snap.get("erasures", []))
        rec.covers = dict(snap["covers"])
        self.records[(snap["collection"], snap["entity"])] = rec
        return rec

    # --- reading ----------------------------------------------------------------------------

    def values(self, collection, entity):
        """Every field's visible value (PROTOCOL.md section 10), and whether the record is live."""
        rec = self.records[(collection, entity)]
        result = {}
        for name, f in self.schema.fields(collection).items():
            if f["policy"] == "counter":
                result[name] = ("int", rec.counters.get(name, 0))
            elif f["policy"] == "set":
                present = rec.sets[name].present() if name in rec.sets else []
                result[name] = ("text", "[" + ",".join(json_scalar(v) for v in present) + "]") if present else None
            else:
                reg = rec.registers.get(name)
                result[name] = reg.visible(self.schema.rank(collection, name)) if reg else None
        return result, rec.exists.visible(existence_rank) == ("bool", True)

    def conflicts(self, collection, entity):
        rec = self.records[(collection, entity)]
        found = {}
        if rec.exists.in_conflict():
            found[EXISTS] = sorted({v for (_, v) in rec.exists.heads.values()}, key=value_order)
        for name, reg in rec.registers.items():
            if reg.in_conflict():
                found[name] = sorted({v for (_, v) in reg.heads.values()}, key=value_order)
        return found

    def digest(self, cell):
        """A cell's digest (PROTOCOL.md section 10), 64 hex digits."""
        total = hashlib.sha256()
        for name in sorted(self.schema.collections, key=lambda n: n.encode()):
            cell_field = self.schema.collections[name].get("cellField")
            if cell_field is None:
                continue
            entries = []
            for (collection, entity), rec in self.records.items():
                if collection != name or not rec.exists.heads:
                    continue
                values, live = self.values(collection, entity)
                if values.get(cell_field) != ("text", cell):
                    continue
                out = bytearray(string_bytes(entity))
                out.append(1 if live else 0)
                for field in sorted(values, key=lambda n: n.encode()):
                    out += string_bytes(field) + value_bytes(values[field])
                conflicts = self.conflicts(collection, entity)
                for field in sorted(conflicts, key=lambda n: n.encode()):
                    out += string_bytes(field) + varint(len(conflicts[field]))
                    for v in conflicts[field]:
                        out += value_bytes(v)
                entries.append((entity.encode(), hashlib.sha256(out).digest()))
            entries.sort()
            collection_hash = hashlib.sha256(string_bytes(name) + varint(len(entries)))
            for _, h in entries:
                collection_hash.update(h)
            total.update(collection_hash.digest())
        return total.hexdigest()


# --- canonical bytes (PROTOCOL.md section 10) -----------------------------------------------

def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def string_bytes(text):
    data = text.encode()
    return varint(len(data)) + data


def value_bytes(v):
    if v is None:
        return b"\x00"
    kind, x = v
    if kind == "int":
        return b"\x01" + varint(((x << 1) ^ (x >> 63)) & 0xFFFFFFFFFFFFFFFF)
    if kind == "real":
        return b"\x02" + struct.pack(">d", x)
    if kind == "text":
        return b"\x03" + string_bytes(x)
    if kind == "bool":
        return b"\x05" if x else b"\x04"
    return b"\x06" + varint(len(x)) + x


def json_scalar(v):
    """A set element in the column's JSON text."""
    if v is None:
        return "null"
    kind, x = v
    if kind == "int":
        return str(x)
    if kind == "real":
        return repr(x)
    if kind == "bool":
        return "true" if x else "false"
    if kind == "blob":
        return quoted(base64.b64encode(x).decode())
    return quoted(x)


def quoted(text):
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# --- compact snapshot pages (PROTOCOL.md section 9, form 2) ---------------------------------

def bare_value(v):
    """A form-2 bare value as a tuple: a string is text, an integer an int, a number with a
    fraction or an exponent a real, true/false a bool, {"b": base64} a blob, null null."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("real", v)
    if isinstance(v, str):
        return ("text", v)
    if isinstance(v, dict) and set(v) == {"b"}:
        return ("blob", base64.b64decode(v["b"]))
    raise ValueError(f"not a bare value: {v!r}")


def spelled_out(page):
    """The records of a form-2 page in form 1's shape (what `Replica.install` takes)."""
    if page.get("form", 1) == 1:
        return page["records"]
    replicas = page["replicas"]
    collections = sorted(page["fields"], key=lambda n: n.encode())
    records = []
    for record in page["records"]:
        collection, entity, refs, covers, exists, entries = record[:6]
        extra = record[6] if len(record) > 6 else {}
        name = collections[collection]
        refs = [(f"{replicas[r]}.{seq}", f"{millis}.{counter}") for r, seq, millis, counter in refs]

        def heads(entry):
            if entry is None:
                return None
            if isinstance(entry, list):
                pairs = entry if entry and isinstance(entry[0], list) else [entry]
                return [[ref, value_to_json(bare_value(v))] for ref, v in pairs]
            return [[0, value_to_json(bare_value(entry))]]

        out = {"collection": name, "entity": entity, "refs": [list(r) for r in refs],
               "covers": {replicas[r]: seq for r, seq in covers}, "exists": heads(exists) or [],
               "registers": {}, "counters": {}, "sets": {}}
        for (field, kind), entry in zip(page["fields"][name], entries):
            if entry is None:
                continue
            if kind == "r":
                out["registers"][field] = heads(entry)
            elif kind == "c":
                out["counters"][field] = entry
            else:
                out["sets"][field] = [[value_to_json(bare_value(v)), tags] for v, tags in entry]
        if "pending" in extra:
            out["pending"] = extra["pending"]
        if "setPending" in extra:
            out["setPending"] = {f: [[value_to_json(bare_value(v)), tag] for v, tag in removals]
                                 for f, removals in extra["setPending"].items()}
        if "erasures" in extra:
            out["erasures"] = extra["erasures"]
        records.append(out)
    return records
