import Foundation
import JobdModel
import Testing

@Suite struct JSONValueTests {
    @Test("each JSON value kind decodes to its case")
    func decodesEachCase() throws {
        let table: [(String, JSONValue)] = [
            ("null", .null),
            ("true", .bool(true)),
            ("false", .bool(false)),
            ("0", .int(0)),
            ("-17", .int(-17)),
            ("1.5", .double(1.5)),
            ("-2.5e-3", .double(-0.0025)),
            (#""hi""#, .string("hi")),
            (#""""#, .string("")),
            ("[]", .array([])),
            (#"[1,"a",null]"#, .array([.int(1), .string("a"), .null])),
            ("{}", .object([:])),
            (#"{"a":{"b":[true]}}"#, .object(["a": .object(["b": .array([.bool(true)])])])),
        ]
        for (text, value) in table {
            #expect(try decode(JSONValue.self, from: text) == value, "\(text)")
        }
    }

    @Test("integers beyond 2^53 keep their exact value")
    func exactIntegers() throws {
        #expect(try decode(JSONValue.self, from: "9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try encodeToString(JSONValue.int(9_007_199_254_740_993)) == "9007199254740993")
        #expect(try decode(JSONValue.self, from: "9223372036854775807") == .int(.max))
        #expect(try decode(JSONValue.self, from: "-9223372036854775808") == .int(.min))
        let nested = try decode(JSONValue.self, from: #"{"id":9007199254740993}"#)
        #expect(nested == .object(["id": .int(9_007_199_254_740_993)]))
    }

    @Test("numbers beyond Int64 become doubles")
    func beyondInt64() throws {
        #expect(try decode(JSONValue.self, from: "9223372036854775808") == .double(9_223_372_036_854_775_808))
    }

    @Test("an integral number is an int: JSON has one number type")
    func integralDoubleIsInt() throws {
        #expect(try decode(JSONValue.self, from: "2.0") == .int(2))
        #expect(try roundTrip(JSONValue.double(2)) == .int(2))
    }

    @Test("every case survives a round trip")
    func roundTrips() throws {
        let values: [JSONValue] = [
            .null, true, 42, .double(0.1), "text", .array([.null, 1, "x"]),
            .object(["k": .object(["n": .double(-1.25)])]),
        ]
        for value in values {
            #expect(try roundTrip(value) == value, "\(value)")
        }
    }

    @Test("literals build the matching cases")
    func literals() {
        let string: JSONValue = "a"
        let int: JSONValue = 5
        let bool: JSONValue = false
        #expect(string == .string("a"))
        #expect(int == .int(5))
        #expect(bool == .bool(false))
    }
}
