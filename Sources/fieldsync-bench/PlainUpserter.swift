import SyncKit

/// What plain SQLite does for a received operation without merge rules: an upsert of the op's
/// field values into the plain table (`INSERT ... ON CONFLICT(id) DO UPDATE SET ...`), with one
/// prepared statement per set of columns, reused.
///
///     let upserter = try PlainUpserter(baseline: plain)
///     try plain.db.transaction { for op in chunk { try upserter.upsert(op) } }
///
/// A counter increment adds to the column; a set add stores the element as a one-element JSON
/// array (no read-modify-write); a delete deletes the row.
final class PlainUpserter {
    private let baseline: Baseline
    private let columnByField: [String: Int]
    private var statements: [UInt64: Statement] = [:]
    private let delete: Statement

    init(baseline: Baseline) throws {
        self.baseline = baseline
        precondition(baseline.schema.fields.count <= 64, "the column mask holds at most 64 fields")
        var columns: [String: Int] = [:]
        for (index, field) in baseline.schema.fields.enumerated() { columns[field.name] = index }
        columnByField = columns
        delete = try baseline.db.prepare("DELETE FROM \(Baseline.table) WHERE id = ?")
    }

    func upsert(_ op: Op) throws {
        guard op.collection == baseline.schema.name else {
            throw BenchError("operation \(op.id) is for collection \(op.collection), not \(baseline.schema.name)")
        }
        var mask: UInt64 = 0
        var values: [(column: Int, value: Value)] = []
        var added: [Int: [String]] = [:]
        var removed = Set<Int>()
        values.reserveCapacity(op.assignments.count)
        for assignment in op.assignments {
            if assignment.field == Assignment.existenceField {
                if case .set(.bool(false), _) = assignment.change { try baseline.run(delete, [.text(op.entity.rawValue)]); return }
                continue
            }
            guard let column = columnByField[assignment.field] else {
                throw BenchError("operation \(op.id) names field \(assignment.field), not in \(baseline.schema.name)")
            }
            mask |= 1 << UInt64(column)
            switch assignment.change {
            case .set(let value, _): values.append((column, value))
            case .increment(let delta): values.append((column, .int(delta)))
            case .add(let element): added[column, default: []].append(element.text ?? element.description)
            case .remove: removed.insert(column)
            }
        }
        // A new record's set elements come as one add each: they fill one JSON array. (A re-add
        // removes the element's old tags in the same operation: the add decides the column.)
        for (column, elements) in added { values.append((column, .text(PlainJSON.array(elements)))) }
        for column in removed where added[column] == nil { values.append((column, .null)) }
        values.sort { $0.column < $1.column }
        try baseline.run(try statement(for: mask), [.text(op.entity.rawValue)] + values.map(\.value))
    }

    private func statement(for mask: UInt64) throws -> Statement {
        if let cached = statements[mask] { return cached }
        let fields = baseline.schema.fields.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
        let names = fields.map { Baseline.quoted($0.name) }
        var sql = "INSERT INTO \(Baseline.table)(\((["id"] + names).joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count + 1).joined(separator: ", "))) ON CONFLICT(id) DO "
        if fields.isEmpty {
            sql += "NOTHING"
        } else {
            sql += "UPDATE SET " + zip(fields, names).map { field, name in
                field.policy == .counter ? "\(name) = \(name) + excluded.\(name)" : "\(name) = excluded.\(name)"
            }.joined(separator: ", ")
        }
        let statement = try baseline.db.prepare(sql)
        statements[mask] = statement
        return statement
    }
}
