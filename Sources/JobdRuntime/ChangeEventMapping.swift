import JobdModel
import JobdStore

/// Turns the store's committed changes into the events of `GET /v1/events` and the wake-ups
/// of waiters.
///
/// It runs on the change feed's thread (the store's, right after each commit), so events
/// keep commit order and are out before any later write of the store is acted on.
enum ChangeEventMapping {
    /// Publishes the events of one change.
    static func publish(_ change: StoreChange, to events: EventBroadcaster) {
        switch change {
        case .inserted(let ids, let owner):
            for id in ids {
                events.publish(.submitted, jobID: id, state: .queued, submitterUID: owner)
            }
        case .cancelled(let id, let owner):
            events.publish(.cancelled, jobID: id, state: .cancelled, submitterUID: owner)
        case .requeued(let id, let owner):
            events.publish(.requeued, jobID: id, state: .queued, submitterUID: owner)
        case .started(let attempts):
            for attempt in attempts {
                events.publish(
                    .started, jobID: attempt.jobID, state: .running, attempt: attempt.attemptNumber,
                    submitterUID: attempt.submitterUID)
            }
        case .finished(let finish):
            publish(finish, to: events)
        case .rescued(let attempts):
            for attempt in attempts { publishRescued(attempt, to: events) }
        case .batchCompleted(let completion):
            // The batch's end state, spelled as a job state (`succeeded` or `failed`).
            events.publishBatch(
                .batchCompleted, batchID: completion.batchID,
                state: completion.state == .succeeded ? .succeeded : .failed, jobID: completion.onCompleteID,
                submitterUID: completion.submitterUID)
            if let released = completion.onCompleteID {
                events.publish(.released, jobID: released, state: .queued, submitterUID: completion.submitterUID)
            }
        case .dependencies(let transitions):
            for transition in transitions {
                let (id, owner) = (transition.jobID, transition.submitterUID)
                switch transition.kind {
                case .waiting:
                    events.publish(.waiting, jobID: id, state: .waiting, submitterUID: owner)
                case .released:
                    events.publish(.released, jobID: id, state: .queued, submitterUID: owner)
                case .failed(let parent, let parentState):
                    events.publish(
                        .dependencyFailed, jobID: id, state: .cancelled,
                        error: DependencyTransition.error(parent: parent, state: parentState), submitterUID: owner)
                }
            }
        case .leaseLost, .resynchronized, .cancelRequested, .pauseChanged, .schedulesChanged, .leadershipChanged:
            break
        }
    }

    /// The events of a recorded attempt end: one for the attempt, and one for where the job
    /// went (a retry, or its terminal state).
    private static func publish(_ finish: FinishedAttempt, to events: EventBroadcaster) {
        let id = finish.jobID
        let attempt = finish.attemptNumber
        let owner = finish.submitterUID
        let error = finish.error
        switch finish.outcome {
        case .succeeded, .running:
            events.publish(.succeeded, jobID: id, state: .succeeded, attempt: attempt, submitterUID: owner)
        case .failed:
            events.publish(
                .attemptFailed, jobID: id, state: finish.jobState, attempt: attempt, error: error,
                submitterUID: owner)
            if let retryAt = finish.retryAt {
                events.publish(
                    .retryScheduled, jobID: id, state: .queued, attempt: attempt, runAt: retryAt, submitterUID: owner)
            } else {
                events.publish(.failed, jobID: id, state: .failed, attempt: attempt, error: error, submitterUID: owner)
            }
        case .cancelled:
            events.publish(
                .cancelled, jobID: id, state: .cancelled, attempt: attempt, error: error, submitterUID: owner)
        case .interrupted:
            events.publish(.interrupted, jobID: id, state: .queued, attempt: attempt, error: error, submitterUID: owner)
        }
    }

    /// The events of a rescued attempt: `interrupted`, then `failed` when the job ended
    /// (its policy is `fail`, or it was interrupted too often).
    private static func publishRescued(_ rescued: FinishedAttempt, to events: EventBroadcaster) {
        let failed = rescued.retryAt == nil
        events.publish(
            .interrupted, jobID: rescued.jobID, state: failed ? .failed : .queued, attempt: rescued.attemptNumber,
            error: rescued.error, submitterUID: rescued.submitterUID)
        if failed {
            events.publish(
                .failed, jobID: rescued.jobID, state: .failed, attempt: rescued.attemptNumber, error: rescued.error,
                submitterUID: rescued.submitterUID)
        }
    }

    /// The job a change ended for good, if any: its waiters are woken.
    static func terminalJob(of change: StoreChange) -> [JobID] {
        switch change {
        case .finished(let finish): finish.jobState.isTerminal ? [finish.jobID] : []
        case .cancelled(let id, _): [id]
        case .rescued(let attempts): attempts.filter { $0.retryAt == nil }.map(\.jobID)
        case .dependencies(let transitions):
            transitions.compactMap { if case .failed = $0.kind { $0.jobID } else { nil } }
        case .inserted, .requeued, .started, .leaseLost, .resynchronized, .cancelRequested, .pauseChanged,
            .batchCompleted, .schedulesChanged, .leadershipChanged:
            []
        }
    }
}
