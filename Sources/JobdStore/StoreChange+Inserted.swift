import JobdModel

extension StoreChange {
    /// The feed's changes for an insert: created jobs, grouped by consecutive submitter.
    public static func insertedChanges(_ outcomes: [InsertOutcome], submitters: [UInt32?]) -> [StoreChange] {
        var changes: [StoreChange] = []
        var ids: [JobID] = []
        var current: UInt32?
        for (outcome, submitter) in zip(outcomes, submitters) where outcome.created {
            if !ids.isEmpty && submitter != current {
                changes.append(.inserted(ids, submitterUID: current))
                ids.removeAll()
            }
            current = submitter
            ids.append(outcome.id)
        }
        if !ids.isEmpty { changes.append(.inserted(ids, submitterUID: current)) }
        return changes
    }
}
