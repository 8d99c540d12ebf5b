import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace joined to the host by a veth pair, for cutting one jobd node off
/// from PostgreSQL: the node runs inside (`launcher`), reaches the host at `hostAddress`,
/// and `cut()` sets the host's end of the pair down, so its packets are dropped without a
/// reset (as a pulled cable, not a closed connection).
///
/// Needs root and `ip` (iproute2); `isAvailable` says whether this machine has both.
final class NetworkPartition: Sendable {
    let namespace: String
    let hostDevice: String
    let hostAddress: String
    let nodeAddress: String

    /// Root, `ip`, and network namespaces allowed (checked once by creating one).
    static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip) else { return false }
        let probe = "jdprobe\(getpid())"
        defer { _ = shell([ip, "netns", "del", probe]) }
        return shell([ip, "netns", "add", probe]) == 0
    }()

    static let ip = "/usr/sbin/ip"

    /// Creates the namespace and the pair, addresses them, and brings both ends up.
    init() throws {
        let tag = String(UInt32.random(in: 0..<0xFFFF), radix: 16)
        namespace = "jobd-part-\(tag)"
        hostDevice = "jdh\(tag)"
        let subnet = Int.random(in: 0..<256)
        hostAddress = "10.231.\(subnet).1"
        nodeAddress = "10.231.\(subnet).2"
        let ip = Self.ip
        let steps: [[String]] = [
            [ip, "netns", "add", namespace],
            [ip, "link", "add", hostDevice, "type", "veth", "peer", "name", "jdn\(tag)"],
            [ip, "link", "set", "jdn\(tag)", "netns", namespace],
            [ip, "addr", "add", "\(hostAddress)/30", "dev", hostDevice],
            [ip, "link", "set", hostDevice, "up"],
            [ip, "netns", "exec", namespace, ip, "addr", "add", "\(nodeAddress)/30", "dev", "jdn\(tag)"],
            [ip, "netns", "exec", namespace, ip, "link", "set", "jdn\(tag)", "up"],
            [ip, "netns", "exec", namespace, ip, "link", "set", "lo", "up"],
        ]
        for step in steps where Self.shell(step) != 0 {
            destroy()
            throw PartitionError(message: "cannot set up the network namespace: \(step.joined(separator: " ")) failed")
        }
    }

    /// The command that runs a program inside the namespace.
    var launcher: [String] { [Self.ip, "netns", "exec", namespace] }

    /// Drops every packet between the node and the host.
    func cut() throws {
        guard Self.shell([Self.ip, "link", "set", hostDevice, "down"]) == 0 else {
            throw PartitionError(message: "cannot set \(hostDevice) down")
        }
    }

    /// Lets packets through again.
    func heal() throws {
        guard Self.shell([Self.ip, "link", "set", hostDevice, "up"]) == 0 else {
            throw PartitionError(message: "cannot set \(hostDevice) up")
        }
    }

    /// Removes the pair (with the host's end) and the namespace.
    func destroy() {
        _ = Self.shell([Self.ip, "link", "del", hostDevice])
        _ = Self.shell([Self.ip, "netns", "del", namespace])
    }

    /// Runs a command to its end, output discarded; its exit status.
    @discardableResult
    static func shell(_ command: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct PartitionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
