import Logging
import ServiceLifecycle

/// A test hook: `JOBD_TEST_HANG_WRITER=after:DURATION` hangs the store writer that long
/// after the start, so the end-to-end tests can see the watchdog pings stop.
///
/// Compiled in, inert unless the variable is set. When it fires it logs a warning and
/// sends `X_JOBD_TEST=writer-hung` to `$NOTIFY_SOCKET` (systemd ignores unknown fields),
/// which marks the moment for the test.
struct WriterHangHook: Service, CustomStringConvertible {
    /// The environment variable that arms the hook.
    static let variable = "JOBD_TEST_HANG_WRITER"

    let delay: Duration
    /// Hangs the store writer (`OpenedStore.hangWriterForTesting`).
    let hangWriter: @Sendable () -> Void
    let notifier: SystemdNotifier?
    let logger: Logger

    /// The hook armed by `environment`, or nil.
    ///
    /// - Throws: `ConfigurationError` when the variable is not `after:DURATION`.
    static func armed(
        by environment: [String: String], hangWriter: @escaping @Sendable () -> Void, notifier: SystemdNotifier?,
        logger: Logger
    ) throws -> WriterHangHook? {
        guard let text = environment[variable], !text.isEmpty else { return nil }
        guard text.hasPrefix("after:"), let delay = ConfigurationParser.parseDuration(String(text.dropFirst(6))),
            delay >= .zero
        else {
            throw ConfigurationError(
                .invalidValue, key: variable, reason: "must be after:DURATION (like after:1s), got \(text)",
                source: variable)
        }
        return WriterHangHook(delay: delay, hangWriter: hangWriter, notifier: notifier, logger: logger)
    }

    var description: String { "WriterHangHook" }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        } catch {
            return
        }
        logger.warning("test hook \(Self.variable): the store writer hangs from now on")
        hangWriter()
        notifier?.send("X_JOBD_TEST=writer-hung")
        try? await gracefulShutdown()
    }
}
