/// Turns HTML into plain text for `body :text` (Pigeonhole extracts the text of `text/html`).
///
/// Tags are removed; the contents of `script`, `style`, `head` and comments are dropped;
/// block elements (`p`, `div`, `br`, `li`, `tr`, headings...) become line breaks; character
/// references (`&amp;`, `&#233;`, `&#xE9;`, and the common named ones) are decoded; runs of
/// white space within a line become one space and blank lines are collapsed.
public enum SieveHTMLText {
    /// The text of `html`.
    public static func extract(_ html: String) -> String {
        let scalars = Array(html.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        var skipUntilTag: String?

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                // Comment.
                if matchesLiteral(scalars, at: index, "<!--") {
                    index = findLiteral(scalars, from: index + 4, "-->").map { $0 + 3 } ?? scalars.count
                    continue
                }
                guard let close = findTagEnd(scalars, from: index + 1) else {
                    output.append(scalar)
                    index += 1
                    continue
                }
                let tag = tagName(scalars[(index + 1)..<close])
                index = close + 1
                if let skip = skipUntilTag {
                    if tag.name == skip && tag.closing { skipUntilTag = nil }
                    continue
                }
                if !tag.closing && ["script", "style", "head", "title"].contains(tag.name) {
                    skipUntilTag = tag.name
                    continue
                }
                if blockTags.contains(tag.name) {
                    output.append("\n")
                } else if tag.name == "td" || tag.name == "th" {
                    output.append(" ")
                }
                continue
            }
            if skipUntilTag != nil {
                index += 1
                continue
            }
            if scalar == "&", let (decoded, length) = decodeEntity(scalars, at: index) {
                output.append(decoded)
                index += length
                continue
            }
            output.append(scalar)
            index += 1
        }
        return normalizeSpace(String(output))
    }

    private static let blockTags: Set<String> = [
        "br", "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "dd", "dt", "dl", "section", "article", "header", "footer", "body",
    ]

    private static let namedEntities: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "\u{A9}",
        "reg": "\u{AE}", "euro": "\u{20AC}", "eacute": "\u{E9}", "egrave": "\u{E8}", "agrave": "\u{E0}",
        "auml": "\u{E4}", "ouml": "\u{F6}", "uuml": "\u{FC}", "Auml": "\u{C4}", "Ouml": "\u{D6}",
        "Uuml": "\u{DC}", "szlig": "\u{DF}", "ccedil": "\u{E7}", "mdash": "\u{2014}", "ndash": "\u{2013}",
        "hellip": "\u{2026}", "laquo": "\u{AB}", "raquo": "\u{BB}", "rsquo": "\u{2019}", "lsquo": "\u{2018}",
        "ldquo": "\u{201C}", "rdquo": "\u{201D}",
    ]

    private static func matchesLiteral(_ scalars: [Unicode.Scalar], at index: Int, _ literal: String) -> Bool {
        let literalScalars = Array(literal.unicodeScalars)
        guard index + literalScalars.count <= scalars.count else { return false }
        return scalars[index..<(index + literalScalars.count)].elementsEqual(literalScalars)
    }

    private static func findLiteral(_ scalars: [Unicode.Scalar], from start: Int, _ literal: String) -> Int? {
        var index = start
        while index < scalars.count {
            if matchesLiteral(scalars, at: index, literal) { return index }
            index += 1
        }
        return nil
    }

    /// The index of the `>` ending a tag (quoted attribute values may contain `>`).
    private static func findTagEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start < scalars.count else { return nil }
        let first = scalars[start]
        guard first == "/" || first == "!" || first == "?" || first.properties.isAlphabetic else { return nil }
        var quote: Unicode.Scalar?
        var index = start
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
            } else if scalar == ">" {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func tagName(_ inner: ArraySlice<Unicode.Scalar>) -> (name: String, closing: Bool) {
        var rest = inner[...]
        var closing = false
        if rest.first == "/" {
            closing = true
            rest = rest.dropFirst()
        }
        let name = rest.prefix { $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        return (String(String.UnicodeScalarView(name)).lowercased(), closing)
    }

    private static func decodeEntity(_ scalars: [Unicode.Scalar], at index: Int) -> (Unicode.Scalar, Int)? {
        var end = index + 1
        while end < scalars.count, end - index <= 10, scalars[end] != ";" { end += 1 }
        guard end < scalars.count, scalars[end] == ";", end > index + 1 else { return nil }
        let name = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
        let length = end - index + 1
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value: UInt32?
            if digits.first == "x" || digits.first == "X" {
                value = UInt32(digits.dropFirst(), radix: 16)
            } else {
                value = UInt32(digits, radix: 10)
            }
            guard let value, let decoded = Unicode.Scalar(value) else { return nil }
            return (decoded == "\u{A0}" ? " " : decoded, length)
        }
        guard let decoded = namedEntities[name] else { return nil }
        return (decoded, length)
    }

    /// One space for each run of white space in a line; no blank lines, no leading or
    /// trailing space.
    private static func normalizeSpace(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{A0}" })
            if !words.isEmpty {
                lines.append(words.joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
