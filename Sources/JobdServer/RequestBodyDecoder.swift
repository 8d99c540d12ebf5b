import Foundation
import Hummingbird
import JobdModel
import NIOCore
import NIOPosix

/// Reads and decodes the body of a submit (`POST /v1/jobs`, `POST /v1/batches`): a
/// declared oversize body is refused before a byte is read, and a large one is decoded on a
/// thread of its own, never on the cooperative pool.
enum RequestBodyDecoder {
    /// Bodies up to this size are decoded where the request runs; larger ones on `decoder`.
    static let inlineBytes = 64 * 1024

    /// One thread that decodes large submit bodies, one at a time: however many arrive,
    /// decoding uses at most one core and builds one batch of specs at a time, and the
    /// cooperative pool stays free for every other request (health included).
    static let decoder: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// The request's body, decoded by `decode`.
    ///
    /// - Throws: `APIError` `payload_too_large`, or what `decode` throws.
    static func decode<T: Sendable>(
        _ request: Request, options: ServerOptions,
        _ decode: @escaping @Sendable (ByteBufferView) throws -> T
    ) async throws -> T {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBodyBytes {
            throw APIError(
                .payloadTooLarge, "the request body is \(length) bytes; the limit is \(options.maxBodyBytes)")
        }
        let body = try await request.body.collect(upTo: options.maxBodyBytes)
        guard body.readableBytes > inlineBytes else { return try decode(body.readableBytesView) }
        // A big body takes long to decode (100,000 specs: most of a second): on the
        // cooperative pool it would stall every other request, health included.
        return try await decoder.runIfActive { try decode(body.readableBytesView) }
    }
}
