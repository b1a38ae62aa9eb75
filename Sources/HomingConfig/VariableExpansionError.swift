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
        }
    }
}
