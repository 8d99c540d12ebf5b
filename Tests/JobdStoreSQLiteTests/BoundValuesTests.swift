import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import JobdStoreSQLite

/// `Statement.run(bound:row:)`: the hot statements' own binding, beside GRDB's.
@Suite struct BoundValuesTests {
    private func withTable<T>(_ body: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue()
        return try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, a, b NOT NULL)")
            return try body(db)
        }
    }

    @Test("every storage class binds as GRDB binds it; an empty text is '' and an empty blob is not NULL")
    func storageClasses() throws {
        try withTable { db in
            var values = BoundValues(capacity: 12)
            let texts: [String?] = ["", "ü — \u{0}x", nil]
            for (id, text) in texts.enumerated() {
                values.append(Int64(id))
                values.append(text)
                values.append(id == 2 ? Data() : Data([1, 2]))
            }
            values.append(Int64(3))
            values.append(2.5)
            values.append(Int64.max)
            try db.cachedStatement(sql: "INSERT INTO t (id, a, b) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?)")
                .run(bound: values)
            let rows = try Row.fetchAll(
                db, sql: "SELECT a, typeof(a) AS ta, CAST(a AS BLOB) AS bytes, b, typeof(b) AS tb FROM t ORDER BY id")
            #expect(rows.map { $0["ta"] as String } == ["text", "text", "null", "real"])
            #expect(rows[0]["a"] as String == "")
            // Every byte, the NUL too (GRDB reads a text as a C string, so compare bytes).
            #expect(rows[1]["bytes"] as Data == Data("ü — \u{0}x".utf8))
            #expect(rows[2]["b"] as Data == Data())
            #expect(rows[2]["tb"] as String == "blob")
            #expect(rows[3]["a"] as Double == 2.5)
            #expect(rows[3]["b"] as Int64 == Int64.max)
        }
    }

    @Test(
        "rows come back through the handle; a wrong count is SQLITE_MISUSE; a failed step throws its code and the statement runs again"
    )
    func rowsAndErrors() throws {
        try withTable { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, a, b) VALUES (?, ?, ?) RETURNING id, b")
            var values = BoundValues(capacity: 3)
            values.append(Int64(7))
            values.append(String?.none)
            values.append(Int64(70))
            var returned: [(Int64, Int64)] = []
            try insert.run(bound: values) { row in
                returned.append((sqlite3_column_int64(row, 0), sqlite3_column_int64(row, 1)))
            }
            #expect(returned.map(\.0) == [7] && returned.map(\.1) == [70])

            var short = BoundValues(capacity: 2)
            short.append(Int64(8))
            short.append(Int64(80))
            #expect { try insert.run(bound: short) } throws: { ($0 as? DatabaseError)?.resultCode == .SQLITE_MISUSE }

            // The same id again: a constraint failure, with the code GRDB would report.
            #expect {
                try insert.run(bound: values)
            } throws: {
                ($0 as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT
            }
            var next = BoundValues(capacity: 3)
            next.append(Int64(9))
            next.append("x")
            next.append(Int64(90))
            try insert.run(bound: next)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 2)
            // GRDB's own binding of the same cached statement still works after ours.
            try insert.execute(arguments: [10, "y", 100])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 3)
        }
    }
}
