/// Keeps configuration inputs from reading files outside the scratch directory.
///
/// `!include` and `key = <file` read files; an input naming `/dev/zero`, a FIFO or a
/// directory tree with a glob would test the machine, not the reader. An input that holds
/// a `/` together with `!` or `<` is therefore skipped: includes and `<file` values still
/// run, but only on names relative to the scratch directory, where the sandbox leaves a few
/// small files to include (`inc.conf`, `inc.conf.ext`, `value.txt`).
public enum ConfigSandbox {
    /// The directory configuration inputs are parsed in (the scratch directory, with the
    /// files to include written on first use).
    public static let directory: String = {
        writeIncludeFiles()
        return FuzzScratchDirectory.path
    }()

    private static func writeIncludeFiles() {
        FuzzScratchDirectory.write(Array("mail_plugins = $mail_plugins quota\nprotocol lmtp {\n  mail_plugins = sieve\n}\n".utf8), to: "inc.conf")
        FuzzScratchDirectory.write(Array("driver = pgsql\nconnect = host=localhost dbname=mail\n".utf8), to: "inc.conf.ext")
        FuzzScratchDirectory.write(Array("value from a file\n".utf8), to: "value.txt")
    }

    /// Whether `text` may be parsed: it cannot name a file outside the scratch directory, and
    /// it has no glob that could expand into very many patterns (`{a,b}{a,b}...`).
    public static func allows(_ text: [UInt8]) -> Bool {
        let readsFiles = text.contains(UInt8(ascii: "!")) || text.contains(UInt8(ascii: "<"))
        guard readsFiles else { return true }
        if text.contains(UInt8(ascii: "/")) { return false }
        // GLOB_BRACE expands every combination of braces: keep them few.
        let braces = text.lazy.filter { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: ",") }.count
        return braces <= 12
    }
}
