import HomingConfig

/// dovecot-lda's command line, as `homing deliver` takes it: getopt's rules (options grouped
/// `-ek`, values attached `-dalice` or in the next word, `--` ends the options) over
/// dovecot-lda's options `-a -d -e -f -m -p -r` and Dovecot's common `-c -o -k -L`. Pure.
public struct LDACommandLine: Sendable, Equatable {
    /// `-c`: the configuration file.
    public var configPath: String?
    /// `-o key=value`, in order.
    public var overrides: [ConfigOverride] = []
    /// `-d`: the user to look up in the userdb; without it the invoking Unix user.
    public var destinationUser: String?
    /// `-f`: the envelope sender (`""` for the null sender), when given.
    public var sender: String?
    /// `-f` named an address that does not parse: the null sender is used, as dovecot-lda does.
    public var brokenSender: String?
    /// `-a`: the original envelope recipient.
    public var originalRecipient: String?
    /// `-r`: the final envelope recipient.
    public var finalRecipient: String?
    /// `-m`: the mailbox to deliver into (falling back to INBOX); `-m ""` is ignored, so that
    /// Postfix's `-m ${extension}` works for addresses without one.
    public var mailbox: String?
    /// `-e`: rejections (and temporary failures) are written to standard error with a non-zero
    /// exit status, instead of sending a rejection to the sender.
    public var rejectionsToStandardError = false
    /// `-p`: read the message from this file instead of standard input.
    public var inputPath: String?

    public init() {}

    /// The options dovecot-lda takes a value for.
    static let valued: Set<Character> = ["a", "c", "d", "f", "m", "o", "p", "r"]
    /// The flags.
    static let flags: Set<Character> = ["e", "k", "L"]

    /// Parses the words after `homing deliver`.
    public static func parse(_ arguments: [String]) -> Result<LDACommandLine, LDAUsageError> {
        var line = LDACommandLine()
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" {
                index += 1
                break
            }
            guard word.hasPrefix("-"), word.count > 1 else { break }
            var letters = Substring(word.dropFirst())
            while let option = letters.first {
                letters = letters.dropFirst()
                if flags.contains(option) {
                    if option == "e" { line.rejectionsToStandardError = true }
                    // -k (keep the environment) and -L (log directly) change nothing in Homing.
                    continue
                }
                guard valued.contains(option) else {
                    if option == "O" || option == "i" {
                        return .failure(LDAUsageError("-\(option) is not supported by homing deliver"))
                    }
                    return .failure(LDAUsageError("Unknown option: -\(option)"))
                }
                let value: String
                if !letters.isEmpty {
                    value = String(letters)
                    letters = ""
                } else if index + 1 < arguments.count {
                    index += 1
                    value = arguments[index]
                } else {
                    return .failure(LDAUsageError("-\(option) needs a value"))
                }
                if let error = line.set(option, value) { return .failure(error) }
            }
            index += 1
        }
        if index < arguments.count {
            return .failure(LDAUsageError("Unknown argument: \(arguments[index])"))
        }
        return .success(line)
    }

    private mutating func set(_ option: Character, _ value: String) -> LDAUsageError? {
        switch option {
        case "c": configPath = value
        case "o":
            guard let override = ConfigOverride(parsing: value) else {
                return LDAUsageError("Invalid -o parameter '\(value)': expected key=value")
            }
            overrides.append(override)
        case "d": destinationUser = value
        case "f":
            switch LDAAddress.parse(value, allowNull: true) {
            case .success(let address): sender = address
            case .failure:
                sender = ""
                brokenSender = value
            }
        case "a":
            switch LDAAddress.parse(value, allowNull: false) {
            case .success(let address): originalRecipient = address
            case .failure(let reason): return LDAUsageError("Invalid -a parameter: \(reason)")
            }
        case "r":
            switch LDAAddress.parse(value, allowNull: false) {
            case .success(let address): finalRecipient = address
            case .failure(let reason): return LDAUsageError("Invalid -r parameter: \(reason)")
            }
        case "m":
            if !value.isEmpty {
                guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                    return LDAUsageError("Invalid -m parameter: the mailbox name has control characters")
                }
                mailbox = value
            }
        case "p": inputPath = value
        default: return LDAUsageError("Unknown option: -\(option)")
        }
        return nil
    }
}

/// A command line `homing deliver` cannot run with: exit status EX_USAGE (64), the message on
/// standard error, as dovecot-lda.
public struct LDAUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// An address given to `-f`, `-a` or `-r`: angle brackets optional, a local part alone allowed,
/// no spaces or control characters outside a quoted local part.
enum LDAAddress {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String, allowNull: Bool) -> Result<String, Invalid> {
        var address = Substring(text)
        if address.hasPrefix("<") {
            guard address.hasSuffix(">"), address.count >= 2 else { return .failure(Invalid(description: "Missing '>' at end of path")) }
            address = address.dropFirst().dropLast()
        }
        if address.isEmpty {
            return allowNull ? .success("") : .failure(Invalid(description: "Path is empty string"))
        }
        var quoted = false
        for scalar in address.unicodeScalars {
            if scalar == "\"" { quoted.toggle() }
            if scalar.value < 0x20 || scalar.value == 0x7F { return .failure(Invalid(description: "Invalid character in path")) }
            if !quoted, scalar == " " || scalar == "<" || scalar == ">" {
                return .failure(Invalid(description: "Invalid character in path"))
            }
        }
        if quoted { return .failure(Invalid(description: "Unterminated quoted local part")) }
        if address.hasSuffix("@") { return .failure(Invalid(description: "Missing domain")) }
        return .success(String(address))
    }
}
