import ServiceLifecycle

/// Sends `STOPPING=1` as soon as a graceful shutdown starts.
///
/// - Important: List it last in the `ServiceGroup`: services are told to shut down in
///   reverse order, one after the other, so the last one hears it first, before the
///   dispatcher starts its drain.
struct StoppingNotifier: Service, CustomStringConvertible {
    let notifier: SystemdNotifier

    var description: String { "StoppingNotifier" }

    func run() async throws {
        // Cancelled (the group failed) counts as stopping too.
        try? await gracefulShutdown()
        await notifier.sendReliably("STOPPING=1\nSTATUS=stopping: draining running jobs")
    }
}
