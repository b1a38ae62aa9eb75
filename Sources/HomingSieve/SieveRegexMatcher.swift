#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// `:regex` (draft-ietf-sieve-regex): POSIX extended regular expressions through the C
// library's regcomp/regexec, with the pattern's size bounded at compile time.

/// POSIX extended regular expression matching for `:regex`.
///
/// `i;ascii-casemap` adds `REG_ICASE`; `i;octet` matches octets as they are. Patterns run in
/// the C locale, so a non-ASCII character is a sequence of octets (`.` matches one octet).
/// Back-references (`\1`..`\9`), repetition counts above `maxRepetition` and patterns whose
/// expanded size passes `maxExpandedSize` are refused, so matching time stays proportional to
/// the value's length; that work is charged to the budget.
enum SieveRegexMatcher {
    /// The largest `{n,m}` bound accepted.
    static let maxRepetition = 255
    /// The largest size a pattern may have once its `{n,m}` repetitions are expanded.
    static let maxExpandedSize = 10_000
    /// How many match variables a regex sets: `${0}` to `${9}`.
    static let maxMatchVariables = 10

    /// Checks `pattern`: `nil` when it compiles and is within bounds, otherwise the reason
    /// (without the pattern: the validator words the compile error around it).
    static func validate(_ pattern: String, comparator: SieveComparator) -> SieveMatchError? {
        guard comparator.supports(.regex) else {
            return SieveMatchError("the \(comparator.rawValue) comparator cannot be used with the :regex match type")
        }
        switch expandedSize(of: pattern) {
        case .failure(let error): return error
        case .success: break
        }
        switch CompiledRegex.compile(pattern, comparator: comparator) {
        case .failure(let error): return error
        case .success(let regex):
            regex.free()
            return nil
        }
    }

    /// Matches `value` against `pattern`: `nil` when it does not match, otherwise `${0}` (the
    /// text the whole expression matched) and one string per group, up to `${9}` (an unused
    /// group is the empty string).
    static func match(
        _ value: String, pattern: String, comparator: SieveComparator, budget: inout SieveWorkBudget
    ) throws(SieveMatchError) -> [String]? {
        let size: Int
        switch expandedSize(of: pattern) {
        case .failure(let error): throw described(error, pattern)
        case .success(let computed): size = computed
        }
        let octets = Array(value.utf8)
        // The automaton has about `size` states; a step over the value costs about that much.
        let work = (octets.count + 1) * max(1, size / 8)
        try budget.spend(pattern.utf8.count / SieveMatcher.stepsPerWorkUnit)
        // A search that fails costs the C library a scan from every start position (quadratic
        // in the value's length); the same question asked anchored, as `^.*(pattern)` without
        // sub-matches, is one linear pass. Only when it matches are the groups computed.
        if !octets.contains(0), let probe = existenceProbe(pattern) {
            try budget.spend(work / SieveMatcher.stepsPerWorkUnit)
            switch CompiledRegex.compile(probe, comparator: comparator, subMatches: false) {
            case .failure(let error): throw described(error, pattern)
            case .success(let compiled):
                let found = compiled.execute(octets) != nil
                compiled.free()
                if !found { return nil }
            }
        }
        try budget.spend(work / SieveMatcher.stepsPerWorkUnit)
        let regex: CompiledRegex
        switch CompiledRegex.compile(pattern, comparator: comparator) {
        case .failure(let error): throw described(error, pattern)
        case .success(let compiled): regex = compiled
        }
        defer { regex.free() }
        // Finding the leftmost match for the groups can cost the C library time quadratic in
        // the value's length (a late match after long failed attempts), and it cannot be
        // interrupted. Past `maxCaptureSubject` octets the groups are taken from the start of
        // the value only: the match itself was decided above on the whole value, but its
        // `${n}` may then be empty when the first match lies beyond that prefix.
        if octets.count > maxCaptureSubject {
            let prefix = Array(octets.prefix(maxCaptureSubject))
            if let groups = regex.execute(prefix) { return groups }
            return octets.contains(0) ? nil : [String](repeating: "", count: regex.groupCount)
        }
        return regex.execute(octets)
    }

