import AsyncHTTPClient
import Foundation
import JobdModel
import JobdStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Settings of fetch jobs.
public struct FetchOptions: Sendable {
    /// The largest body stored, in bytes; a job may ask for less, never more.
    public var maxBodyBytes: Int
    /// The `User-Agent` header, unless a job sets its own.
    public var userAgent: String
    /// The response headers kept in the result (lower-case names).
    public var keptHeaders: Set<String>
    /// Networks (CIDR, e.g. `169.254.0.0/16`) a fetch may not connect to, checked on the
    /// resolved address, redirects included.
    public var deniedNetworks: [String]

    public init(
        maxBodyBytes: Int = 10 * 1024 * 1024,
        userAgent: String = "jobd/\(jobdVersion)",
        keptHeaders: Set<String> = [
            "content-type", "content-length", "content-encoding", "etag", "last-modified", "location",
            "retry-after", "cache-control", "date", "server",
        ],
        deniedNetworks: [String] = ["169.254.0.0/16", "fe80::/10"]
    ) {
        self.deniedNetworks = deniedNetworks
        self.maxBodyBytes = maxBodyBytes
        self.userAgent = userAgent
        self.keptHeaders = keptHeaders
    }
}

/// Runs fetch jobs: an HTTP GET with AsyncHTTPClient, body kept up to a cap.
///
/// One shared `HTTPClient` serves every job, so connections are pooled per host. A
/// non-2xx answer fails the attempt with `http_status` and keeps the response.
public struct FetchExecutor: JobExecutor {
    let client: HTTPClient
    let options: FetchOptions

    /// Makes an executor on a shared client.
    ///
    /// - Parameters:
    ///   - client: The client; its owner shuts it down after the runtime stopped.
    ///   - options: Body cap, user agent, kept headers.
    public init(client: HTTPClient, options: FetchOptions = FetchOptions()) {
        self.client = client
        self.options = options
    }

    /// Fetches the job's URL.
    ///
    /// - Throws: `ExecutionFailure` with `invalid_url`, `connect_failed`, `dns_failed`,
    ///   `tls_failed`, `timeout`, `redirect_limit`, `body_too_large`, `connection_reset`,
    ///   `http_status` (with the response) or `internal`; `CancellationError` when cancelled
    ///   (the request is aborted).
    public func execute(_ job: ClaimedJob) async throws -> JobResult {
        guard case .fetch(let fetch) = job.spec.payload else {
            throw ExecutionFailure(.internal, "the fetch executor got a \(job.spec.kind) job")
        }
        let cap = min(fetch.maxBodyBytes ?? options.maxBodyBytes, options.maxBodyBytes)
        var request = HTTPClientRequest(url: fetch.url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: options.userAgent)
        for (name, value) in fetch.headers ?? [:] {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        // The runtime enforces the job's timeout by cancelling; this deadline is a backstop
        // for jobs without one, so no request can hang forever.
        let seconds = job.timeout ?? 24 * 3600
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        let start = ContinuousClock.now
        do {
            let response = try await client.execute(request, deadline: deadline)
            if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > cap {
                throw ExecutionFailure(.bodyTooLarge, "the response declares \(length) bytes, over the \(cap)-byte cap")
            }
            var body = ByteBuffer()
            for try await chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= cap else {
                    throw ExecutionFailure(.bodyTooLarge, "the response body is over the \(cap)-byte cap")
                }
                body.writeImmutableBuffer(chunk)
            }
            let elapsed = ContinuousClock.now - start
            let bytes = Array(body.readableBytesView)
            let text = String(validating: bytes, as: UTF8.self)
            var headers: [String: String] = [:]
            for header in response.headers where options.keptHeaders.contains(header.name.lowercased()) {
                let name = header.name.lowercased()
                headers[name] = headers[name].map { $0 + ", " + header.value } ?? header.value
            }
            let result = FetchResult(
                status: Int(response.status.code), headers: headers,
                body: text ?? Data(bytes).base64EncodedString(), bodyEncoding: text == nil ? .base64 : .utf8,
                size: bytes.count,
                elapsedMs: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15,
                finalURL: response.url?.absoluteString ?? fetch.url)
            guard (200..<300).contains(result.status) else {
                let status = response.status
                var retryAfter: Duration?
                if result.status == 429 || result.status == 503 {
                    retryAfter = response.headers.first(name: "retry-after").flatMap { Self.parseRetryAfter($0) }
                }
                throw ExecutionFailure(
                    JobError(
                        .httpStatus, "the server answered \(status.code) \(status.reasonPhrase)",
                        httpStatus: result.status),
                    result: .fetch(result), retryAfter: retryAfter)
            }
            return .fetch(result)
        } catch let failure as ExecutionFailure {
            throw failure
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ExecutionFailure(Self.jobError(for: error, url: fetch.url, timeout: job.timeout))
        }
    }

    /// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
    static func parseRetryAfter(_ text: String, now: Date = Date()) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return .milliseconds(Int64(seconds * 1000))
    }

    /// Names a client failure with a job error code.
    static func jobError(for error: any Error, url: String, timeout: Double?) -> JobError {
        let components = URLComponents(string: url)
        let host = components.map { ($0.host ?? url) + ($0.port.map { ":\($0)" } ?? "") } ?? url
        func reason(_ error: any Error) -> String {
            if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
            return "\(error)"
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return JobError(
                    .timeout, "no complete answer from \(host) within \(timeout.map { "\($0)s" } ?? "the deadline")")
            case .connectTimeout:
                return JobError(.connectFailed, "connecting to \(host) timed out")
            case .redirectLimitReached:
                return JobError(.redirectLimit, "too many redirects fetching \(url)")
            case .redirectCycleDetected:
                return JobError(.redirectLimit, "a redirect cycle fetching \(url)")
            case .invalidURL, .emptyHost, .emptyScheme:
                return JobError(.invalidURL, "cannot fetch \(url): \(error)")
            case .tlsHandshakeTimeout:
                return JobError(.tlsFailed, "the TLS handshake with \(host) timed out")
            case .remoteConnectionClosed:
                return JobError(.connectionReset, "\(host) closed the connection before the response was complete")
            case .cancelled:
                return JobError(.cancelled, "the request was cancelled")
            default:
                return JobError(.internal, "fetching \(url) failed: \(error)")
            }
        }
        if let error = error as? NIOConnectionError {
            let resolved = error.dnsAError == nil || error.dnsAAAAError == nil
            if !resolved || (error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil)) {
                return JobError(.dnsFailed, "cannot resolve \(host)")
            }
            let why = error.connectionErrors.first.map { reason($0.error) } ?? "no address answered"
            return JobError(.connectFailed, "cannot connect to \(host): \(why)")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNRESET, EPIPE:
                return JobError(.connectionReset, "\(host) reset the connection")
            default:
                return JobError(.connectFailed, "cannot connect to \(host): \(reason(error))")
            }
        }
        if error is SocketAddressError {
            return JobError(.dnsFailed, "cannot resolve \(host): \(error)")
        }
        let typeName = String(describing: type(of: error))
        if typeName.contains("SSL") || typeName.contains("TLS") || typeName.contains("Certificate") {
            return JobError(.tlsFailed, "TLS with \(host) failed: \(error)")
        }
        if error is ChannelError {
            return JobError(.connectionReset, "the connection to \(host) failed: \(error)")
        }
        return JobError(.internal, "fetching \(url) failed: \(error)")
    }
}
