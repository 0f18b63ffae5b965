import SyncKit

/// Tasks: create, list by due date, and move along the task lifecycle with a history.
///
/// Reassignment while the old assignee is offline: the office's `assignTask` writes the new
/// assignee and `assigned`; the old assignee's `startTask`/`completeTask` write `in_progress` or
/// `done` and `completed_by`. After sync every replica shows the new assignee (the only write to
/// `assignee`), the status of highest precedence (`done` beats `assigned`, so finished work is
/// never hidden; `completed_by` names the old assignee's device), a `status` conflict for the
/// office to review, and the history of both devices. The old assignee sees the task as done by
/// them and assigned to someone else: it leaves their open-work list, nothing of theirs is lost.
/// If they had only started it, `in_progress` beats `assigned` and the office decides in review.
extension FieldStore {
    /// Creates a task: `assigned` when it has an assignee, else `open`.
    @discardableResult
    public func addTask(_ draft: TaskDraft) throws -> FieldTask {
        let assignee = try draft.assignee.map(FieldRules.assignee)
        if case .doorplate(let code) = draft.target, GridCell(of: code) != draft.cell {
            throw FieldError(.invalidValue, field: "cell",
                "doorplate \(code.canonical) belongs to cell \(GridCell(of: code).id), not \(draft.cell.id); create the task in its cell")
        }
        let status: TaskStatus = assignee == nil ? .open : .assigned
        let entry = TaskHistoryEntry(atMillis: nowMillis(), device: deviceID, from: nil, to: status, assignee: assignee)
        let id = try replica.write { tx in
            if case .household(let householdID) = draft.target, let household = try tx.record(FieldModel.households, householdID),
               household["cell"].text != draft.cell.id {
                throw FieldError(.invalidValue, field: "cell",
                    "household \(householdID) belongs to cell \(household["cell"].text ?? "?"), not \(draft.cell.id); create the task in its cell")
            }
            return try tx.insert(FieldModel.tasks, [
                "cell": .text(draft.cell.id), "kind": .text(draft.kind.rawValue), "target": .text(draft.target.storedText),
                "assignee": Self.text(assignee), "priority": .text(draft.priority.rawValue),
                "due_on": .text(draft.dueOn.description), "status": .text(status.rawValue),
            ].filter { !$0.value.isNull }, elements: ["history": [.text(entry.storedText)]])
        }
        return try requireTask(id)
    }

    /// Gives the task to `assignee` (status `assigned`): from open, assigned (a reassignment) or
    /// in progress (handed over).
    @discardableResult
    public func assignTask(_ id: EntityID, to assignee: String) throws -> FieldTask {
        try moveTask(id, to: .assigned, assignee: try FieldRules.assignee(assignee))
    }

    /// The assignee starts work: `in_progress`.
    @discardableResult
    public func startTask(_ id: EntityID) throws -> FieldTask { try moveTask(id, to: .inProgress) }

    /// The work is done: `done`, with this device as `completed_by`.
    @discardableResult
    public func completeTask(_ id: EntityID) throws -> FieldTask { try moveTask(id, to: .done) }

    /// A supervisor confirms the work: `verified` (final).
    @discardableResult
    public func verifyTask(_ id: EntityID) throws -> FieldTask { try moveTask(id, to: .verified) }

    /// The office calls the task off: `cancelled`.
    @discardableResult
    public func cancelTask(_ id: EntityID) throws -> FieldTask { try moveTask(id, to: .cancelled) }

