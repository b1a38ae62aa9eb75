/// The contents of a maildir folder's `dovecot-keywords` file: which IMAP keyword each of the
/// 26 maildir info letters `a`...`z` stands for (Dovecot's `maildir-keywords.c`).
///
/// The file holds one `<index> <name>` line per keyword, index 0 (letter `a`) to 25 (`z`), in
/// index order. Names match without regard to case, as Dovecot matches them; a folder has room
/// for 26 keywords, and a keyword that finds no free letter is not stored in the file name.
public struct MaildirKeywordTable: Sendable, Hashable {
    /// How many keywords a folder can name (`MAILDIR_MAX_KEYWORDS`).
    public static let capacity = 26

    /// The keyword of each index.
    public private(set) var names: [Int: String] = [:]

    /// An empty table.
    public init() {}

    /// Reads a `dovecot-keywords` file. Lines that are not `<index> <name>` with an index below
    /// 26 and a name not seen before are skipped, as Dovecot skips them.
    public init(parsing bytes: [UInt8]) {
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let space = line.firstIndex(of: 0x20) else { continue }
            let digits = line[line.startIndex..<space]
            let name = String(decoding: line[line.index(after: space)...], as: UTF8.self)
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ (0x30...0x39).contains($0) }),
                let index = Int(String(decoding: digits, as: UTF8.self)), index < Self.capacity,
                !name.isEmpty, self.index(of: name) == nil, names[index] == nil
            else { continue }
            names[index] = name
        }
    }

    /// The index of `name` (compared without regard to case), if the table has it.
    public func index(of name: String) -> Int? {
        let lowered = name.lowercased()
        return names.first { $0.value.lowercased() == lowered }?.key
    }

    /// The info letters for `keywords`, sorted, adding the ones the table lacks at the first
    /// free indexes. Keywords that are not IMAP atoms, and those past the 26th, get no letter.
    /// Returns the letters, whether the table changed (the file must then be written) and the
    /// keywords left without a letter.
    public mutating func letters(for keywords: [String]) -> (letters: String, changed: Bool, unassigned: [String]) {
        var letters: Set<Character> = []
        var changed = false
        var unassigned: [String] = []
        for keyword in keywords {
            guard Self.isValidKeyword(keyword) else {
                unassigned.append(keyword)
                continue
            }
            var index = self.index(of: keyword)
            if index == nil, let free = (0..<Self.capacity).first(where: { names[$0] == nil }) {
                names[free] = keyword
                index = free
                changed = true
            }
            if let index { letters.insert(Self.letter(index)) } else { unassigned.append(keyword) }
        }
        return (String(letters.sorted()), changed, unassigned)
    }

    /// The file's text: `<index> <name>` lines in index order.
    public var contents: [UInt8] {
        var text = ""
        for index in names.keys.sorted() {
            text += "\(index) \(names[index] ?? "")\n"
        }
        return Array(text.utf8)
    }

    /// The info letter of an index: `a` for 0 ... `z` for 25.
    public static func letter(_ index: Int) -> Character {
        Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(index)))
    }

    /// An IMAP `flag-keyword` (RFC 3501 `atom`): printable ASCII without space, `(){%*"\]` and
    /// not starting with a backslash.
    public static func isValidKeyword(_ keyword: String) -> Bool {
        !keyword.isEmpty
            && keyword.utf8.allSatisfy { byte in
                byte > 0x20 && byte < 0x7F && !Array("(){%*\"\\]".utf8).contains(byte)
            }
    }
}
