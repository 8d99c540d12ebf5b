import JobdModel
import JobdStore
import Testing

/// The claim-time spec cache both engines keep: bounded, oldest out first, taken once.
@Suite struct RecentSpecsTests {
    static func spec(_ seconds: Double) -> JobSpec { NewJob.delay(seconds: seconds).spec }

    @Test("a kept spec is taken once; an id never kept is absent")
    func takeOnce() {
        let specs = RecentSpecs(capacity: 4)
        specs.keep([(1, Self.spec(1)), (2, Self.spec(2))])
        let first = specs.take([1, 3])
        #expect(Array(first.keys) == [1])
        #expect(first[1] == Self.spec(1))
        #expect(specs.take([1]).isEmpty)
        #expect(specs.count == 1)
    }

    @Test("past the capacity the oldest entries go, claimed or not; the newest stay")
    func oldestOut() {
        let specs = RecentSpecs(capacity: 3)
        for id in Int64(1)...10 {
            specs.keep([(id, Self.spec(Double(id)))])
            if id == 5 { _ = specs.take([5]) }
        }
        #expect(specs.count == 3)
        #expect(Set(specs.take(Array(1...10)).keys) == [8, 9, 10])
        // Many rounds later the bookkeeping is still bounded and correct.
        for id in Int64(11)...1_000 { specs.keep([(id, Self.spec(1))]) }
        #expect(specs.count == 3)
        #expect(Set(specs.take(Array(990...1_000)).keys) == [998, 999, 1_000])
    }
}
