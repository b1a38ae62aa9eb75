import HomingConfig

/// Dovecot's `auth_username_translation` and `auth_username_chars`, applied to every name
/// before it is looked up, as Dovecot's auth process does (`auth_request_fix_username`): each
/// byte is first translated, then checked against the permitted characters; only then does
/// `auth_username_format` apply. A name with a byte that is not permitted does not exist.
///
/// Both work on bytes (the UTF-8 encoding of the name), as in Dovecot: with the default
/// character set a name with a non-ASCII letter is refused.
public struct UsernameFilter: Sendable, Hashable {
    /// Dovecot's default `auth_username_chars`.
    public static var defaultCharacters: String { HomingSettings().authUsernameChars }

    /// Why a name was refused.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// The first byte that is not permitted (after translation).
        public var byte: UInt8
        /// The name as given.
        public var name: String

        /// Dovecot's log text: `Username character disallowed by auth_username_chars: 0x3d
        /// (username: a=b@example.com)`.
        public var description: String {
            let hex = String(byte, radix: 16)
            return "Username character disallowed by auth_username_chars: 0x\(hex.count < 2 ? "0" + hex : hex) "
                + "(username: \(name))"
        }
    }

    /// Permitted bytes; `nil` permits every byte (an empty `auth_username_chars`).
    private let permitted: [Bool]?
    /// Byte → replacement, `0` for none.
    private let translation: [UInt8]

    /// - Parameters:
    ///   - characters: `auth_username_chars`; empty permits everything.
    ///   - translation: `auth_username_translation`: pairs of characters, the first of each
    ///     pair replaced by the second (`#@/@` makes `#` and `/` into `@`); a character left
    ///     over at the end is ignored, and a later pair for the same character wins.
    public init(characters: String, translation: String = "") {
        if characters.isEmpty {
            permitted = nil
        } else {
            var table = [Bool](repeating: false, count: 256)
            for byte in characters.utf8 { table[Int(byte)] = true }
            permitted = table
        }
        var map = [UInt8](repeating: 0, count: 256)
        let pairs = Array(translation.utf8)
        var index = 0
        while index + 1 < pairs.count {
            map[Int(pairs[index])] = pairs[index + 1]
            index += 2
        }
        self.translation = map
        isIdentity = permitted == nil && map.allSatisfy { $0 == 0 }
    }

    /// The filter `auth_username_chars` and `auth_username_translation` describe.
    public init(settings: HomingSettings) {
        self.init(characters: settings.authUsernameChars, translation: settings.authUsernameTranslation)
    }

    /// Whether the filter changes or refuses nothing at all.
    public let isIdentity: Bool

    /// `name` translated, or the refusal when a byte (after translation) is not permitted.
    /// A translation that would leave the name invalid UTF-8 refuses it at the first byte
    /// that is not ASCII.
    public func apply(_ name: String) -> Result<String, Refusal> {
        if isIdentity { return .success(name) }
        var bytes = Array(name.utf8)
        for index in bytes.indices {
            let replacement = translation[Int(bytes[index])]
            if replacement != 0 { bytes[index] = replacement }
            if let permitted, !permitted[Int(bytes[index])] {
                return .failure(Refusal(byte: bytes[index], name: name))
            }
        }
        guard let translated = String(validating: bytes, as: UTF8.self) else {
            return .failure(Refusal(byte: bytes.first { $0 >= 0x80 } ?? 0, name: name))
        }
        return .success(translated)
    }
}
