import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The terminal of a full-screen view: raw keys in, the alternate screen out, and the
/// terminal put back exactly as it was on every way out (`restore()`, called once).
///
/// Raw mode turns echo, line editing and the terminal's own signals off, so Ctrl-C arrives
/// as a key and the view ends cleanly; SIGTERM, SIGHUP and SIGINT (from `kill`) arrive as
/// inputs too, and SIGWINCH as a resize.
final class Terminal: @unchecked Sendable {
    /// What the view reacts to.
    enum Input: Sendable, Equatable {
        case key(Character)
        case up, down, enter, escape, interrupt, resize
        case signal(Int32)
    }

    private var original = termios()
    private var isRaw = false
    private var signalSources: [any DispatchSourceSignal] = []
    let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation

    init() {
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
    }

    /// Switches to raw mode and the alternate screen, hides the cursor, and starts
    /// reading keys and signals.
    func enter() throws {
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { throw POSIXError(.ENOTTY) }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        raw.c_cc.6 = 1  // VMIN
        raw.c_cc.5 = 0  // VTIME
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 else { throw POSIXError(.ENOTTY) }
        isRaw = true
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
        for number in [SIGTERM, SIGHUP, SIGINT, SIGWINCH] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let continuation = self.continuation
            source.setEventHandler { continuation.yield(number == SIGWINCH ? .resize : .signal(number)) }
            source.resume()
            signalSources.append(source)
        }
        let continuation = self.continuation
        // A blocking read on a thread of its own: never on the cooperative pool.
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 64)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0, errno == EINTR { continue }
                    continuation.yield(.signal(SIGHUP))
                    return
                }
                for input in Self.parse(Array(buffer[0..<count])) { continuation.yield(input) }
            }
        }
        reader.start()
    }

    /// Puts the terminal back: cursor shown, main screen, the original modes.
    func restore() {
        for source in signalSources { source.cancel() }
        signalSources = []
        guard isRaw else { return }
        write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
        isRaw = false
        for number in [SIGTERM, SIGHUP, SIGINT, SIGWINCH] { signal(number, SIG_DFL) }
    }

    /// Columns and rows (80×24 when the terminal does not say).
    var size: (width: Int, height: Int) {
        var window = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else {
            return (80, 24)
        }
        return (Int(window.ws_col), Int(window.ws_row))
    }

    /// Draws `lines` over the whole screen, each cleared to its end.
    func draw(_ lines: [String]) {
        var text = "\u{1B}[H"
        for (index, line) in lines.enumerated() {
            text += line + "\u{1B}[K" + (index == lines.count - 1 ? "" : "\r\n")
        }
        write(text + "\u{1B}[J")
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// The inputs in bytes read from the keyboard: letters, arrows (`ESC [ A`, `ESC O A`),
    /// Enter, a lone Esc and Ctrl-C.
    static func parse(_ bytes: [UInt8]) -> [Input] {
        var inputs: [Input] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x1B:
                if index + 2 < bytes.count,
                    bytes[index + 1] == UInt8(ascii: "[") || bytes[index + 1] == UInt8(ascii: "O")
                {
                    switch bytes[index + 2] {
                    case UInt8(ascii: "A"): inputs.append(.up)
                    case UInt8(ascii: "B"): inputs.append(.down)
                    default: break
                    }
                    index += 3
                    continue
                }
                inputs.append(.escape)
            case 0x03: inputs.append(.interrupt)
            case 0x0D, 0x0A: inputs.append(.enter)
            case 0x20...0x7E: inputs.append(.key(Character(Unicode.Scalar(byte))))
            default: break
            }
            index += 1
        }
        return inputs
    }
}
