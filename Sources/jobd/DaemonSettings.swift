import Foundation
import JobdModel
import JobdStore
import Logging

/// The daemon's settings after flags, environment and defaults are merged.
///
/// Precedence: a command-line flag, then its `JOBD_*` environment variable, then the
/// built-in default. A bad value stops the start with exit code 78 (EX_CONFIG) and a
/// message naming the setting.
struct DaemonSettings {
    var socketPath: String
    var databasePath: String
    var workers: Int
    var synchronous: SynchronousMode
    var logLevel: Logger.Level
    var grace: Duration

    /// A setting with a bad value.
    struct Invalid: Error, CustomStringConvertible {
        var key: String
        var reason: String
        var description: String { "invalid setting \(key): \(reason)" }
    }

    static func resolve(
        socket: String?, database: String?, workers: Int?, synchronous: String?, logLevel: String?, grace: Double?,
        environment: [String: String], uid: UInt32
    ) throws -> DaemonSettings {
        let defaults = DefaultPaths(uid: uid, environment: environment)
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag { return flag }
            if let text = environment[variable], !text.isEmpty { return text }
            return nil
        }
        let socketPath = value(socket, "JOBD_SOCKET") ?? defaults.socket
        guard socketPath.utf8.count < 108 else {
            throw Invalid(key: "socket", reason: "\(socketPath) is over 107 bytes, the Unix socket path limit")
        }
        let databasePath = value(database, "JOBD_DATABASE") ?? defaults.database
        var workerCount = 16
        if let workers {
            workerCount = workers
        } else if let text = value(nil, "JOBD_WORKERS") {
            guard let parsed = Int(text) else {
                throw Invalid(key: "workers (JOBD_WORKERS)", reason: "\(text.debugDescription) is not a whole number")
            }
            workerCount = parsed
        }
        guard (1...100_000).contains(workerCount) else {
            throw Invalid(key: "workers", reason: "must be 1 to 100000, got \(workerCount)")
        }
        var mode = SynchronousMode.full
        if let text = value(synchronous, "JOBD_SYNCHRONOUS") {
            guard let parsed = SynchronousMode(rawValue: text.uppercased()) else {
                throw Invalid(key: "synchronous", reason: "must be full or normal, got \(text.debugDescription)")
            }
            mode = parsed
        }
        var level = Logger.Level.info
        if let text = value(logLevel, "JOBD_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw Invalid(key: "log-level", reason: "must be one of \(levels), got \(text.debugDescription)")
            }
            level = parsed
        }
        var graceSeconds = 10.0
        if let grace {
            graceSeconds = grace
        } else if let text = value(nil, "JOBD_GRACE") {
            guard let parsed = Double(text) else {
                throw Invalid(key: "grace (JOBD_GRACE)", reason: "\(text.debugDescription) is not a number of seconds")
            }
            graceSeconds = parsed
        }
        guard graceSeconds.isFinite, graceSeconds >= 0, graceSeconds <= 3600 else {
            throw Invalid(key: "grace", reason: "must be 0 to 3600 seconds, got \(graceSeconds)")
        }
        return DaemonSettings(
            socketPath: socketPath, databasePath: databasePath, workers: workerCount, synchronous: mode,
            logLevel: level, grace: .nanoseconds(Int64(graceSeconds * 1e9)))
    }
}
