import FuzzSupport
import HomingConfig

/// libFuzzer target: `.conf.ext` text (dovecot-sql.conf.ext, dovecot-ldap.conf.ext) through
/// `ExtConfigFile.parse(text:file:)`: the lexer in its ext-file flavour and `!include`.
/// Every entry read must be found again by its key (the last entry for a key wins).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExtConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 16 * 1024), ConfigSandbox.allows(input) else { return 0 }
    let file: ExtConfigFile
    do throws(ConfigError) {
        file = try ExtConfigFile.parse(
            text: String(decoding: input, as: UTF8.self), file: ConfigSandbox.directory + "/dovecot-sql.conf.ext")
    } catch {
        fuzzCheck(!error.description.isEmpty, "an ext-file error without a message")
        return 0
    }
    var last: [String: ExtConfigEntry] = [:]
    for entry in file.entries { last[entry.key] = entry }
    for (key, entry) in last {
        fuzzCheck(file.entry(key) == entry, "entry(\(key.debugDescription)) is not the last entry for the key")
        fuzzCheck(file.value(key) == entry.value, "value(\(key.debugDescription)) differs from its entry")
    }
    return 0
}

@main
enum FuzzExtConfigMain {
    static func main() {
        runFuzzer(fuzzExtConfig)
    }
}
