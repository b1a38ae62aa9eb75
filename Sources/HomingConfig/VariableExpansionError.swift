/// Why a `%` template could not be expanded. Positions are 0-based character offsets of the
/// `%` that starts the bad variable.
public enum VariableExpansionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `%x` or `%{name}` names no known variable (nor a known `provider:`).
    case unknownVariable(name: String, position: Int)
    /// A modifier Homing does not implement (`N`, `M`: Dovecot's MD5 based hashes).
    case unsupportedModifier(modifier: Character, position: Int)
    /// `%{` without its closing `}`.
    case unterminatedBrace(position: Int)
    /// The template ends right after `%` (or after its modifiers).
    case incompleteVariable(position: Int)
    /// A Dovecot 2.4 template that does not parse (`%{user | }`, an unclosed quote...).
    case syntax(message: String, position: Int)
    /// A Dovecot 2.4 expansion failed, in Dovecot's words (`Unknown variable 'x'`,
    /// `substr: Offset out of bounds`, `No such function 'x'`).
    case failed(message: String)
    /// A Dovecot 2.3 variable (`%d`, `%Ln`, `%{orig_user}`) in a 2.4 template; `replacement` is
    /// the 2.4 form (`%{user | domain}`), when there is one.
    case obsoleteVariable(written: String, replacement: String?, position: Int)

    public var description: String {
        switch self {
        case .unknownVariable(let name, let position):
            let shown = name.count == 1 ? "%\(name)" : "%{\(name)}"
            return "unknown variable \(shown) at position \(position)"
        case .unsupportedModifier(let modifier, let position):
            return "unsupported modifier '\(modifier)' at position \(position) (Homing implements L U E X R H D T)"
        case .unterminatedBrace(let position):
            return "'%{' at position \(position) has no closing '}'"
        case .incompleteVariable(let position):
            return "'%' at position \(position) is not followed by a variable (write %% for a literal %)"
        case .syntax(let message, let position):
            return "syntax error at position \(position): \(message)"
        case .failed(let message):
            return message
        case .obsoleteVariable(let written, let replacement, let position):
            let instead = replacement.map { "use \($0) instead" }
                ?? "Dovecot 2.4 has no replacement for it"
            return "\(written) at position \(position) is Dovecot 2.3 variable syntax, which a 2.4 file cannot use: "
                + "\(instead) (write %{literal('\(written)')} for the text itself)"
        }
    }
}
