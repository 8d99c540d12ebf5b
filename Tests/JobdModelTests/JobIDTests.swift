import JobdModel
import Testing

@Suite struct JobIDTests {
    @Test("an id is a bare JSON number")
    func wire() throws {
        #expect(try encodeToString(JobID(17)) == "17")
        #expect(try decode(JobID.self, from: "17") == 17)
        #expect(try encodeToString(["id": JobID(9_007_199_254_740_993)]) == #"{"id":9007199254740993}"#)
    }

    @Test("parses positive decimal ids only")
    func parsing() {
        #expect(JobID("17") == JobID(17))
        #expect(JobID("0") == nil)
        #expect(JobID("-3") == nil)
        #expect(JobID("abc") == nil)
        #expect(JobID("") == nil)
        #expect(JobID("1.5") == nil)
        #expect(JobID(17).description == "17")
    }

    @Test("ids order by row id")
    func ordering() {
        #expect(JobID(2) < JobID(10))
        #expect([JobID(3), 1, 2].sorted() == [1, 2, 3])
    }
}
