import Foundation
import JobdModel
import Testing

@Suite struct SubmitBatchResponseTests {
    @Test("a batch answer is the ids in submit order")
    func wire() throws {
        let response = SubmitBatchResponse(ids: [3, 4, 5])
        #expect(try encodeToString(response) == #"{"ids":[3,4,5]}"#)
        #expect(try roundTrip(response) == response)
    }
}

@Suite struct JobListResponseTests {
    @Test("a list page carries next_after, omitted on the last page")
    func wire() throws {
        let page = JobListResponse(jobs: [], nextAfter: 40)
        #expect(try encodeToString(page) == #"{"jobs":[],"next_after":40}"#)
        #expect(try roundTrip(page) == page)
        #expect(try encodeToString(JobListResponse(jobs: [], nextAfter: nil)) == #"{"jobs":[]}"#)
    }
}

@Suite struct CancelResponseTests {
    @Test("a cancel answer is the id and the state")
    func wire() throws {
        let response = CancelResponse(id: 7, state: .running)
        #expect(try encodeToString(response) == #"{"id":7,"state":"running"}"#)
        #expect(try roundTrip(response) == response)
    }
}

@Suite struct StatsResponseTests {
    @Test("stats use snake_case keys")
    func wire() throws {
        let stats = StatsResponse(
            queued: 1, running: 2, succeeded: 3, failed: 4, cancelled: 5, workers: 8, maxRunning: 6, submitted: 15,
            finished: 12, commits: 9, uptimeSeconds: 1.5, rateLimited: 7)
        #expect(
            try encodeToString(stats)
                == #"{"cancelled":5,"commits":9,"failed":4,"finished":12,"max_running":6,"paused":false,"queued":1,"rate_limited":7,"running":2,"submitted":15,"succeeded":3,"uptime_seconds":1.5,"waiting":0,"workers":8}"#
        )
        #expect(try roundTrip(stats) == stats)
    }

    @Test("stats from a daemon without rate limits count none waiting for one")
    func olderStats() throws {
        let stats = try decode(
            StatsResponse.self,
            from:
                #"{"cancelled":5,"commits":9,"failed":4,"finished":12,"max_running":6,"paused":false,"queued":1,"running":2,"submitted":15,"succeeded":3,"uptime_seconds":1.5,"waiting":0,"workers":8}"#
        )
        #expect(stats.rateLimited == 0)
        #expect(stats.running == 2)
        #expect(stats.databaseBytes == nil && stats.databaseFreeBytes == nil && stats.databaseWALBytes == nil)
    }

    @Test("stats carry the database's size: the golden SQLite body, and PostgreSQL's without free and WAL sizes")
    func databaseSizes() throws {
        let stats = StatsResponse(
            queued: 1, running: 2, succeeded: 3, failed: 4, cancelled: 5, workers: 8, maxRunning: 6, submitted: 15,
            finished: 12, commits: 9, uptimeSeconds: 1.5, rateLimited: 7, databaseBytes: 1_048_576,
            databaseFreeBytes: 40960, databaseWALBytes: 4152)
        let golden = try #require(
            JSONSerialization.jsonObject(with: fixtureData("stats-sqlite.json")) as? NSDictionary)
        let encoded = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(stats)) as? NSDictionary)
        #expect(encoded == golden)
        #expect(
            try JSONCoding.makeDecoder().decode(StatsResponse.self, from: fixtureData("stats-sqlite.json")) == stats)
        var postgres = stats
        postgres.databaseFreeBytes = nil
        postgres.databaseWALBytes = nil
        let text = try encodeToString(postgres)
        #expect(text.contains(#""database_bytes":1048576"#))
        #expect(!text.contains("database_free_bytes") && !text.contains("database_wal_bytes"))
        #expect(try roundTrip(postgres) == postgres)
    }
}

