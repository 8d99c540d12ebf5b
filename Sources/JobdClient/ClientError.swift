import AsyncHTTPClient
import Foundation
import NIOCore

/// A failure of the client side: jobd could not be reached, or it answered with
/// something the client cannot read.
///
/// API errors (a 4xx/5xx answer with an error body) are thrown as `APIError` instead;
/// a `ClientError` means the conversation itself failed. `jobctl` exits 69 for
/// `daemon_unreachable` and `timeout`.
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable error code, compared by its raw string.
    ///
    /// Adding a code is not a breaking change; renaming or reusing one is.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable wire and CLI form, such as `daemon_unreachable`.
        public var rawValue: String

        /// Wraps a raw code string.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The raw code string.
        public var description: String { rawValue }

        /// The socket is missing, refuses connections, or the connection broke before
        /// an answer arrived. The message names the socket path and how to start jobd.
        public static let daemonUnreachable = Code(rawValue: "daemon_unreachable")
        /// jobd accepted the request but gave no complete answer before the deadline.
        public static let timeout = Code(rawValue: "timeout")
        /// A 2xx answer whose body is not the expected JSON (or is over the size cap).
        public static let badResponse = Code(rawValue: "bad_response")
        /// The socket exists but the caller may not connect to it: the message names the
        /// socket's group to join. `jobctl` exits 77 (EX_NOPERM).
        public static let permissionDenied = Code(rawValue: "permission_denied")
        /// `--socket` is not a path or a `unix://` URL. `jobctl` exits 2.
        public static let invalidSocket = Code(rawValue: "invalid_socket")
        /// A local file (such as `jobctl backup`'s) could not be written; the message names
        /// it and the system's reason.
        public static let cannotWrite = Code(rawValue: "cannot_write")
    }

    /// The stable code.
    public var code: Code
    /// A human-readable explanation that names the socket path.
    public var message: String

    /// Makes an error from a code and a message.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: The explanation, printed as `error: <message> [<code>]` by `jobctl`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `<message> [<code>]`, the form `jobctl` prints after `error: `.
    public var description: String { "\(message) [\(code)]" }

    /// A `daemon_unreachable` error naming the socket, the reason and how to start jobd.
    ///
    /// - Parameters:
    ///   - socketPath: The socket the client tried.
    ///   - reason: Why the connection failed, in a few words (`no such file`).
    /// - Returns: The error, with a hint that fits the socket: `systemctl start jobd` for
    ///   the system socket under `/run/jobd/`, `systemctl --user start jobd` otherwise.
    public static func unreachable(socketPath: String, reason: String) -> ClientError {
        let unit = socketPath.hasPrefix("/run/jobd/") ? "systemctl start jobd" : "systemctl --user start jobd"
        return ClientError(
            .daemonUnreachable,
            "cannot reach jobd at \(socketPath) (\(reason)): is it running? Start it with `jobd` or `\(unit)`"
        )
    }

    /// A `permission_denied` error naming the socket's group and how to join it.
    ///
    /// The group is the socket's own, or its directory's when the caller may not even look
    /// inside (`/run/jobd` is mode 0750, group `jobd`).
    ///
    /// - Parameter socketPath: The socket the client could not connect to.
    /// - Returns: The error.
    public static func permissionDenied(socketPath: String) -> ClientError {
        let directory = (socketPath as NSString).deletingLastPathComponent
        let group = groupName(of: socketPath) ?? groupName(of: directory)
        if group == "root" {
            // A daemon root started by hand: joining root's group is no advice to give.
            return ClientError(
                .permissionDenied,
                "permission denied on \(socketPath): it belongs to a jobd that root started by hand (group root). "
                    + "Shared use goes through the system service, whose socket has group jobd: ask an "
                    + "administrator to run it (systemctl enable --now jobd) and to add you (usermod -aG jobd)")
        }
        guard let group else {
            return ClientError(
                .permissionDenied,
                "permission denied on \(socketPath): your user may not use this socket; ask its owner for access")
        }
        return ClientError(
            .permissionDenied,
            "permission denied on \(socketPath): only members of its group '\(group)' may use it. Add your user "
                + "to the group (sudo usermod -aG \(group) $USER) and log in again: a new group takes effect at "
                + "the next login")
    }

    /// The name of the group owning `path` (its number when the group has no name).
    static func groupName(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(info.st_gid, &group, &buffer, buffer.count, &result) == 0, result != nil,
            let name = group.gr_name
        else { return "\(info.st_gid)" }
        return String(cString: name)
    }

    /// Converts a transport failure into the error the client throws.
    ///
    /// Cancellation stays `CancellationError`; a body over the cap becomes
    /// `bad_response`; a missed deadline becomes `timeout`; everything else (missing
    /// socket, refused, reset, closed) becomes `daemon_unreachable`.
    static func wrapping(_ error: any Error, socketPath: String, deadline: Duration) -> any Error {
        switch error {
        case is CancellationError, is ClientError:
            return error
        case is NIOTooManyBytesError:
            return ClientError(.badResponse, "jobd at \(socketPath) sent an answer larger than the client's limit")
        case let error as HTTPClientError:
            switch error {
            case .cancelled:
                return CancellationError()
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return ClientError(
                    .timeout,
                    "jobd at \(socketPath) did not answer within \(deadline.messageText): it may be overloaded or stuck"
                )
            case .remoteConnectionClosed:
                return unreachable(socketPath: socketPath, reason: "jobd closed the connection")
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return unreachable(socketPath: socketPath, reason: "connect timed out")
            default:
                return unreachable(socketPath: socketPath, reason: error.shortDescription.lowercased())
            }
        case let error as IOError:
            if error.errnoCode == EACCES || error.errnoCode == EPERM { return permissionDenied(socketPath: socketPath) }
            return unreachable(socketPath: socketPath, reason: reason(errno: error.errnoCode))
        case let error as SocketAddressError:
            switch error {
            case .unixDomainSocketPathTooLong:
                return unreachable(socketPath: socketPath, reason: "the socket path is longer than 107 bytes")
            default:
                return unreachable(socketPath: socketPath, reason: "invalid socket path")
            }
        case let error as ChannelError:
            switch error {
            case .connectTimeout:
                return unreachable(socketPath: socketPath, reason: "connect timed out")
            default:
                return unreachable(socketPath: socketPath, reason: "the connection broke: \(error)")
            }
        default:
            return unreachable(socketPath: socketPath, reason: String(describing: error))
        }
    }

    /// A short reason for a failed system call on the socket.
    static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case ECONNREFUSED: "connection refused: nothing listens on the socket"
        case EACCES, EPERM: "permission denied"
        case ENOTSOCK: "not a socket"
        case ECONNRESET: "connection reset"
        case EPIPE: "broken pipe"
        case ENOTDIR: "a parent of the path is not a directory"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}
