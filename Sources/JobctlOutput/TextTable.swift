/// A plain-text table whose columns are padded to their widest cell.
///
/// Columns are separated by two spaces; the last column is not padded, so no line ends
/// in spaces. Widths count `Character`s, which is right for the ASCII that jobd's
/// tables mostly hold.
public struct TextTable: Sendable, Hashable {
    /// The header row, or nil for a table without one (a key/value view).
    var header: [String]?
    /// The body rows. Rows shorter than the widest row are padded with empty cells.
    var rows: [[String]]

    /// Makes a table.
    ///
    /// - Parameters:
    ///   - header: The column titles, or nil for none.
    ///   - rows: The body rows.
    init(header: [String]? = nil, rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    /// Makes a two-column key/value view: `key:` padded, then the value.
    ///
    /// - Parameter pairs: The keys and values, in display order.
    /// - Returns: A table without a header.
    static func keyValue(_ pairs: [(String, String)]) -> TextTable {
        TextTable(rows: pairs.map { [$0.0 + ":", $0.1] })
    }

    /// Appends a body row.
    ///
    /// - Parameter row: The cells, one per column.
    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table's lines, without line terminators.
    ///
    /// With a palette that is on, the cells of a `STATE` column (or the value of a
    /// `state:` row) are coloured; widths are counted on the plain text.
    ///
    /// - Parameter palette: The colours; off by default.
    /// - Returns: The header line (if any) followed by one line per row.
    func lines(palette: Palette = Palette(isEnabled: false)) -> [String] {
        let all = (header.map { [$0] } ?? []) + rows
        let columns = all.map(\.count).max() ?? 0
        guard columns > 0 else { return all.map { _ in "" } }
        var widths = Array(repeating: 0, count: columns)
        for row in all {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        let stateColumn = header?.firstIndex(of: "STATE")
        return all.enumerated().map { number, row in
            let isHeader = header != nil && number == 0
            var line = ""
            for index in 0..<columns {
                let cell = index < row.count ? row[index] : ""
                let isState =
                    !isHeader && (index == stateColumn || (header == nil && index == 1 && row.first == "state:"))
                let shown = isState ? palette.state(cell) : cell
                if index == columns - 1 {
                    line += shown
                } else {
                    line += shown + String(repeating: " ", count: widths[index] - cell.count) + "  "
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// The table as text: its lines joined, each ending with a newline.
    ///
    /// - Parameter palette: The colours; off by default.
    /// - Returns: The rendered table, empty when it has no header and no rows.
    func render(palette: Palette = Palette(isEnabled: false)) -> String {
        lines(palette: palette).map { $0 + "\n" }.joined()
    }
}