@Suite struct VacuumResponseTests {
    @Test("a vacuum answer is the sizes before and after and the seconds, as the golden file")
    func wire() throws {
        let response = VacuumResponse(
            bytesBefore: 1_048_576, bytesAfter: 1_007_616, freeBytesBefore: 40960, freeBytesAfter: 0, seconds: 0.25)
        let golden = try #require(
            JSONSerialization.jsonObject(with: fixtureData("vacuum-response.json")) as? NSDictionary)
        let encoded = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(response)) as? NSDictionary)
        #expect(encoded == golden)
        #expect(try roundTrip(response) == response)
        let postgres = VacuumResponse(bytesBefore: 8192, bytesAfter: 8192, seconds: 0.5)
        #expect(try encodeToString(postgres) == #"{"bytes_after":8192,"bytes_before":8192,"seconds":0.5}"#)
    }
}

@Suite struct HealthResponseTests {
    @Test("health uses snake_case keys")
    func wire() throws {
        let health = HealthResponse(
            status: "ok", version: jobdVersion, pid: 4242, uptimeSeconds: 2.5, database: "/var/lib/jobd/jobd.sqlite")
        #expect(
            try encodeToString(health)
                == #"{"database":"/var/lib/jobd/jobd.sqlite","pid":4242,"status":"ok","uptime_seconds":2.5,"version":"0.1.0"}"#
        )
        #expect(try roundTrip(health) == health)
    }
}

@Suite struct NodeListResponseTests {
    @Test("the node list uses snake_case keys and ISO 8601 times")
    func wire() throws {
        let list = NodeListResponse(
            engine: "postgres",
            nodes: [
                NodeInfo(
                    id: 7, name: "web-1", version: "0.1.0", workers: 16, running: 3,
                    startedAt: Date(timeIntervalSince1970: 1_795_616_704),
                    leaseExpiresAt: Date(timeIntervalSince1970: 1_795_616_719), alive: true, leader: true)
            ])
        let text = try encodeToString(list)
        #expect(text.contains(#""lease_expires_at":"2026-11-25T14:25:19"#), "\(text)")
        #expect(text.contains(#""started_at":"2026-11-25T14:25:04"#), "\(text)")
        #expect(text.hasPrefix(#"{"engine":"postgres","nodes":[{"alive":true,"id":7,"#), "\(text)")
        #expect(try roundTrip(list) == list)
    }
}

@Suite struct APIRoutesTests {
    @Test("route paths are the v1 paths")
    func paths() {
        #expect(APIRoutes.jobs == "/v1/jobs")
        #expect(APIRoutes.job(17) == "/v1/jobs/17")
        #expect(APIRoutes.wait(17) == "/v1/jobs/17/wait")
        #expect(APIRoutes.cancel(17) == "/v1/jobs/17/cancel")
        #expect(APIRoutes.stats == "/v1/stats")
        #expect(APIRoutes.health == "/v1/health")
        #expect(APIRoutes.nodes == "/v1/nodes")
    }
}

@Suite struct JobEventTests {
    @Test("event types keep their wire names")
    func types() {
        #expect(
            JobEventType.allCases.map(\.rawValue) == [
                "submitted", "started", "attempt_failed", "retry_scheduled", "succeeded", "failed", "cancelled",
                "interrupted", "requeued", "lagged", "waiting", "released", "dependency_failed", "batch_completed",
            ])
    }

    @Test("an event encodes with snake_case keys and round-trips")
    func wire() throws {
        let event = JobEvent(
            id: 3, type: .retryScheduled, jobID: 7, state: .queued, attempt: 2,
            runAt: Date(timeIntervalSince1970: 1_795_616_704), time: Date(timeIntervalSince1970: 1_795_616_704))
        #expect(
            try encodeToString(event)
                == #"{"attempt":2,"id":3,"job_id":7,"run_at":"2026-11-25T14:25:04.000Z","state":"queued","time":"2026-11-25T14:25:04.000Z","type":"retry_scheduled"}"#
        )
        #expect(try roundTrip(event) == event)
    }
}
