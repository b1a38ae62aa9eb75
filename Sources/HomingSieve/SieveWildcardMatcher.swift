// `:matches` (RFC 5228 section 2.7.1) with the match variables of RFC 5229 section 3.2.

/// Wildcard matching: `*` matches any sequence of characters, `?` exactly one character,
/// `\` makes the next character literal. Characters are Unicode scalars, compared through the
/// comparator's case mapping.
///
/// The matcher is the two-pointer algorithm (on a mismatch only the most recent `*` grows), so
/// the work is at most the product of the value and pattern lengths, never exponential, and
/// every step is charged to the budget. Because an earlier `*` is never grown once a later one
/// was reached, each `*` takes the shortest text that lets the rest match, left to right — the
/// match variables RFC 5229 shows (`"[*] *"` on `"[acme-users] [fwd] version 1.0 is out"`
/// gives `acme-users` and `[fwd] version 1.0 is out`).
enum SieveWildcardMatcher {
    /// One element of a compiled pattern.
    enum Token: Equatable {
        case literal(UInt32)
        case anyOne
        case anySequence
    }

    /// The tokens of `pattern` under `comparator`'s case mapping.
    static func compile(_ pattern: String, comparator: SieveComparator) -> [Token] {
        var tokens: [Token] = []
        var escaped = false
        for scalar in pattern.unicodeScalars {
            if escaped {
                tokens.append(.literal(comparator.fold(scalar)))
                escaped = false
                continue
            }
            switch scalar {
            case "\\": escaped = true
            case "*": tokens.append(.anySequence)
            case "?": tokens.append(.anyOne)
            default: tokens.append(.literal(comparator.fold(scalar)))
            }
        }
        // A backslash at the very end has nothing to escape: it stands for itself.
        if escaped { tokens.append(.literal(UInt32(UInt8(ascii: "\\")))) }
        return tokens
    }

    /// Matches `value` against `pattern`; `nil` when it does not match, otherwise `${0}` (the
    /// whole value) followed by one string per wildcard.
    static func match(
        _ value: String, pattern: String, comparator: SieveComparator, budget: inout SieveWorkBudget
    ) throws(SieveMatchError) -> [String]? {
        let tokens = compile(pattern, comparator: comparator)
        let original = Array(value.unicodeScalars)
        let folded = original.map { comparator.fold($0) }
        guard let ranges = try captureRanges(folded, tokens: tokens, budget: &budget) else { return nil }
        var result = [value]
        result.reserveCapacity(ranges.count + 1)
        for range in ranges {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: original[range])
            result.append(String(text))
        }
        return result
    }

    /// The ranges of `value` each wildcard covers, or `nil` when `tokens` do not match.
    static func captureRanges(
        _ value: [UInt32], tokens: [Token], budget: inout SieveWorkBudget
    ) throws(SieveMatchError) -> [Range<Int>]? {
        let stepLimit = 4096 * SieveMatcher.stepsPerWorkUnit
        var steps = 0
        var position = 0  // in value
        var tokenIndex = 0  // in tokens
        var captures: [Range<Int>] = []
        // The most recent `*`: its token, where its text starts, where it currently ends,
        // and its slot in `captures`.
        var starToken = -1
        var starStart = 0
        var starEnd = 0
        var starCapture = 0
        while true {
            steps += 1
            if steps >= stepLimit {
                try budget.spend(steps / SieveMatcher.stepsPerWorkUnit)
                steps = 0
            }
            if tokenIndex < tokens.count {
                switch tokens[tokenIndex] {
                case .anySequence:
                    starToken = tokenIndex
                    starStart = position
                    starEnd = position
                    starCapture = captures.count
                    captures.append(position..<position)
                    tokenIndex += 1
                    continue
                case .anyOne where position < value.count:
                    captures.append(position..<(position + 1))
                    tokenIndex += 1
                    position += 1
                    continue
                case .literal(let scalar) where position < value.count && value[position] == scalar:
                    tokenIndex += 1
                    position += 1
                    continue
                default:
                    break
                }
            } else if position == value.count {
                try budget.spend(steps / SieveMatcher.stepsPerWorkUnit)
                return captures
            }
            // Mismatch: let the most recent `*` take one more character, if it can.
            guard starToken >= 0, starEnd < value.count else {
                try budget.spend(steps / SieveMatcher.stepsPerWorkUnit)
                return nil
            }
            starEnd += 1
            captures.removeSubrange((starCapture + 1)...)
            captures[starCapture] = starStart..<starEnd
            tokenIndex = starToken + 1
            position = starEnd
        }
    }
}
