import Foundation
import JobdModel
import NIOCore

/// A fetch result's body as a sequence of byte buffers of a fixed size: the text's UTF-8
/// bytes, or the bytes of its base64, decoded chunk by chunk.
///
/// Only one chunk is in memory besides the stored body, so answering a result costs no
/// second copy of it.
struct ResultChunks: Sequence, Sendable {
    /// The body as stored.
    let body: String
    /// How it is stored.
    let encoding: FetchResult.BodyEncoding
    /// The most bytes of one chunk.
    let chunkBytes: Int

    /// - Parameters:
    ///   - fetch: The result.
    ///   - chunkBytes: The most bytes of one chunk; a multiple of 3 and 4 is used for
    ///     base64 (a smaller one is rounded up).
    init(_ fetch: FetchResult, chunkBytes: Int) {
        body = fetch.body
        encoding = fetch.bodyEncoding
        self.chunkBytes = Swift.max(12, chunkBytes / 12 * 12)
    }

    /// The body's size in bytes, when known without decoding it: always for text, for
    /// base64 when it is well-formed (a multiple of 4 characters).
    var byteCount: Int? {
        switch encoding {
        case .utf8:
            return body.utf8.count
        case .base64:
            let count = body.utf8.count
            guard count % 4 == 0 else { return nil }
            let padding = body.utf8.reversed().prefix(2).prefix { $0 == UInt8(ascii: "=") }.count
            return count / 4 * 3 - padding
        }
    }

    func makeIterator() -> Iterator {
        Iterator(chunks: self, offset: body.utf8.startIndex)
    }

    struct Iterator: IteratorProtocol {
        let chunks: ResultChunks
        var offset: String.UTF8View.Index

        mutating func next() -> ByteBuffer? {
            let utf8 = chunks.body.utf8
            guard offset < utf8.endIndex else { return nil }
            switch chunks.encoding {
            case .utf8:
                let end = utf8.index(offset, offsetBy: chunks.chunkBytes, limitedBy: utf8.endIndex) ?? utf8.endIndex
                defer { offset = end }
                return ByteBuffer(bytes: utf8[offset..<end])
            case .base64:
                // 4 characters hold 3 bytes: a chunk of chunkBytes / 3 * 4 characters
                // decodes on its own.
                let characters = chunks.chunkBytes / 3 * 4
                let end = utf8.index(offset, offsetBy: characters, limitedBy: utf8.endIndex) ?? utf8.endIndex
                defer { offset = end }
                let text = Data(utf8[offset..<end])
                let bytes =
                    Data(base64Encoded: text, options: .ignoreUnknownCharacters) ?? Data()
                return ByteBuffer(bytes: bytes)
            }
        }
    }
}
