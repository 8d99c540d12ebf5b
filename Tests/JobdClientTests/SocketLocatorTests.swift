import JobdClient
import Testing

/// Which socket jobctl uses: an explicit one as given, else the user's, else the system's.
@Suite struct SocketLocatorTests {
    static func locator(present: Set<String>) -> SocketLocator {
        SocketLocator(userSocket: "/run/user/1000/jobd/jobd.sock", systemSocket: "/run/jobd/jobd.sock") {
            present.contains($0) ? .present : .missing
        }
    }

    @Test("without --socket: the user's socket when it exists, else the system daemon's, else the user's")
    func fallback() throws {
        let user = "/run/user/1000/jobd/jobd.sock"
        let system = "/run/jobd/jobd.sock"
        #expect(try Self.locator(present: [user, system]).resolve(explicit: nil) == user)
        #expect(try Self.locator(present: [system]).resolve(explicit: nil) == system)
        #expect(try Self.locator(present: [system]).resolve(explicit: "") == system)
        #expect(try Self.locator(present: []).resolve(explicit: nil) == user)
        #expect(Self.locator(present: []).candidates == [user, system])
    }

    @Test("root's own socket is the system socket: one candidate")
    func root() {
        let locator = SocketLocator(uid: 0, environment: [:])
        #expect(locator.candidates == ["/run/jobd/jobd.sock"])
    }

    @Test("an explicit socket is used as given, even when missing; unix:// URLs give their path")
    func explicit() throws {
        let locator = Self.locator(present: ["/run/jobd/jobd.sock"])
        #expect(try locator.resolve(explicit: "/tmp/x.sock") == "/tmp/x.sock")
        #expect(try locator.resolve(explicit: "unix:///tmp/x.sock") == "/tmp/x.sock")
        #expect(try locator.resolve(explicit: "relative.sock") == "relative.sock")
    }

    @Test("a URL of another scheme, or unix:// without an absolute path, is invalid_socket")
    func invalid() {
        for value in ["http://127.0.0.1:8080", "unix://relative.sock", "unix://"] {
            #expect(throws: ClientError.self) { try SocketLocator.path(of: value) }
            do {
                _ = try SocketLocator.path(of: value)
            } catch let error as ClientError {
                #expect(error.code == .invalidSocket)
                #expect(error.message.contains(value))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("the file-system probe: a missing path or parent is missing; an existing file is present")
    func probe() {
        #expect(SocketLocator.fileSystemProbe("/nonexistent-jobd-dir/jobd.sock") == .missing)
        #expect(SocketLocator.fileSystemProbe("/etc/hostname/x") == .missing)
        #expect(SocketLocator.fileSystemProbe("/") == .present)
    }
}