    /// The longest value whose match groups are computed over the whole value (16 KiB; the
    /// C library's worst case there is well under a second).
    static let maxCaptureSubject = 16 << 10

    /// A run-time error naming the pattern, as Pigeonhole words it.
    static func described(_ error: SieveMatchError, _ pattern: String) -> SieveMatchError {
        SieveMatchError("invalid regular expression '\(pattern)' for regex match: \(error.message)")
    }

    /// `^.*(pattern)`, which matches exactly when `pattern` matches somewhere in a value
    /// without a NUL octet; `nil` when wrapping would change the meaning (a `)` without `(`).
    static func existenceProbe(_ pattern: String) -> String? {
        let bytes = Array(pattern.utf8)
        var depth = 0
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "["):
                index = SieveRegexMatcher.endOfBracketExpression(bytes, from: index)
                continue
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { return nil }
            default: break
            }
            index += 1
        }
        return "^.*(" + pattern + ")"
    }

    // MARK: - Bounding the pattern

    /// The pattern's size with `{n,m}` repetitions expanded (what the C library builds), or
    /// the reason it is refused.
    static func expandedSize(of pattern: String) -> Result<Int, SieveMatchError> {
        let bytes = Array(pattern.utf8)
        // One frame per open group: the size of its finished atoms and of its last atom.
        var frames: [(total: Int, last: Int)] = [(0, 0)]
        var index = 0
        func finishAtom(_ size: Int) {
            let top = frames.count - 1
            frames[top].total += frames[top].last
            frames[top].last = size
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\\"):
                if index + 1 < bytes.count, bytes[index + 1] >= UInt8(ascii: "1"), bytes[index + 1] <= UInt8(ascii: "9") {
                    return .failure(
                        SieveMatchError(
                            "back-references are not supported"))
                }
                finishAtom(1)
                index += 2
                continue
            case UInt8(ascii: "["):
                index = endOfBracketExpression(bytes, from: index)
                finishAtom(1)
                continue
            case UInt8(ascii: "("):
                frames.append((0, 0))
            case UInt8(ascii: ")"):
                if frames.count > 1 {
                    let group = frames.removeLast()
                    finishAtom(max(1, group.total + group.last))
                } else {
                    finishAtom(1)
                }
            case UInt8(ascii: "|"):
                finishAtom(0)
            case UInt8(ascii: "*"), UInt8(ascii: "?"):
                break
            case UInt8(ascii: "+"):
                // The C library builds `x+` as `xx*`: two copies of the atom. Stacked or
                // nested, `+` doubles it each time (`a++++...` grows exponentially).
                let top = frames.count - 1
                frames[top].last *= 2
                if frames[top].last > maxExpandedSize { return .failure(tooComplex(pattern)) }
            case UInt8(ascii: "{"):
                guard let (bound, next) = repetitionBound(bytes, from: index) else {
                    finishAtom(1)
                    break
                }
                if bound > maxRepetition {
                    return .failure(
                        SieveMatchError(
                            "repetition count \(bound) exceeds \(maxRepetition)"))
                }
                let top = frames.count - 1
                frames[top].last = frames[top].last * max(bound, 1)
                index = next
                if frames[top].last > maxExpandedSize { return .failure(tooComplex(pattern)) }
                continue
            default:
                finishAtom(1)
            }
            index += 1
            var total = 0
            for frame in frames { total += frame.total + frame.last }
            if total > maxExpandedSize { return .failure(tooComplex(pattern)) }
        }
        var total = 0
        for frame in frames { total += frame.total + frame.last }
        if total > maxExpandedSize { return .failure(tooComplex(pattern)) }
        return .success(total)
    }

    static func tooComplex(_ pattern: String) -> SieveMatchError {
        SieveMatchError("the expression is too complex (more than \(maxExpandedSize) elements once repetitions are expanded)")
    }

    /// The index after the bracket expression starting at `start` (a `]` right after `[` or
    /// `[^` is a member, `[:class:]`, `[.x.]` and `[=x=]` are skipped whole).
    static func endOfBracketExpression(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "^") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "]") { return index + 1 }
            if byte == UInt8(ascii: "["), index + 1 < bytes.count,
                [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[index + 1])
            {
                let delimiter = bytes[index + 1]
                var probe = index + 2
                while probe + 1 < bytes.count, !(bytes[probe] == delimiter && bytes[probe + 1] == UInt8(ascii: "]")) {
                    probe += 1
                }
                index = probe + 2
                continue
            }
            index += 1
        }
        return bytes.count
    }

    /// Parses `{n}`, `{n,}` or `{n,m}` at `start`: the largest count it allows (`n + 1` for an
    /// open range) and the index after `}`; `nil` when it is not a bound.
    static func repetitionBound(_ bytes: [UInt8], from start: Int) -> (Int, Int)? {
        var index = start + 1
        var numbers: [Int?] = [nil]
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let digit = Int(byte - UInt8(ascii: "0"))
                let current = numbers[numbers.count - 1] ?? 0
                numbers[numbers.count - 1] = min(current * 10 + digit, 1_000_000)
            } else if byte == UInt8(ascii: ","), numbers.count == 1 {
                numbers.append(nil)
            } else if byte == UInt8(ascii: "}") {
                guard let lower = numbers[0] else { return nil }
                let upper = numbers.count == 2 ? (numbers[1] ?? lower + 1) : lower
                return (max(lower, upper), index + 1)
            } else {
                return nil
            }
            index += 1
        }
        return nil
    }
}

