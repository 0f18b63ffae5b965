/// One generated grid cell: its doorplates, households and tasks.
///
/// ```swift
/// let cell = DistrictGenerator(seed: 7).cell(at: 0)
/// try store.importRecords(doorplates: cell.doorplates, households: cell.households)
/// for task in cell.tasks { try store.addTask(task) }
/// ```
public struct GeneratedCell: Sendable, Hashable {
    public let cell: GridCell
    public let doorplates: [DoorplateDraft]
    public let households: [Household]
    public let tasks: [TaskDraft]
}
