import HomingDigest

/// SHA-256, used to turn tracking keys into fixed-length, stable identifiers so the tracking
/// file holds no sender addresses or message ids in clear and every line has one size.
enum SieveTrackingStoreDigest {
    /// The digest of the UTF-8 octets of `text`, as 64 lowercase hexadecimal digits.
    static func sha256Hex(_ text: String) -> String {
        MessageDigest.sha256.hex(Array(text.utf8))
    }
}
