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
    /// The most redirects one fetch follows (0: a 3xx answer is the result).
    public var maxRedirects: Int

    public init(
        maxBodyBytes: Int = 10 * 1024 * 1024,
        userAgent: String = "jobd/\(jobdVersion)",
        keptHeaders: Set<String> = [
            "content-type", "content-length", "content-encoding", "etag", "last-modified", "location",
            "retry-after", "cache-control", "date", "server",
        ],
        deniedNetworks: [String] = ["169.254.0.0/16", "fe80::/10"],
        maxRedirects: Int = 10
    ) {
        self.maxRedirects = maxRedirects
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
///
/// Redirects are followed here, not by the client, so every hop's destination is checked
/// against the denied networks before anything is sent to it; a cycle or more than
/// `maxRedirects` hops fails `redirect_limit`.
public struct FetchExecutor: JobExecutor {
    let client: HTTPClient
    let options: FetchOptions
    let policy: DestinationPolicy

    /// Makes an executor on a shared client.
    ///
    /// - Parameters:
    ///   - client: The client, made with `makeHTTPClient(options:connectionsPerHost:)`
    ///     (its owner shuts it down after the runtime stopped).
    ///   - options: Body cap, user agent, kept headers, denied networks, redirects.
    /// - Throws: `DestinationPolicy.InvalidNetwork` for a denied network that does not parse.
    public init(client: HTTPClient, options: FetchOptions = FetchOptions()) throws {
        self.client = client
        self.options = options
        self.policy = try DestinationPolicy(deniedNetworks: options.deniedNetworks)
    }

    /// The HTTP client fetch jobs need: no automatic redirects (the executor follows them,
    /// checking each hop), no connection retries (a refusal is `connect_failed` at once;
    /// `max_attempts` decides about trying again), and the connection-time destination check.
    ///
    /// - Throws: `DestinationPolicy.InvalidNetwork`.
    public static func makeHTTPClient(options: FetchOptions, connectionsPerHost: Int) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, connectionsPerHost)
        try DestinationPolicy(deniedNetworks: options.deniedNetworks).apply(to: &configuration)
        return HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
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
        var url = fetch.url
        var headers = HTTPHeaders([("User-Agent", options.userAgent)])
        for (name, value) in fetch.headers ?? [:] {
            headers.replaceOrAdd(name: name, value: value)
        }
        var visited: Set<String> = [url]
        // The runtime enforces the job's timeout by cancelling; this deadline is a backstop
        // for jobs without one, so no request can hang forever.
        let seconds = job.timeout ?? 24 * 3600
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        let start = ContinuousClock.now
        do {
            var response: HTTPClientResponse
            while true {
                try await policy.check(url: url)
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                request.headers = headers
                response = try await client.execute(request, deadline: deadline)
                guard options.maxRedirects > 0, [301, 302, 303, 307, 308].contains(response.status.code),
                    let location = response.headers.first(name: "location")
                else { break }
                // The redirect's own body is not wanted; reading a little of it lets the
                // connection be reused.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                guard visited.count <= options.maxRedirects else {
                    throw ExecutionFailure(
                        .redirectLimit, "more than \(options.maxRedirects) redirects fetching \(fetch.url)")
                }
                guard let next = URL(string: location, relativeTo: URL(string: url))?.absoluteURL.absoluteString,
                    let scheme = URLComponents(string: next)?.scheme?.lowercased(),
                    scheme == "http" || scheme == "https"
                else {
                    throw ExecutionFailure(
                        .invalidURL, "\(url) redirects to \(location.debugDescription), which cannot be fetched")
                }
                guard visited.insert(next).inserted else {
                    throw ExecutionFailure(.redirectLimit, "a redirect cycle fetching \(fetch.url) (back to \(next))")
                }
                if URLComponents(string: next)?.host?.lowercased() != URLComponents(string: url)?.host?.lowercased() {
                    // Credentials meant for one host never travel to another.
                    headers.remove(name: "Authorization")
                    headers.remove(name: "Cookie")
                }
                url = next
            }
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
            var kept: [String: String] = [:]
            for header in response.headers where options.keptHeaders.contains(header.name.lowercased()) {
                let name = header.name.lowercased()
                kept[name] = kept[name].map { $0 + ", " + header.value } ?? header.value
            }
            let result = FetchResult(
                status: Int(response.status.code), headers: kept,
                body: text ?? Data(bytes).base64EncodedString(), bodyEncoding: text == nil ? .base64 : .utf8,
                size: bytes.count,
                elapsedMs: elapsed.secondsValue * 1000,
                finalURL: url)
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
        } catch let blocked as BlockedDestination {
            throw ExecutionFailure(.blockedDestination, "fetching \(url) was refused: \(blocked)")
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
        if let blocked = error as? BlockedDestination {
            return JobError(.blockedDestination, "fetching \(url) was refused: \(blocked)")
        }
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
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return JobError(.dnsFailed, "cannot resolve \(host): \(error)")
        }
        if let error = error as? HTTPParserError, error == .invalidEOFState {
            // The server closed the connection (a FIN, not a reset) in the middle of the
            // head, short of the declared Content-Length or inside a chunk: the parser, not
            // the socket, sees that the response is incomplete.
            return JobError(.connectionReset, "\(host) closed the connection before the response was complete")
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
