import Dispatch
import Foundation
import Synchronization

/// Ctrl-C (SIGINT) turned into structured cancellation.
///
/// While `catching(enabled:_:)` runs, SIGINT does not kill the process: it cancels the
/// operation, which can then clean up (clear the progress line, close the event
/// stream) before the command exits. A second SIGINT exits at once with 130, in case
/// the operation does not stop.
enum Interrupt {
    /// The exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it.
    static let exitCode: Int32 = 130

    /// Runs `operation` until it returns or SIGINT arrives.
    ///
    /// - Parameters:
    ///   - enabled: When false, `operation` simply runs and SIGINT keeps its default
    ///     action (the process ends).
    ///   - operation: The work; it is cancelled on SIGINT and awaited before return.
    /// - Returns: What `operation` returned, or nil when SIGINT arrived first.
    /// - Throws: What `operation` throws, unless SIGINT arrived first.
    static func catching<Result: Sendable>(
        enabled: Bool = true,
        _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result? {
        guard enabled else { return try await operation() }
        // libdispatch delivers the signal only while its default action is off.
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let (interrupts, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let count = Mutex(0)
        source.setEventHandler {
            let seen = count.withLock { count in
                count += 1
                return count
            }
            if seen > 1 {
                _exit(exitCode)
            }
            continuation.yield()
        }
        source.resume()
        defer {
            source.cancel()
            continuation.finish()
            signal(SIGINT, SIG_DFL)
        }
        return try await withThrowingTaskGroup(of: Outcome<Result>.self) { group in
            group.addTask { .finished(try await operation()) }
            group.addTask {
                for await _ in interrupts {
                    return .interrupted
                }
                return .stopped
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .finished(let result):
                    group.cancelAll()
                    return result
                case .interrupted:
                    // The operation's error, if cancelling it makes it throw, is
                    // expected and discarded with the group.
                    group.cancelAll()
                    return nil
                case .stopped:
                    continue
                }
            }
            return nil
        }
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case interrupted
        case stopped
    }
}
