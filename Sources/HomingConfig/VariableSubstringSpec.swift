/// The `[offset.][width]` part of a `%` variable, and how it cuts a value.
struct VariableSubstringSpec {
    var offset = 0
    var width = 0
    var zeroPadding = false
    var isEmpty = true

    mutating func parseNumbers(_ characters: [Character], _ index: inout Int) {
        let begin = index
        var sign = 1
        if index < characters.count, characters[index] == "-" { sign = -1; index += 1 }
        if index < characters.count, characters[index] == "0" { zeroPadding = true; index += 1 }
        width = Self.digits(characters, &index)
        if index < characters.count, characters[index] == "." {
            index += 1
            offset = sign * width
            sign = 1
            width = 0
            zeroPadding = false
            if index < characters.count, characters[index] == "0" { zeroPadding = true; index += 1 }
            if index < characters.count, characters[index] == "-" { sign = -1; index += 1 }
            width = Self.digits(characters, &index)
        }
        width *= sign
        isEmpty = index == begin
    }

    private static func digits(_ characters: [Character], _ index: inout Int) -> Int {
        var value = 0
        while index < characters.count, let digit = characters[index].wholeNumberValue, characters[index].isASCII {
            value = Swift.min(value * 10 + digit, 1_000_000)
            index += 1
        }
        return value
    }

    /// `value` cut (or zero-padded) as the spec says.
    func cut(_ value: String) -> String {
        var characters = Array(value)
        if offset < 0 {
            let fromEnd = -offset
            if characters.count > fromEnd { characters.removeFirst(characters.count - fromEnd) }
        } else if offset > 0 {
            characters.removeFirst(Swift.min(offset, characters.count))
        }
        if width == 0 { return String(characters) }
        if zeroPadding {
            guard width > 0, characters.count < width else { return String(characters) }
            return String(repeating: "0", count: width - characters.count) + String(characters)
        }
        if width < 0 {
            let keep = characters.count + width
            return keep > 0 ? String(characters.prefix(keep)) : ""
        }
        return String(characters.prefix(width))
    }
}
