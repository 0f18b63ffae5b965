import SyncKit

/// One generated household record, as the app has it before writing: plain Swift values that
/// both SyncKit and the plain-SQLite baseline turn into their own input.
struct Household {
    var id: EntityID
    var cell: String
    var doorplateCode: String
    var unitRoom: String
    var headName: String
    var memberCount: Int64
    var phone: String
    var status: String
    var visitCount: Int64
    var lastVisitDate: String
    /// In canonical order (by UTF-8 bytes), as SyncKit renders a set column.
    var tags: [String]
    var notes: String

    /// The register and counter values of `WriteTransaction.insert`.
    var syncValues: [String: Value] {
        [
            "cell": .text(cell), "doorplate_code": .text(doorplateCode), "unit_room": .text(unitRoom),
            "head_name": .text(headName), "member_count": .int(memberCount), "phone": .text(phone),
            "status": .text(status), "visit_count": .int(visitCount), "last_visit_date": .text(lastVisitDate),
            "notes": .text(notes),
        ]
    }

    /// The set elements of `WriteTransaction.insert`.
    var syncElements: [String: [Value]] {
        tags.isEmpty ? [:] : ["tags": tags.map(Value.text)]
    }

    /// The plain row's column values in schema field order (tags as a JSON array, NULL when
    /// empty, as SyncKit's plain table shows them).
    var plainValues: [Value] {
        [
            .text(cell), .text(doorplateCode), .text(unitRoom), .text(headName), .int(memberCount),
            .text(phone), .text(status), .int(visitCount), .text(lastVisitDate),
            tags.isEmpty ? .null : .text(PlainJSON.array(tags)), .text(notes),
        ]
    }
}
