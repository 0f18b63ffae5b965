import SyncKit

/// One timed local write of the write benchmarks: a new phone number for a record.
struct PhoneWrite {
    var id: EntityID
    var phone: String
}
