/// A tagged argument of a command or test, with its parameter when the tag takes one
/// (`:comparator "i;octet"`, `:days 7`, `:flags ["\\Seen"]`).
public struct SieveTaggedArgument: Sendable, Hashable {
    /// The tag name, lowercased, without the colon (`"comparator"`).
    public var name: String
    /// The argument following the tag when the tag takes a parameter, otherwise `nil`.
    public var parameter: SieveArgument?
    /// Where the tag starts.
    public var location: SieveSourceLocation
    /// Whether a positional argument came before the tag (an error: tags come first).
    public var followsPositional: Bool

    /// Creates a tagged argument.
    public init(
        name: String, parameter: SieveArgument?, location: SieveSourceLocation, followsPositional: Bool = false
    ) {
        self.name = name
        self.parameter = parameter
        self.location = location
        self.followsPositional = followsPositional
    }
}

/// The arguments of a command or test split into tags (with their parameters) and positional
/// arguments, following the argument specification of the command or test.
///
/// Meant for the interpreter: on a script that `SieveValidator` accepted, every lookup here is
/// well-defined (types were checked). Defaults follow RFC 5228: comparator `i;ascii-casemap`,
/// match type `:is`, address part `:all`.
public struct SieveParsedArguments: Sendable, Hashable {
    /// The tags in script order.
    public var tagged: [SieveTaggedArgument]
    /// The positional arguments in script order.
    public var positional: [SieveArgument]

    /// Creates parsed arguments.
    public init(tagged: [SieveTaggedArgument], positional: [SieveArgument]) {
        self.tagged = tagged
        self.positional = positional
    }

    /// Splits `arguments` of the command or test `name` (`isTest` tells which) into tags and
    /// positional arguments (see `init(arguments:spec:)`).
    public init(arguments: [SieveArgument], ofCommandOrTest name: String, isTest: Bool) {
        self.init(arguments: arguments, spec: isTest ? SieveArgumentSpec.test(name) : SieveArgumentSpec.command(name))
    }

    /// The one pass that splits arguments, shared by the validator (which checks the result
    /// against `spec`) and the interpreter: a tag takes the next argument, whatever it is, as
    /// its parameter when `spec` says it has one; unknown tags take none.
    init(arguments: [SieveArgument], spec: SieveArgumentSpec?) {
        var tagged: [SieveTaggedArgument] = []
        var positional: [SieveArgument] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard case .tag(let tagName) = argument.value else {
                positional.append(argument)
                continue
            }
            var parameter: SieveArgument?
            if spec?.tags[tagName]?.parameter != nil, position < arguments.count {
                parameter = arguments[position]
                position += 1
            }
            tagged.append(
                SieveTaggedArgument(
                    name: tagName, parameter: parameter, location: argument.location,
                    followsPositional: !positional.isEmpty))
        }
        self.init(tagged: tagged, positional: positional)
    }

    /// Whether the tag `name` (without colon, lowercase) was given.
    public func has(_ name: String) -> Bool {
        tagged.contains { $0.name == name }
    }

    /// The tag `name` when given (the first occurrence).
    public func tag(_ name: String) -> SieveTaggedArgument? {
        tagged.first { $0.name == name }
    }

    /// The parameter of the tag `name`, `nil` when the tag is absent or takes no parameter.
    public func parameter(_ name: String) -> SieveArgument? {
        tag(name)?.parameter
    }

    /// The parameter of the tag `name` as a single string (`:comparator`, `:subject`, `:zone`...).
    public func string(_ name: String) -> String? {
        guard case .string(let text)? = parameter(name)?.value else { return nil }
        return text
    }

    /// The parameter of the tag `name` as strings (a string or string list: `:flags`, `:addresses`).
    public func strings(_ name: String) -> [String]? {
        parameter(name)?.strings
    }

    /// The parameter of the tag `name` as a number (`:days`, `:seconds`, `:index`).
    public func number(_ name: String) -> UInt64? {
        guard case .number(let value)? = parameter(name)?.value else { return nil }
        return value
    }

    /// The positional argument at `index` (0-based) as a single string.
    public func positionalString(_ index: Int) -> String? {
        guard index < positional.count, case .string(let text) = positional[index].value else {
            return nil
        }
        return text
    }

    /// The positional argument at `index` (0-based) as strings (a string or a string list).
    public func positionalStrings(_ index: Int) -> [String]? {
        index < positional.count ? positional[index].strings : nil
    }

    /// The positional argument at `index` (0-based) as a number.
    public func positionalNumber(_ index: Int) -> UInt64? {
        guard index < positional.count, case .number(let value) = positional[index].value else {
            return nil
        }
        return value
    }

    /// The comparator (`:comparator`), `i;ascii-casemap` when absent; `nil` for an unknown name
    /// (which the validator refuses).
    public var comparator: SieveComparator? {
        guard let name = string("comparator") else { return .asciiCasemap }
        return SieveComparator(rawValue: name.lowercased())
    }

    /// The match type (`:is`, `:contains`, `:matches`, `:regex`, `:value "op"`, `:count "op"`),
    /// `:is` when absent; `nil` for an invalid relational operator (which the validator refuses).
    public var matchType: SieveMatchType? {
        for tag in tagged {
            switch tag.name {
            case "is": return .is
            case "contains": return .contains
            case "matches": return .matches
            case "regex": return .regex
            case "value", "count":
                guard case .string(let text)? = tag.parameter?.value,
                    let relation = SieveRelation(rawValue: text.lowercased())
                else { return nil }
                return tag.name == "value" ? .value(relation) : .count(relation)
            default: continue
            }
        }
        return .is
    }

    /// The address part tag name (`"all"`, `"localpart"`, `"domain"`, `"user"`, `"detail"`),
    /// `"all"` when absent.
    public var addressPart: String {
        for tag in tagged where SieveArgumentSpec.addressPart[tag.name] != nil {
            return tag.name
        }
        return "all"
    }

    /// The `:index` field number, with `last` true when `:last` was given; `nil` without `:index`.
    public var index: (number: UInt64, last: Bool)? {
        guard let number = number("index") else { return nil }
        return (number, has("last"))
    }
}

extension SieveCommand {
    /// The arguments split into tags and positional arguments (see `SieveParsedArguments`).
    public var parsedArguments: SieveParsedArguments {
        SieveParsedArguments(arguments: arguments, ofCommandOrTest: name, isTest: false)
    }

    /// Whether the tag `name` (without colon, lowercase) was given.
    public func hasTag(_ name: String) -> Bool { parsedArguments.has(name) }

    /// The parameter of the tag `name`, `nil` when absent or the tag takes no parameter.
    public func tagParameter(_ name: String) -> SieveArgument? { parsedArguments.parameter(name) }

    /// The positional arguments, in order, without tags and tag parameters.
    public var positional: [SieveArgument] { parsedArguments.positional }
}

extension SieveTest {
    /// The arguments split into tags and positional arguments (see `SieveParsedArguments`).
    public var parsedArguments: SieveParsedArguments {
        SieveParsedArguments(arguments: arguments, ofCommandOrTest: name, isTest: true)
    }

    /// Whether the tag `name` (without colon, lowercase) was given.
    public func hasTag(_ name: String) -> Bool { parsedArguments.has(name) }

    /// The parameter of the tag `name`, `nil` when absent or the tag takes no parameter.
    public func tagParameter(_ name: String) -> SieveArgument? { parsedArguments.parameter(name) }

    /// The positional arguments, in order, without tags and tag parameters.
    public var positional: [SieveArgument] { parsedArguments.positional }
}
