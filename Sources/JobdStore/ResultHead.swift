import Foundation
import JobdModel

/// Describes a stored result from its first bytes, so that a job list never reads a
/// result body.
///
/// A fetch result is stored with its body last (`FinishWrite.encode`), so the status,
/// size and headers are in the head of the text: `{"body_encoding":…,"status":200,"body":"…`.
/// An engine reads at most `prefixBytes` of the stored text and its total length, and
/// asks `summary(prefix:totalBytes:)`; only when that answers nil (a result stored before
/// the body went last, or headers longer than the prefix) does it read the whole result.
public enum ResultHead {
    /// How many bytes of a stored result an engine reads for a list (8 KiB).
    public static let prefixBytes = 8 * 1024

    /// The key that starts a fetch result's body, its comma included. Inside a JSON
    /// string every `"` is escaped, so `,"` only occurs between members.
    private static let bodyMarker = Array(#","body":"#.utf8)

    /// The summary of a stored result from its first bytes.
    ///
    /// - Parameters:
    ///   - prefix: The first bytes of the stored JSON text (all of it when it is short).
    ///   - totalBytes: The stored text's length in bytes.
    /// - Returns: The summary, or nil when the prefix does not hold what it needs: read
    ///   the whole result and use `ResultSummary(_:)`.
    public static func summary(prefix: [UInt8], totalBytes: Int) -> ResultSummary? {
        let decoder = JSONCoding.makeDecoder()
        if prefix.count >= totalBytes {
            return (try? decoder.decode(JobResult.self, from: Data(prefix))).map(ResultSummary.init)
        }
        guard let marker = firstIndex(of: bodyMarker, in: prefix) else { return nil }
        let head = Data(prefix[..<marker] + [UInt8(ascii: "}")])
        guard let fields = try? decoder.decode(FetchHead.self, from: head), fields.kind == .fetch else { return nil }
        return ResultSummary(
            bytes: fields.size, contentType: ResultSummary.contentType(headers: fields.headers), status: fields.status)
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The members of a stored fetch result before its body.
    private struct FetchHead: Decodable {
        var kind: JobKind
        var status: Int
        var size: Int
        var headers: [String: String]
    }
}
