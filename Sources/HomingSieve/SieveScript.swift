/// A parsed Sieve script: its top-level commands (RFC 5228 section 8.2, `start = commands`).
public struct SieveScript: Sendable, Hashable {
    /// The top-level commands, in order.
    public var commands: [SieveCommand]

    /// Creates a script from its top-level commands.
    public init(commands: [SieveCommand]) {
        self.commands = commands
    }
}

/// A command: `identifier arguments (";" / block)`.
public struct SieveCommand: Sendable, Hashable {
    /// The command name, lowercased.
    public var name: String
    /// The arguments before any test, in order.
    public var arguments: [SieveArgument]
    /// The test or tests the command takes (for `if`, `elsif`).
    public var tests: SieveTestArguments
    /// The commands of the block, or `nil` when the command ends with `;`.
    public var block: [SieveCommand]?
    /// Where the command name starts.
    public var location: SieveSourceLocation

    /// Creates a command.
    public init(
        name: String, arguments: [SieveArgument] = [], tests: SieveTestArguments = .none,
        block: [SieveCommand]? = nil, location: SieveSourceLocation
    ) {
        self.name = name
        self.arguments = arguments
        self.tests = tests
        self.block = block
        self.location = location
    }
}

/// A test: `identifier arguments`.
public struct SieveTest: Sendable, Hashable {
    /// The test name, lowercased.
    public var name: String
    /// The arguments before any nested test, in order.
    public var arguments: [SieveArgument]
    /// The nested test or test list (for `not`, `allof`, `anyof`).
    public var tests: SieveTestArguments
    /// Where the test name starts.
    public var location: SieveSourceLocation

    /// Creates a test.
    public init(
        name: String, arguments: [SieveArgument] = [], tests: SieveTestArguments = .none,
        location: SieveSourceLocation
    ) {
        self.name = name
        self.arguments = arguments
        self.tests = tests
        self.location = location
    }
}

/// The optional test part of `arguments = *argument [ test / test-list ]`.
public enum SieveTestArguments: Sendable, Hashable {
    /// No test.
    case none
    /// A single test written without parentheses.
    case single([SieveTest])
    /// A parenthesised test list `( test *("," test) )`.
    case list([SieveTest])

    /// The tests, whichever form they were written in.
    public var tests: [SieveTest] {
        switch self {
        case .none: return []
        case .single(let tests), .list(let tests): return tests
        }
    }
}

/// An argument: a string, a string list, a number or a tag.
public struct SieveArgument: Sendable, Hashable {
    /// The value of an argument.
    public enum Value: Sendable, Hashable {
        /// A single string (quoted or `text:`), not in brackets.
        case string(String)
        /// A bracketed string list `[ "a", "b" ]`.
        case stringList([String])
        /// A number with its quantifier applied.
        case number(UInt64)
        /// A tag such as `:is`, without the colon, lowercased.
        case tag(String)
    }

    /// The value.
    public var value: Value
    /// Where the argument starts.
    public var location: SieveSourceLocation

    /// Creates an argument.
    public init(_ value: Value, at location: SieveSourceLocation) {
        self.value = value
        self.location = location
    }

    /// The strings of a string or string list argument, `nil` for numbers and tags.
    public var strings: [String]? {
        switch value {
        case .string(let text): return [text]
        case .stringList(let list): return list
        case .number, .tag: return nil
        }
    }
}
