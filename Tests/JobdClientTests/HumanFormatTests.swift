import Foundation
import JobdClient
import JobdModel
import Testing

@Suite("HumanFormat")
struct HumanFormatTests {
    @Test("dates print as yyyy-MM-dd HH:mm:ss in the given zone")
    func dates() throws {
        let date = try #require(RFC3339.date(from: "2026-11-25T14:05:09.750Z"))
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(HumanFormat.date(date, timeZone: utc) == "2026-11-25 14:05:09")
        #expect(HumanFormat.date(date, timeZone: berlin) == "2026-11-25 15:05:09")
        #expect(HumanFormat.date(nil as Date?, timeZone: utc) == "-")
    }

    @Test(
        "seconds print compactly",
        arguments: [
            (0.0, "0s"), (0.25, "0.25s"), (1.5, "1.5s"), (12, "12s"), (59.999, "60s"), (60, "1m"),
            (303, "5m 3s"), (3725.2, "1h 2m"), (7200, "2h"), (273_600, "3d 4h"), (-1, "0s"),
        ])
    func seconds(value: Double, expected: String) {
        #expect(HumanFormat.seconds(value) == expected)
    }

    @Test("durations become timeout parameters in whole or decimal seconds")
    func parameters() {
        #expect(HumanFormat.secondsParameter(.seconds(60)) == "60")
        #expect(HumanFormat.secondsParameter(.zero) == "0")
        #expect(HumanFormat.secondsParameter(.milliseconds(500)) == "0.5")
        #expect(HumanFormat.secondsParameter(.microseconds(1_234_100)) == "1.235")
        #expect(HumanFormat.secondsParameter(.seconds(-3)) == "0")
    }

    @Test("sizes and milliseconds")
    func sizes() {
        #expect(HumanFormat.bytes(512) == "512 B")
        #expect(HumanFormat.bytes(1536) == "1.5 KiB")
        #expect(HumanFormat.bytes(10 * 1024 * 1024) == "10 MiB")
        #expect(HumanFormat.milliseconds(12.5) == "12.5 ms")
        #expect(HumanFormat.milliseconds(1234.5) == "1.23 s")
    }

    @Test("a job's summary is its URL or its delay")
    func summary() {
        #expect(HumanFormat.summary(JobSpec(.fetch(FetchSpec(url: "https://x/")))) == "https://x/")
        #expect(HumanFormat.summary(JobSpec(.delay(DelaySpec(seconds: 1.5)))) == "delay 1.5s")
        #expect(HumanFormat.summary(JobSpec(.delay(DelaySpec(seconds: 2, fail: "x")))) == "delay 2s (fails)")
    }
}
