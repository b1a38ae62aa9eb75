import FuzzSupport
import HomingConfig

/// libFuzzer target: dovecot.conf text through `ConfigurationLoader.parse(text:file:)`, which
/// runs the lexer, the `!include`/`<file`/`$setting` reader, the settings builder and the
/// validation. A configuration that loads is printed as `homing config -n` prints it; the
/// printed text must load again, and print the same (settings compared through their printed
/// form, since the file and line each setting came from differ).
///
/// The input is appended to `postmaster_address = postmaster@example.com`, so that most
/// inputs get past the one setting every configuration needs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 16 * 1024), ConfigSandbox.allows(input) else { return 0 }
    let text = "postmaster_address = postmaster@example.com\n" + String(decoding: input, as: UTF8.self)
    let loaded: LoadedConfiguration
    do throws(ConfigError) {
        loaded = try ConfigurationLoader.parse(text: text, file: ConfigSandbox.directory + "/dovecot.conf")
    } catch {
        fuzzCheck(!error.description.isEmpty, "a configuration error without a message")
        return 0
    }
    let printed = loaded.nonDefaultSettingsText()
    guard ConfigSandbox.allows(Array(printed.utf8)) else { return 0 }
    do throws(ConfigError) {
        let again = try ConfigurationLoader.parse(text: printed, file: ConfigSandbox.directory + "/dovecot.conf")
        let reprinted = again.nonDefaultSettingsText()
        fuzzCheck(
            reprinted == printed, "the printed configuration prints differently:\n\(printed)\n---\n\(reprinted)")
    } catch {
        fuzzCheck(false, "the printed configuration does not load: \(error)\n---\n\(printed)")
    }
    return 0
}

@main
enum FuzzConfigMain {
    static func main() {
        runFuzzer(fuzzConfig)
    }
}