/// A compiled `regex_t`; `free()` must be called once it is no longer used.
struct CompiledRegex {
    private let storage: UnsafeMutablePointer<regex_t>

    /// Compiles `pattern` as a POSIX extended regular expression.
    static func compile(_ pattern: String, comparator: SieveComparator, subMatches: Bool = true)
        -> Result<CompiledRegex, SieveMatchError>
    {
        let storage = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        storage.initialize(to: regex_t())
        var flags = REG_EXTENDED
        if comparator == .asciiCasemap { flags |= REG_ICASE }
        if !subMatches { flags |= REG_NOSUB }
        if pattern.utf8.contains(0) {
            storage.deallocate()
            return .failure(
                SieveMatchError("it contains a NUL character"))
        }
        let status = regcomp(storage, pattern, flags)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(status, storage, &buffer, buffer.count)
            let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            storage.deallocate()
            return .failure(
                SieveMatchError(reason.lowercased()))
        }
        return .success(CompiledRegex(storage: storage))
    }

    /// Runs the expression over `octets`: `nil` without a match, otherwise `${0}`..`${9}`.
    /// `${0}` and one per group, up to `${9}`.
    var groupCount: Int { min(Int(storage.pointee.re_nsub) + 1, SieveRegexMatcher.maxMatchVariables) }

    func execute(_ octets: [UInt8]) -> [String]? {
        let count = SieveRegexMatcher.maxMatchVariables
        var matches = [regmatch_t](repeating: regmatch_t(), count: count)
        var subject = octets.map { CChar(bitPattern: $0) }
        subject.append(0)
        matches[0].rm_so = 0
        matches[0].rm_eo = regoff_t(octets.count)
        let status = subject.withUnsafeBufferPointer { text in
            matches.withUnsafeMutableBufferPointer { slots in
                regexec(storage, text.baseAddress, count, slots.baseAddress, REG_STARTEND)
            }
        }
        guard status == 0 else { return nil }
        let groups = min(Int(storage.pointee.re_nsub) + 1, count)
        var result: [String] = []
        result.reserveCapacity(groups)
        for slot in matches.prefix(groups) {
            let start = Int(slot.rm_so)
            let end = Int(slot.rm_eo)
            if start < 0 || end < start || end > octets.count {
                result.append("")
            } else {
                result.append(String(decoding: octets[start..<end], as: UTF8.self))
            }
        }
        return result
    }

    /// Releases the compiled expression.
    func free() {
        regfree(storage)
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}
