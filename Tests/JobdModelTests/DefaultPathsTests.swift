import JobdModel
import Testing

@Suite struct DefaultPathsTests {
    @Test("root uses /run and /var/lib whatever the environment says")
    func root() {
        let paths = DefaultPaths(uid: 0, environment: ["XDG_RUNTIME_DIR": "/run/user/0", "HOME": "/root"])
        #expect(paths.socket == "/run/jobd/jobd.sock")
        #expect(paths.database == "/var/lib/jobd/jobd.sqlite")
    }

    @Test("a user with XDG variables uses them")
    func userWithXDG() {
        let paths = DefaultPaths(
            uid: 1000,
            environment: [
                "XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/home/ann/.state", "HOME": "/home/ann",
            ])
        #expect(paths.socket == "/run/user/1000/jobd/jobd.sock")
        #expect(paths.database == "/home/ann/.state/jobd/jobd.sqlite")
    }

    @Test("a user without XDG variables falls back to /tmp and HOME")
    func userWithoutXDG() {
        let paths = DefaultPaths(uid: 1000, environment: ["HOME": "/home/ann"])
        #expect(paths.socket == "/tmp/jobd-1000/jobd.sock")
        #expect(paths.database == "/home/ann/.local/state/jobd/jobd.sqlite")
    }

    @Test("empty XDG variables count as unset")
    func emptyXDG() {
        let paths = DefaultPaths(
            uid: 1000, environment: ["XDG_RUNTIME_DIR": "", "XDG_STATE_HOME": "", "HOME": "/home/ann"])
        #expect(paths.socket == "/tmp/jobd-1000/jobd.sock")
        #expect(paths.database == "/home/ann/.local/state/jobd/jobd.sqlite")
    }

    @Test("a user without HOME keeps the database under /tmp")
    func userWithoutHome() {
        let paths = DefaultPaths(uid: 1001, environment: [:])
        #expect(paths.socket == "/tmp/jobd-1001/jobd.sock")
        #expect(paths.database == "/tmp/jobd-1001/jobd.sqlite")
    }
}
