import Foundation

/// Strict specs: a request's job spec with a field jobd does not know is refused, naming
/// the field and the nearest known one (`timout` → `timeout`), instead of being ignored
/// (a mistyped `timeout` would otherwise run the job without one).
///
/// Only requests are strict (`JSONCoding.makeDecoder(strict: true)`: submits, batches,
/// schedules, jobctl's NDJSON files); records read back (a newer daemon's answer, a stored
/// spec) are decoded leniently, so an older jobctl still reads a record with a field it
/// does not know.
extension JobSpec {
    /// The fields every spec may have.
    public static let commonFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    /// The fields a spec of `kind` may have: the common ones and the kind's own.
    public static func fields(of kind: JobKind) -> Set<String> {
        switch kind {
        case .fetch: fetchFields
        case .delay: delayFields
        }
    }

    /// `fields(of:)`, made once: the set was built again for every job of a submit (a
    /// tenth of a 1,000-job request's decoding).
    private static let fetchFields = commonFields.union(["url", "headers", "max_body_bytes"])
    private static let delayFields = commonFields.union(["seconds", "value", "fail"])

    /// Throws for the first unknown field of the object `decoder` reads (by name order).
    static func refuseUnknownFields(_ decoder: any Decoder, kind: JobKind) throws {
        let container = try decoder.container(keyedBy: FieldName.self)
        let known = fields(of: kind)
        let keys = container.allKeys
        // The usual spec has no unknown field: the sort is for the one that has.
        guard keys.contains(where: { !known.contains($0.stringValue) }) else { return }
        for key in keys.sorted(by: { $0.stringValue < $1.stringValue })
        where !known.contains(key.stringValue) {
            // An empty name is named by its JSON spelling: a field must name something.
            let key = key.stringValue.isEmpty ? FieldName(stringValue: "\"\"") : key
            var message = "unknown field \(key.stringValue) for a \(kind.rawValue) job"
            if let guess = EditDistance.nearest(to: key.stringValue, among: known.sorted()) {
                message += " (did you mean \(guess)?)"
            }
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath + [key], debugDescription: Self.unknownFieldMarker + message))
        }
    }

    /// Starts the description of an unknown-field error, which `APIError(decoding:)` shows as is.
    static let unknownFieldMarker = "\u{1}"
}

/// Any field name, for listing an object's keys.
struct FieldName: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The closest of some names to a given one, for "did you mean".
public enum EditDistance {
    /// The closest of `candidates` to `name` (case-insensitive edit distance at most 3).
    public static func nearest(to name: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(name.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
