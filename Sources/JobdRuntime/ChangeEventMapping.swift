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
        case .finished(let finish):
            publish(finish, to: events)
        }
    }

    /// The events of a recorded attempt end: one for the attempt, and one for where the job
    /// went (a retry, or its terminal state).
    private static func publish(_ finish: AttemptFinish, to events: EventBroadcaster) {
        let id = finish.jobID
        let attempt = finish.attempt.number
        let owner = finish.submitterUID
        switch finish.end {
        case .succeeded:
            events.publish(.succeeded, jobID: id, state: .succeeded, attempt: attempt, submitterUID: owner)
        case .failed(let error, _, let retryAt):
            events.publish(
                .attemptFailed, jobID: id, state: retryAt == nil ? .failed : .queued, attempt: attempt, error: error,
                submitterUID: owner)
            if let retryAt {
                events.publish(
                    .retryScheduled, jobID: id, state: .queued, attempt: attempt, runAt: retryAt, submitterUID: owner)
            } else {
                events.publish(.failed, jobID: id, state: .failed, attempt: attempt, error: error, submitterUID: owner)
            }
        case .cancelled(let error):
            events.publish(
                .cancelled, jobID: id, state: .cancelled, attempt: attempt, error: error, submitterUID: owner)
        case .interrupted(let error):
            events.publish(.interrupted, jobID: id, state: .queued, attempt: attempt, error: error, submitterUID: owner)
        }
    }
}
