import Glibc

/// doveadm's `table` output (`doveadm-print-table.c`), which `doveadm quota get` and
/// `doveadm -f table user` use: every column as wide as its widest value (or title), the
/// table then stretched to the terminal's width by widening the last column by half the room
/// left (80 columns when the output is no terminal), or shrunk from the right when too wide.
/// Values are padded, so lines end in spaces. The widths come from the first 100 rows, as
/// doveadm buffers only those.
struct DoveadmTable {
    /// One column: its title and whether values are right-aligned (doveadm's
    /// `DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY`).
    struct Column {
        var title: String
        var rightAligned = false
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// The width to fill: ``terminalWidth()`` for standard output.
    var width: Int

    /// doveadm buffers this many rows to work out the widths; later rows get the same widths.
    static let bufferedRows = 100

    /// The standard output's terminal width (at least 30), or 80 when it is no terminal.
    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return 80 }
        return max(30, Int(size.ws_col))
    }

    /// The table's text, each line ended by LF.
    var text: String {
        let widths = columnWidths()
        var out = ""
        func line(_ cells: [String]) {
            for (index, cell) in cells.enumerated() where index < widths.count {
                if index > 0 { out += " " }
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.unicodeScalars.count))
                out += columns[index].rightAligned ? pad + cell : cell + pad
            }
            out += "\n"
        }
        line(columns.map(\.title))
        for row in rows { line(row) }
        return out
    }

    /// doveadm's `doveadm_calc_header_length`, step by step (its quirks included: a shrinking
    /// pass that does not finish narrows columns without counting it, and stops).
    func columnWidths() -> [Int] {
        var length = columns.map { $0.title.unicodeScalars.count }
        var minimum = length
        var maximum = length
        for row in rows.prefix(Self.bufferedRows) {
            for (index, value) in row.enumerated() where index < columns.count {
                let count = value.unicodeScalars.count
                minimum[index] = min(minimum[index], count)
                if maximum[index] < count {
                    maximum[index] = count
                    length[index] = count
                }
            }
        }
        guard !columns.isEmpty else { return [] }
        var total = maximum.reduce(0) { $0 + $1 + 1 } - 1
        while total > width {
            let before = total
            for index in stride(from: columns.count - 1, through: 0, by: -1) {
                var diff = length[index] - minimum[index]
                if total - diff <= width {
                    diff = total - width
                    length[index] -= diff
                    total -= diff
                    break
                }
                if diff > 0 { length[index] -= diff == 1 ? 1 : diff / 2 }
            }
            if total == before { break }
        }
        if total < width {
            length[columns.count - 1] += (width - total) / 2
        }
        return length
    }
}