    /// Moves a task to `status` if the lifecycle allows it from the status shown now, recording
    /// who and when in the history. Moving to the status it already has changes nothing, except
    /// `assigned` with a different assignee (a reassignment).
    @discardableResult
    public func moveTask(_ id: EntityID, to status: TaskStatus, assignee: String? = nil) throws -> FieldTask {
        let now = nowMillis()
        try replica.write { tx in
            guard let record = try tx.record(FieldModel.tasks, id) else { throw Self.unknownTask(id) }
            let fields = RecordFields(record)
            let current = try fields.enumeration("status", TaskStatus.self)
            let reassigns = assignee != nil && assignee != fields.text("assignee")
            if current == status, !reassigns { return }
            guard current.allows(status) else {
                let legal = current.legalNext.map(\.rawValue).joined(separator: ", ")
                throw FieldError(.illegalTransition, field: "status",
                    "task cannot go from \(current.rawValue) to \(status.rawValue); from \(current.rawValue) it may go to: \(legal.isEmpty ? "nothing (final)" : legal)")
            }
            if status == .assigned, assignee == nil, fields.text("assignee") == nil {
                throw FieldError(.invalidValue, field: "assignee", "an assigned task needs an assignee; use assignTask")
            }
            var values: [String: Value] = ["status": .text(status.rawValue)]
            if let assignee { values["assignee"] = .text(assignee) }
            if status == .open { values["assignee"] = .null }
            if status == .done { values["completed_by"] = .text(deviceID) }
            try tx.update(FieldModel.tasks, id, values)
            let entry = TaskHistoryEntry(atMillis: now, device: deviceID, from: current, to: status, assignee: assignee)
            try tx.add(FieldModel.tasks, id, "history", .text(entry.storedText))
        }
        return try requireTask(id)
    }

    /// Adds a note; notes from every device are kept.
    @discardableResult
    public func addTaskNote(_ id: EntityID, _ text: String) throws -> FieldTask {
        let checked = try FieldRules.notes(text)
        guard !checked.allSatisfy(\.isWhitespace) else {
            throw FieldError(.invalidValue, field: "notes", "the note is empty; type what happened")
        }
        let note = TaskNote(atMillis: nowMillis(), device: deviceID, text: checked)
        try replica.write { tx in
            guard try tx.record(FieldModel.tasks, id) != nil else { throw Self.unknownTask(id) }
            try tx.add(FieldModel.tasks, id, "notes", .text(note.storedText))
        }
        return try requireTask(id)
    }

    /// The task with this id, or nil.
    public func task(_ id: EntityID) throws -> FieldTask? {
        guard let record = try replica.record(FieldModel.tasks, id) else { return nil }
        return try Self.task(from: record, conflicts: conflictedFields(FieldModel.tasks, id))
    }

    /// Tasks (of one cell, of one assignee, unfinished only if asked), soonest due first, then
    /// most urgent, then by id.
    public func tasks(cell: GridCell? = nil, assignee: String? = nil, unfinishedOnly: Bool = false) throws -> [FieldTask] {
        let conflicts = try conflictedFields(FieldModel.tasks)
        var result: [FieldTask] = []
        try forEachRecord(FieldModel.tasks, cell: cell) { record in
            if let assignee, record["assignee"].text != assignee { return }
            let task = try Self.task(from: record, conflicts: conflicts[record.id] ?? [])
            if unfinishedOnly, task.status.isFinished { return }
            result.append(task)
        }
        return result.sorted { a, b in
            if a.dueOn != b.dueOn { return a.dueOn < b.dueOn }
            if a.priority != b.priority { return a.priority > b.priority }
            return a.id < b.id
        }
    }

    // MARK: Mapping

    func requireTask(_ id: EntityID) throws -> FieldTask {
        guard let task = try task(id) else { throw Self.unknownTask(id) }
        return task
    }

    static func unknownTask(_ id: EntityID) -> FieldError {
        FieldError(.notFound, "task \(id) is not on this device; sync first")
    }

    static func task(from record: Record, conflicts: [String]) throws -> FieldTask {
        let fields = RecordFields(record)
        let cellText = try fields.requiredText("cell")
        guard let cell = try? GridCell(parsing: cellText), let due = try fields.day("due_on") else { throw fields.missing("due_on") }
        let target: TaskTarget
        do { target = try TaskTarget(storedText: try fields.requiredText("target")) } catch { throw fields.missing("target") }
        return FieldTask(
            id: record.id, kind: try fields.enumeration("kind", TaskKind.self), target: target, cell: cell, dueOn: due,
            assignee: fields.text("assignee"), priority: try fields.enumeration("priority", TaskPriority.self),
            status: try fields.enumeration("status", TaskStatus.self), completedBy: fields.text("completed_by"),
            notes: fields.elements("notes").compactMap(TaskNote.init(storedText:)).sorted(),
            history: fields.elements("history").compactMap(TaskHistoryEntry.init(storedText:)).sorted(),
            conflictedFields: conflicts.sorted())
    }
}
