import Foundation
import JobdModel
import JobdStore
import JobdStoreConformance
import JobdTestSupport
import Testing

@testable import JobdStorePostgres

/// The schema's migrations: nodes starting together migrate once, and a database newer
/// than the binary is refused with a clear error.
@Suite struct MigrationTests {
    /// Every version this binary knows, as `jobd_migrations` lists them once migrated.
    static let allVersions = (1...PostgresMigrations.migrations.count).map { Substring(String($0)) }

    @Test("three nodes opening a new database at once migrate it once, to the latest version")
    func concurrentOpenMigratesOnce() async throws {
        try await withPostgres { url in
            let stores = try await withThrowingTaskGroup(of: PostgresJobStore.self) { group in
                for index in 0..<3 {
                    group.addTask { try await openTestStore(url: url, node: "node-\(index)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 3)
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            let versions = try await cluster.psql(database, "SELECT version FROM jobd_migrations ORDER BY version")
            #expect(versions.split(separator: "\n") == Self.allVersions)
            // Version 2: the key index is partial, and keys are still unique.
            let indexes = try await cluster.psql(
                database, "SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs' AND indexname = 'jobs_key'")
            #expect(indexes.contains("WHERE (idempotency_key IS NOT NULL)"), "\(indexes)")
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test("version 3 moves a running attempt onto its job's row, keeping its id; a stale one ends interrupted")
    func versionThreeMovesRunningAttempts() async throws {
        try await withPostgres { url in
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            // A version-2 database as an older jobd left it: job 1 running its first attempt
            // on a live node, job 2 queued again with its old attempt still marked running,
            // job 3 running with no attempt row at all.
            try await cluster.psql(database, PostgresMigrations.migrations[0] + PostgresMigrations.migrations[1])
            try await cluster.psql(
                database,
                """
                CREATE TABLE jobd_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO jobd_migrations (version) VALUES (1), (2);
                INSERT INTO nodes (id, name, version, workers, lease_until) VALUES (7, 'old', 'v2', 4, now() + interval '1 hour');
                INSERT INTO jobs (id, kind, spec, state, run_at, created_at, updated_at, max_attempts, attempt_count)
                    VALUES (1, 'delay', '{"kind":"delay","seconds":60}', 'running', now(), now(), now(), 3, 1),
                           (2, 'delay', '{"kind":"delay","seconds":60}', 'queued', now(), now(), now(), 3, 1),
                           (3, 'delay', '{"kind":"delay","seconds":60}', 'running', now(), now(), now(), 3, 1);
                INSERT INTO attempts (id, job_id, number, node_id, node_name, started_at, outcome)
                    VALUES (41, 1, 1, 7, 'old', now(), 'running'), (42, 2, 1, 7, 'old', now(), 'running');
                SELECT setval('attempts_id_seq', 42); SELECT setval('jobs_id_seq', 3);
                """)
            let store = try await openTestStore(url: url, node: "node-a")
            let moved = try await cluster.psql(
                database, "SELECT attempt_id, node_id, node_name FROM jobs WHERE id = 1")
            #expect(moved.trimmingCharacters(in: .whitespacesAndNewlines) == "41|7|old")
            // Job 3 got an attempt id and no node: the leader's rescue (this store's, at once)
            // ends that attempt interrupted and queues the job again.
            let deadline = ContinuousClock.now + .seconds(30)
            var rescued = ""
            while ContinuousClock.now < deadline {
                rescued = try await cluster.psql(
                    database,
                    "SELECT j.state, j.attempt_id IS NULL, a.id > 42, a.outcome FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.id = 3"
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                if !rescued.isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(rescued == "queued|t|t|interrupted")
            let attempts = try await cluster.psql(
                database, "SELECT id, outcome FROM attempts WHERE job_id <> 3 ORDER BY id")
            #expect(attempts.trimmingCharacters(in: .whitespacesAndNewlines) == "42|interrupted")
            let job = try #require(try await store.job(JobID(rawValue: 1)))
            #expect(
                job.attempts?.map(\.id) == [41] && job.attempts?.map(\.outcome) == [.running],
                "\(String(describing: job.attempts))")
            // The old node's late claim of a new attempt row fails loudly.
            await #expect(throws: (any Error).self) {
                try await cluster.psql(
                    database,
                    "INSERT INTO attempts (job_id, number, started_at, outcome) VALUES (2, 2, now(), 'running')")
            }
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test(
        "version 4 migrates a version-3 database and keeps its jobs; its trigger ends a batch and sends the feed's k entry"
    )
    func versionFourAddsBatches() async throws {
        try await withPostgres { url in
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            // A version-3 database as the previous jobd left it: a queued job and a finished one.
            try await cluster.psql(
                database,
                PostgresMigrations.migrations[0] + PostgresMigrations.migrations[1] + PostgresMigrations.migrations[2])
            try await cluster.psql(
                database,
                """
                CREATE TABLE jobd_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO jobd_migrations (version) VALUES (1), (2), (3);
                INSERT INTO jobs (id, kind, spec, state, run_at, created_at, updated_at, finished_at, max_attempts,
                        attempt_count)
                    VALUES (1, 'delay', '{"kind":"delay","seconds":60}', 'queued', now(), now(), now(), NULL, 3, 0),
                           (2, 'delay', '{"kind":"delay","seconds":60}', 'succeeded', now(), now(), now(), now(), 3, 1);
                SELECT setval('jobs_id_seq', 2);
                """)
            let store = try await openTestStore(url: url, node: "node-a")
            let versions = try await cluster.psql(database, "SELECT version FROM jobd_migrations ORDER BY version")
            #expect(versions.split(separator: "\n") == Self.allVersions)
            let queued = try #require(try await store.job(JobID(1)))
            #expect(queued.state == .queued && queued.batchID == nil)
            #expect(try await store.job(JobID(2))?.state == .succeeded)
            let counts = try await store.counts()
            #expect(counts.queued == 1 && counts.succeeded == 1 && counts.waiting == 0)

            // A batch on the migrated schema; its end, written by hand here, is the trigger's.
            let completions = Completions(store)
            let job = NewJob(
                spec: JobSpec(.delay(DelaySpec(seconds: 0))), priority: 0, runAt: Date(), maxAttempts: 1,
                timeout: nil, onInterrupt: .retry, submitterUID: 7)
            let onComplete = NewJob(
                spec: JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:9/done/{batch_id}"))), priority: 0,
                runAt: Date(), maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: 7)
            let batch = try await store.insertBatch(
                NewBatch(jobs: [job], label: nil, onComplete: onComplete, submitterUID: 7), maxQueued: nil, now: Date())
            #expect(batch.jobIDs.map(\.rawValue) == [3], "the jobs' sequence carries on")
            let onCompleteID = try #require(batch.onCompleteID)
            let output = try await cluster.psql(
                database,
                """
                LISTEN jobd_changes;
                UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now() WHERE batch_id = \(batch.id);
                """)
            let payload = try #require(
                output.components(separatedBy: "with payload \"").dropFirst().first?
                    .components(separatedBy: "\" received").first, "\(output)")
            #expect(
                payload
                    == #"{"o":"db","c":[{"t":"k","b":\#(batch.id),"s":"failed","j":\#(onCompleteID),"u":7}]}"#)
            let expected = BatchCompletion(
                batchID: batch.id, state: .failed, onCompleteID: onCompleteID, submitterUID: 7)
            let byHand = ChangeMessage.changes(of: payload, skipping: UUID().uuidString)
            let byDecoder = try JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8))
            #expect(byHand.map(ChangeMessageTests.render) == ChangeMessageTests.render([.batchCompleted(expected)]))
            #expect(byDecoder.c.map(\.json) == ChangeMessage.parse(payload)?.c.map(\.json))
            #expect(try await completions.wait(for: 1) == [expected], "the node hears the database's announcement")
            #expect(try await store.job(onCompleteID)?.state == .queued)
            #expect(try await store.batch(batch.id)?.state == .failed)
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test("a migration's statements split at line-ending semicolons, but never inside a $$ function body")
    func statementsKeepFunctionBodies() {
        let statements = PostgresMigrations.statements(of: PostgresMigrations.batches)
        let function = statements.filter { $0.contains("CREATE FUNCTION") }
        #expect(function.count == 1)
        #expect(function.first?.hasSuffix("END\n$$") == true, "\(function)")
        #expect(statements.last?.hasPrefix("-- Only a change") == true)
        #expect(statements.allSatisfy { !$0.hasSuffix(";") })
        #expect(PostgresMigrations.statements(of: PostgresMigrations.migrations[1]).count == 2)
        let dependencies = PostgresMigrations.statements(of: PostgresMigrations.dependencies)
        let functions = dependencies.filter { $0.contains("CREATE FUNCTION") }
        #expect(functions.count == 3 && functions.allSatisfy { $0.hasSuffix("END\n$$") }, "\(functions)")
        #expect(dependencies.last?.hasPrefix("CREATE CONSTRAINT TRIGGER") == true)
        #expect(dependencies.count == 9)
    }

    @Test(
        "version 5 migrates a version-4 database and keeps its jobs; a hand-written cancel settles the children at commit and sends the feed's d entry"
    )
    func versionFiveAddsDependencies() async throws {
        try await withPostgres { url in
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            // A version-4 database as the previous jobd left it: a queued job, a finished
            // one, and a running batch whose on_complete job waits.
            try await cluster.psql(database, PostgresMigrations.migrations[0..<4].joined(separator: ";\n"))
            try await cluster.psql(
                database,
                """
                CREATE TABLE jobd_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO jobd_migrations (version) VALUES (1), (2), (3), (4);
                INSERT INTO batches (id, submitter_uid, created_at, size, pending, on_complete_id)
                    VALUES (1, 7, now(), 1, 1, 4);
                INSERT INTO jobs (id, kind, spec, state, run_at, created_at, updated_at, finished_at, max_attempts,
                        attempt_count, submitter_uid, batch_id, batch_index)
                    VALUES (1, 'delay', '{"kind":"delay","seconds":60}', 'queued', now(), now(), now(), NULL, 3, 0, 7, NULL, NULL),
                           (2, 'delay', '{"kind":"delay","seconds":60}', 'succeeded', now(), now(), now(), now(), 3, 1, 7, NULL, NULL),
                           (3, 'delay', '{"kind":"delay","seconds":60}', 'queued', now(), now(), now(), NULL, 3, 0, 7, 1, 0),
                           (4, 'delay', '{"kind":"delay","seconds":60}', 'waiting', now(), now(), now(), NULL, 3, 0, 7, NULL, NULL);
                SELECT setval('jobs_id_seq', 4); SELECT setval('batches_id_seq', 1);
                """)
            let store = try await openTestStore(url: url, node: "node-a")
            let versions = try await cluster.psql(database, "SELECT version FROM jobd_migrations ORDER BY version")
            #expect(versions.split(separator: "\n") == Self.allVersions)
            let columns = try await cluster.psql(
                database, "SELECT id, state, waiting_on, on_dependency_failure, has_children FROM jobs ORDER BY id")
            #expect(
                columns.split(separator: "\n")
                    == ["1|queued|0|cancel|f", "2|succeeded|0|cancel|f", "3|queued|0|cancel|f", "4|waiting|0|cancel|f"])
            let counts = try await store.counts()
            #expect(counts.queued == 2 && counts.succeeded == 1 && counts.waiting == 1)

            // A chain after job 1 on the migrated schema; job 1's end, written by hand here, is
            // settled by the commit-time trigger, which announces it.
            let heard = HeardTransitions(store)
            var spec = JobSpec(.delay(DelaySpec(seconds: 0)))
            spec.after = [.job(JobID(1))]
            let child = NewJob(
                spec: spec, priority: 0, runAt: Date(), maxAttempts: 1, timeout: nil, onInterrupt: .retry,
                submitterUID: 7)
            var grandchild = child
            grandchild.spec.after = [.position(0)]
            let ids = try await store.insert([child, grandchild], now: Date()).map(\.id)
            #expect(ids.map(\.rawValue) == [5, 6], "the jobs' sequence carries on")
            #expect(try await store.job(JobID(1))?.children == [ids[0]])
            let output = try await cluster.psql(
                database,
                """
                LISTEN jobd_changes;
                UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now() WHERE id = 1;
                """)
            let payload = try #require(
                output.components(separatedBy: "with payload \"").dropFirst().first?
                    .components(separatedBy: "\" received").first, "\(output)")
            #expect(
                payload
                    == #"{"o":"db","c":[{"t":"d","s":"failed","r":[[5,5]],"j":1,"ps":"cancelled","u":7},"#
                    + #"{"t":"d","s":"failed","r":[[6,6]],"j":5,"ps":"cancelled","u":7}]}"#)
            let expected = [
                DependencyTransition(
                    jobID: ids[0], kind: .failed(parent: JobID(1), parentState: .cancelled), submitterUID: 7),
                DependencyTransition(
                    jobID: ids[1], kind: .failed(parent: ids[0], parentState: .cancelled), submitterUID: 7),
            ]
            let byHand = try #require(ChangeMessage.changes(of: payload, skipping: UUID().uuidString))
            #expect(ChangeMessageTests.render(byHand) == ChangeMessageTests.render([.dependencies(expected)]))
            #expect(
                try await heard.wait(for: 2) { $0 != .waiting } == expected,
                "the node hears the database's announcement")
            for (id, parent) in [(ids[0], JobID(1)), (ids[1], ids[0])] {
                let record = try #require(try await store.job(id))
                #expect(record.state == .cancelled && record.finishedAt != nil)
                #expect(record.error == DependencyTransition.error(parent: parent, state: .cancelled), "word for word")
            }
            #expect(try await store.job(JobID(4))?.state == .waiting, "the batch's on_complete still waits")
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test(
        "version 6 migrates a version-5 database and keeps its jobs: an old key holds for ever, new jobs get tags and fair claims"
    )
    func versionSixAddsTagsWindowsFairShare() async throws {
        try await withPostgres { url in
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            // A version-5 database as the previous jobd left it: two queued jobs of two users,
            // the first holding a key.
            try await cluster.psql(database, PostgresMigrations.migrations[0..<5].joined(separator: ";\n"))
            try await cluster.psql(
                database,
                """
                CREATE TABLE jobd_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO jobd_migrations (version) VALUES (1), (2), (3), (4), (5);
                INSERT INTO jobs (id, kind, spec, state, run_at, created_at, updated_at, max_attempts, submitter_uid,
                        idempotency_key)
                    VALUES (1, 'delay', '{"kind":"delay","seconds":0,"key":"old"}', 'queued', now(), now(), now(), 1, 7,
                            'old'),
                           (2, 'delay', '{"kind":"delay","seconds":0}', 'queued', now(), now(), now(), 1, 8, NULL);
                SELECT setval('jobs_id_seq', 2);
                """)
            let store = try await openTestStore(url: url, node: "node-a")
            let versions = try await cluster.psql(database, "SELECT version FROM jobd_migrations ORDER BY version")
            #expect(versions.split(separator: "\n") == Self.allVersions)
            // The old key has no window: it holds for ever.
            var keyed = JobSpec(.delay(DelaySpec(seconds: 0)), key: "old")
            keyed.keyWindow = 1
            let again = try await store.insert(
                [
                    NewJob(
                        spec: keyed, priority: 0, runAt: Date(), maxAttempts: 1, timeout: nil, onInterrupt: .retry,
                        submitterUID: 7)
                ], now: Date().addingTimeInterval(86_400))
            #expect(again == [InsertOutcome(id: JobID(1), created: false)])
            let tagged = NewJob(
                spec: JobSpec(.delay(DelaySpec(seconds: 0)), tags: ["new"]), priority: 0, runAt: Date(),
                maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: 7)
            let id = try #require(try await store.insert([tagged], now: Date()).first).id
            #expect(try await store.list(limit: 10, tag: "new").map(\.id) == [id])
            // The old jobs are in the fair-share index: uid 7, then uid 8, then uid 7 again.
            let claimed = try await store.claim(limit: 3, now: Date().addingTimeInterval(1), fairShare: .perUID)
            #expect(claimed.map(\.id) == [JobID(1), JobID(2), id])
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test("a database whose schema is newer than this jobd knows is refused: schema_too_new, naming both versions")
    func newerSchemaIsRefused() async throws {
        try await withPostgres { url in
            _ = try await openTestStore(url: url, node: "node-a")
            await OpenStores.shared.closeAll(url: url)
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            try await cluster.psql(database, "INSERT INTO jobd_migrations (version) VALUES (99)")
            do {
                _ = try await openTestStore(url: url, node: "node-b")
                Issue.record("a schema of version 99 was accepted")
            } catch let error as StoreError {
                #expect(error.code == .schemaTooNew, "\(error)")
                #expect(error.message.contains("99") && error.message.contains("newer jobd"), "\(error.message)")
                #expect(error.message.contains("pg_dump"), "names the way back: \(error.message)")
            }
            await OpenStores.shared.closeAll(url: url)
        }
    }
}
