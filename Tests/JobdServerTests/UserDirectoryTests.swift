import JobdServer
import Testing

/// Group look-ups through NSS, against this machine's own user database.
@Suite struct UserDirectoryTests {
    @Test("root belongs to group 0, and group root is 0")
    func root() async throws {
        let directory = UserDirectory()
        #expect(await directory.groups(ofUID: 0).contains(0))
        #expect(await directory.groupID(named: "root") == 0)
        // Cached: the same answer again.
        #expect(await directory.groupID(named: "root") == 0)
    }

    @Test("a number names its own group; an unknown name or uid has none")
    func unknown() async throws {
        let directory = UserDirectory()
        #expect(await directory.groupID(named: "4242") == 4242)
        #expect(await directory.groupID(named: "no-such-group-jobd-test") == nil)
        #expect(await directory.groups(ofUID: 64_999).isEmpty)
    }
}
