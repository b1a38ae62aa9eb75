import HomingFileSystem

/// Stores keywords as Dovecot does: the folder's `dovecot-keywords` file names the letter of
/// each keyword, and the message's file name carries the letters (`:2,Sab`).
///
/// Dovecot changes `dovecot-keywords` only while it holds the folder's `dovecot-uidlist.lock`,
/// so Homing takes that lock too (waiting for an IMAP session that holds it, overriding it
/// when its process is gone or it went unchanged for two minutes), reads the table, adds
/// missing keywords and, if it changed, writes the file through `dovecot-keywords.lock`
/// renamed into place, as `maildir_keywords_commit` does. The lock is released before the
/// message is stored: the letters only need the table to be in place first.
enum MaildirKeywordsFile {
    static let fileName = "dovecot-keywords"
    static let uidlistName = "dovecot-uidlist"
    /// A table larger than this is not a keyword file.
    static let sizeLimit = 64 * 1024

    /// The info letters of `keywords` in the folder open at `folder` (sorted), adding the
    /// keywords the folder's table does not have yet, and the keywords left without a letter
    /// (not IMAP atoms, or past the 26 a folder can name).
    /// - Parameter fsync: sync the new table and the folder directory.
    static func letters(
        for keywords: [String], inFolder folder: borrowing TreeDirectory, fsync: Bool,
        timing: MaildirDotLock.Timing = .uidlist
    ) throws(MaildirError) -> (letters: String, unassigned: [String]) {
        let uidlistLock = try MaildirDotLock.create(for: uidlistName, in: folder, timing: timing, writePID: true)
        _ = uidlistLock.close()
        defer { MaildirDotLock.remove(for: uidlistName, in: folder) }

        let existing = try MaildirControlFile.read(fileName, in: folder, limit: sizeLimit) ?? []
        let previous = MaildirControlFile.modificationTime(fileName, in: folder)
        var table = MaildirKeywordTable(parsing: existing)
        let (letters, changed, unassigned) = table.letters(for: keywords)
        guard changed else { return (letters, unassigned) }
        // Under the uidlist lock a keyword lock can only be left over: Dovecot removes it too.
        MaildirDotLock.remove(for: fileName, in: folder)
        let lock = try MaildirDotLock.create(
            for: fileName, in: folder, timing: MaildirDotLock.Timing(timeout: 0, staleAfter: timing.staleAfter),
            writePID: false)
        try MaildirControlFile.commit(
            table.contents, lock: lock, for: fileName, in: folder, fsync: fsync, newerThan: previous)
        return (letters, unassigned)
    }
}
