import JobdModel
import Testing

@testable import JobctlOutput

/// Colour only on a terminal, never with NO_COLOR or TERM=dumb; widths stay right.
@Suite struct PaletteTests {
    @Test("on for a terminal; off for a pipe, a non-empty NO_COLOR, or TERM=dumb")
    func detection() {
        #expect(Palette(isTerminal: true, environment: ["TERM": "xterm"]).isEnabled)
        #expect(Palette(isTerminal: true, environment: ["NO_COLOR": ""]).isEnabled)
        #expect(!Palette(isTerminal: false, environment: [:]).isEnabled)
        #expect(!Palette(isTerminal: true, environment: ["NO_COLOR": "1"]).isEnabled)
        #expect(!Palette(isTerminal: true, environment: ["TERM": "dumb"]).isEnabled)
    }

    @Test("a STATE column is coloured and padded by its plain width; off, the table is unchanged")
    func table() {
        let table = TextTable(
            header: ["ID", "STATE", "KIND"], rows: [["1", "succeeded", "delay"], ["2", "failed", "fetch"]])
        let on = table.lines(palette: Palette(isEnabled: true))
        #expect(on[0] == "ID  STATE      KIND")
        #expect(on[1] == "1   \u{1B}[32msucceeded\u{1B}[0m  delay")
        #expect(on[2] == "2   \u{1B}[31mfailed\u{1B}[0m     fetch")
        #expect(table.lines() == ["ID  STATE      KIND", "1   succeeded  delay", "2   failed     fetch"])
        let fields = TextTable.keyValue([("id", "1"), ("state", "cancelled"), ("job", "failed")])
        #expect(fields.lines(palette: Palette(isEnabled: true))[1] == "state:  \u{1B}[33mcancelled\u{1B}[0m")
        // Only the state row: a job's own text that happens to be a state name stays plain.
        #expect(fields.lines(palette: Palette(isEnabled: true))[2] == "job:    failed")
    }

    @Test("the error: prefix is bold red when on; the rest of the line is plain")
    func errorLine() {
        #expect(Palette(isEnabled: true).errorLine("error: x [y]\n") == "\u{1B}[1;31merror:\u{1B}[0m x [y]\n")
        #expect(Palette(isEnabled: false).errorLine("error: x") == "error: x")
        #expect(Palette(isEnabled: true).errorLine("warning: x") == "warning: x")
    }
}
