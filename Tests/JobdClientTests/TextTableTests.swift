import JobdClient
import Testing

@Suite("TextTable")
struct TextTableTests {
    @Test("columns are padded to the widest cell, two spaces apart, with no trailing spaces")
    func aligned() {
        let table = TextTable(
            header: ["ID", "STATE", "SUMMARY"],
            rows: [["1", "succeeded", "delay 1s"], ["100", "queued", ""]]
        )
        #expect(
            table.lines() == [
                "ID   STATE      SUMMARY",
                "1    succeeded  delay 1s",
                "100  queued",
            ])
        #expect(table.render() == table.lines().map { $0 + "\n" }.joined())
    }

    @Test("short rows get empty cells")
    func ragged() {
        let table = TextTable(rows: [["a", "b", "c"], ["long"]])
        #expect(table.lines() == ["a     b  c", "long"])
    }

    @Test("a key/value view aligns the values")
    func keyValue() {
        let table = TextTable.keyValue([("id", "7"), ("final url", "https://x/")])
        #expect(table.lines() == ["id:         7", "final url:  https://x/"])
    }

    @Test("an empty table renders nothing; a header alone renders one line")
    func empty() {
        #expect(TextTable().render() == "")
        #expect(TextTable(header: ["ID", "STATE"]).lines() == ["ID  STATE"])
    }
}
