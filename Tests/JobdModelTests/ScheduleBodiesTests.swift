import Foundation
import JobdModel
import Testing

/// The wire of schedules (`/v1/schedules`): golden JSON for every body, and the request's
/// validation with the exact `field` of each refusal.
@Suite struct ScheduleBodiesTests {
    static func refusal(_ body: String) -> APIError? {
        do {
            _ = try ScheduleSpec.decode(Data(body.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("a schedule decodes its name, cron, zone, job and missed policy")
    func decodes() throws {
        let spec = try ScheduleSpec.decode(
            Data(
                #"{"name":"nightly","cron":"30 2 * * *","timezone":"Europe/Berlin","job":{"kind":"fetch","url":"http://127.0.0.1/report"},"missed":"once"}"#
                    .utf8))
        #expect(
            spec
                == ScheduleSpec(
                    name: "nightly", cron: "30 2 * * *", timezone: "Europe/Berlin",
                    job: JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1/report"))), missed: .once))
        #expect(try roundTrip(spec) == spec)
        #expect(
            spec.key(forSlot: Date(timeIntervalSince1970: 1_799_029_800))
                == "schedule:nightly:2027-01-04T02:30:00.000Z")
    }

    @Test(
        "a bad schedule is refused with the exact field",
        arguments: [
            (#"{"name":"","cron":"@daily","job":{"kind":"delay","seconds":0}}"#, "name"),
            (#"{"name":"-x","cron":"@daily","job":{"kind":"delay","seconds":0}}"#, "name"),
            (#"{"name":"a/b","cron":"@daily","job":{"kind":"delay","seconds":0}}"#, "name"),
            (#"{"name":"x","cron":"@reboot","job":{"kind":"delay","seconds":0}}"#, "cron"),
            (#"{"name":"x","cron":"0 0 30 2 *","job":{"kind":"delay","seconds":0}}"#, "cron"),
            (#"{"name":"x","cron":"@daily","timezone":"Nowhere/City","job":{"kind":"delay","seconds":0}}"#, "timezone"),
            (#"{"name":"x","cron":"@daily","job":{"kind":"fetch","url":"ftp://x"}}"#, "job.url"),
            (#"{"name":"x","cron":"@daily","job":{"kind":"delay","seconds":0,"after":[1]}}"#, "job.after"),
            (
                #"{"name":"x","cron":"@daily","job":{"kind":"delay","seconds":0,"run_at":"2027-01-01T00:00:00Z"}}"#,
                "job.run_at"
            ),
            (#"{"name":"x","cron":"@daily"}"#, "job"),
            (#"{"name":"x","cron":"@daily","missed":"never","job":{"kind":"delay","seconds":0}}"#, "missed"),
        ])
    func refused(_ body: String, field: String) throws {
        let error = try #require(Self.refusal(body), "accepted: \(body)")
        #expect(error.field == field, "\(body): \(error)")
    }

    @Test("golden JSON: a schedule record (one flat object) and the list")
    func golden() throws {
        let record = ScheduleRecord(
            spec: ScheduleSpec(
                name: "nightly", cron: "30 2 * * *", timezone: "Europe/Berlin",
                job: JobSpec(.delay(DelaySpec(seconds: 0, value: .string("report")))), missed: .once),
            source: .api, paused: false, ownerUID: 1000, createdAt: Date(timeIntervalSince1970: 1_796_000_000),
            updatedAt: Date(timeIntervalSince1970: 1_796_000_000), lastSlot: Date(timeIntervalSince1970: 1_796_002_200),
            lastJobID: 42, next: [Date(timeIntervalSince1970: 1_796_088_600)])
        let json =
            #"{"created_at":"2026-11-30T00:53:20.000Z","cron":"30 2 * * *","job":{"kind":"delay","seconds":0,"value":"report"},"last_job_id":42,"last_slot":"2026-11-30T01:30:00.000Z","missed":"once","name":"nightly","next":["2026-12-01T01:30:00.000Z"],"owner_uid":1000,"paused":false,"source":"api","timezone":"Europe/Berlin","updated_at":"2026-11-30T00:53:20.000Z"}"#
        #expect(try encodeToString(record) == json)
        #expect(try roundTrip(record) == record)
        let list = ScheduleList(schedules: [record])
        #expect(try encodeToString(list) == #"{"schedules":["# + json + "]}")
        #expect(try roundTrip(list) == list)
    }
}
