import Foundation
import Testing

@testable import JobdDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// `SocketActivation`: sd_listen_fds(3) semantics on real descriptors (a test cannot put
/// them at 3, so it names where they start).
@Suite struct SocketActivationTests {
    /// A Unix stream socket at a fresh path (listening unless told otherwise), passed to
    /// `body` with its path; closed and removed after.
    static func withSocket(listening: Bool = true, _ body: (Int32, String) throws -> Void) throws {
        let path = "/tmp/jsa-\(UUID().uuidString.prefix(8)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        if listening { try #require(listen(fd, 8) == 0) }
        try body(fd, path)
    }

    @Test("a listening Unix socket passed to this pid is taken, named, and made close-on-exec")
    func takesSocket() throws {
        try Self.withSocket { fd, path in
            let environment = ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "jobd.socket"]
            let taken = try #require(
                try SocketActivation.take(
                    environment: environment, pid: getpid(), preferredPath: "/elsewhere", firstDescriptor: fd))
            #expect(taken.descriptor == fd)
            #expect(taken.path == path)
            #expect(taken.name == "jobd.socket")
            #expect(taken.ignored.isEmpty)
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            #expect(taken.summary == "fd \(fd), \(path), name jobd.socket")
        }
    }

    @Test("variables for another pid, none at all, or LISTEN_FDS=0 mean no activation")
    func notActivated() throws {
        #expect(try SocketActivation.take(environment: [:], pid: getpid(), preferredPath: "/x") == nil)
        #expect(
            try SocketActivation.take(
                environment: ["LISTEN_PID": "\(getpid() + 1)", "LISTEN_FDS": "1"], pid: getpid(), preferredPath: "/x")
                == nil)
        #expect(
            try SocketActivation.take(
                environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "0"], pid: getpid(), preferredPath: "/x")
                == nil)
    }

    @Test("a malformed count or a socket that is not listening is refused, naming why")
    func refused() throws {
        #expect(throws: SocketActivation.Failure.self) {
            try SocketActivation.take(
                environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "two"], pid: getpid(), preferredPath: "/x")
        }
        try Self.withSocket(listening: false) { fd, _ in
            let error = #expect(throws: SocketActivation.Failure.self) {
                try SocketActivation.take(
                    environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1"], pid: getpid(), preferredPath: "/x",
                    firstDescriptor: fd)
            }
            #expect(error?.description.contains("not a listening Unix stream socket") == true)
        }
    }

    @Test("of two sockets, the one at the configured path is served and the other named as ignored")
    func prefersConfiguredPath() throws {
        try Self.withSocket { first, _ in
            try Self.withSocket { second, secondPath in
                // Two descriptors in a row, as systemd passes them: copy both above the others,
                // just under the descriptor limit (raised to the hard limit first: the suite's
                // other tests may hold hundreds of descriptors at once, which once left no
                // free pair between 900 and 1000). The kernel hands out the lowest free
                // numbers: high free ones stay free.
                let base = try #require(
                    stride(from: Self.raisedDescriptorLimit() - 3, to: 64, by: -1).first {
                        fcntl($0, F_GETFD) < 0 && fcntl($0 + 1, F_GETFD) < 0
                    })
                try #require(dup2(first, base) == base && dup2(second, base + 1) == base + 1)
                defer {
                    close(base)
                    close(base + 1)
                }
                let taken = try #require(
                    try SocketActivation.take(
                        environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "2"], pid: getpid(),
                        preferredPath: secondPath, firstDescriptor: base))
                #expect(taken.descriptor == base + 1)
                #expect(taken.ignored.count == 1)
            }
        }
    }

    /// Raises the soft limit on descriptors to the hard one (at most 65,536) and returns it.
    static func raisedDescriptorLimit() -> Int32 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = min(limit.rlim_max, 65_536)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 {
                _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            }
        }
        return Int32(min(limit.rlim_cur, 65_536))
    }
}
