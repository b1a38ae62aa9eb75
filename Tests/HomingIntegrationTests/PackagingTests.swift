import Foundation
import Glibc
import HomingTestSupport
import Testing

/// The release build `make test` made before the suite (`make deb`: the static binary, the man
/// pages, the Debian package), named by `HOMING_RELEASE_BUILD`. A plain `swift test` has none
/// and skips the suite that installs it: the static release build takes minutes, so it is
/// built once, by make.
enum ReleaseBuild {
    static var directory: String? {
        ProcessInfo.processInfo.environment["HOMING_RELEASE_BUILD"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var isAvailable: Bool { directory != nil }

    /// The repository (this file is Tests/HomingIntegrationTests/PackagingTests.swift).
    static var sourceRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    static var version: String {
        ((try? String(contentsOfFile: sourceRoot + "/VERSION", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `homing_<VERSION>_<arch>.deb` in the release build directory.
    static func debianPackage() throws -> String {
        let directory = try #require(directory)
        let name = try #require(
            (try FileManager.default.contentsOfDirectory(atPath: directory)).first {
                $0.hasPrefix("homing_\(version)_") && $0.hasSuffix(".deb")
            }, "no homing_\(version)_*.deb in \(directory): make deb did not run")
        return directory + "/" + name
    }
}

/// Runs a program to completion on a thread of its own.
func runProgram(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    workingDirectory: String? = nil
) async throws -> TestProcess.Result {
    try await runOnThread {
        try TestProcess.run(executable, arguments, environment: environment, workingDirectory: workingDirectory)
    }
}

/// The shared libraries a binary needs (`NEEDED` entries) and its run paths, from `readelf -d`.
struct DynamicSection {
    var needed: [String] = []
    var runPaths: [String] = []

    init(binary: String) async throws {
        let result = try await runProgram("/usr/bin/readelf", ["-d", "-W", binary])
        try #require(result.succeeded, "\(result.standardError)")
        for line in result.standardOutput.split(separator: "\n") {
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { continue }
            let value = String(line[line.index(after: open)..<close])
            if line.contains("(NEEDED)") { needed.append(value) }
            if line.contains("(RPATH)") || line.contains("(RUNPATH)") { runPaths.append(value) }
        }
    }
}

/// Where the Swift toolchain's runtime libraries are: the directory above the
/// `libswiftCore.so` this (dynamically linked) test process runs with, e.g.
/// `/opt/swift/usr/lib/swift`.
func toolchainLibraryDirectory() throws -> String {
    // Read to the end: /proc files report size 0, and a sized read would stop short.
    let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
    defer { try? handle.close() }
    let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    let path = try #require(
        maps.split(separator: "\n").lazy.compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            let path = String(line[slash...])
            return path.hasSuffix("/libswiftCore.so") ? path : nil
        }.first, "the test process maps no libswiftCore.so")
    // .../lib/swift/linux/libswiftCore.so -> .../lib/swift
    return URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().path
}

/// Runs `binary ARGS` in a mount namespace where `hidden` is an empty, unreadable tmpfs, with an
/// empty environment apart from `LD_LIBRARY_PATH=` and a plain PATH. Needs root.
func runWithDirectoryHidden(_ hidden: String, _ binary: String, _ arguments: [String]) async throws -> TestProcess.Result {
    try await runProgram("/usr/bin/unshare", hiddenDirectoryCommand(hidden, binary, arguments))
}

/// The `unshare` arguments of ``runWithDirectoryHidden(_:_:_:)``. The script refuses to run the
/// binary (exit 99) if the directory can still be read.
func hiddenDirectoryCommand(_ hidden: String, _ binary: String, _ arguments: [String]) -> [String] {
    let script = """
        mount -t tmpfs -o mode=0,size=1m homing-hidden "$1" || exit 98
        [ -z "$(ls -A "$1")" ] || exit 99
        shift
        exec /usr/bin/env -i LD_LIBRARY_PATH= PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
        """
    return ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", hidden, binary] + arguments
}

@Suite(
    "make install and the Debian package", .serialized, .timeLimit(.minutes(10)),
    .enabled(if: ReleaseBuild.isAvailable, "make test builds the release (HOMING_RELEASE_BUILD); plain swift test skips this"))
struct PackagingTests {
    /// `make install DESTDIR=... VARIABLES...` from the repository, with the release build made.
    @discardableResult
    func makeInstall(_ variables: [String]) async throws -> TestProcess.Result {
        let directory = try #require(ReleaseBuild.directory)
        var environment = ProcessInfo.processInfo.environment
        environment["MAKEFLAGS"] = nil
        environment["MAKELEVEL"] = nil
        let result = try await runProgram(
            "/usr/bin/make", ["-C", ReleaseBuild.sourceRoot, "install", "RELEASE_BUILD=\(directory)"] + variables,
            environment: environment)
        try #require(result.succeeded, "\(result.commandLine):\n\(result.standardOutput)\n\(result.standardError)")
        return result
    }

    /// The subcommands, each with a manual page of its own.
    static let subcommands = ["serve", "config", "user", "quota", "quota.get", "quota.recalc", "sieve-test", "sieve-check"]

    @Test("make install DESTDIR= installs the binary, the systemd unit, the man pages, the logrotate snippet and the example configuration")
    func installTree() async throws {
        let scratch = try ScratchDirectory("homing-install")
        defer { scratch.remove() }
        let root = scratch.file("root")
        try await makeInstall(["DESTDIR=\(root)"])

        let binary = root + "/usr/local/sbin/homing"
        let attributes = try FileManager.default.attributesOfItem(atPath: binary)
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
        let version = try await runProgram(binary, ["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.hasPrefix("homing \(ReleaseBuild.version) (commit "), "\(version.standardOutput)")

        let unit = try String(contentsOfFile: root + "/usr/local/lib/systemd/system/homing.service", encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/local/sbin/homing serve -c /etc/homing/homing.conf\n"))
        #expect(unit.contains("\nType=notify\n"))
        #expect(!unit.contains("@SBINDIR@") && !unit.contains("@SYSCONFDIR@"))

        for page in ["homing"] + Self.subcommands.map({ "homing.\($0)" }) {
            let text = try String(contentsOfFile: root + "/usr/local/share/man/man8/\(page).8", encoding: .utf8)
            #expect(text.contains(".Dt \(page.uppercased()) 8"), "\(page).8: \(text.prefix(300))")
        }
        let serve = try String(contentsOfFile: root + "/usr/local/share/man/man8/homing.serve.8", encoding: .utf8)
        #expect(serve.contains("SIGHUP"), "the serve page carries the command's discussion")

        let logrotate = try String(contentsOfFile: root + "/etc/logrotate.d/homing", encoding: .utf8)
        #expect(logrotate.contains("/var/log/homing.log {"))
        #expect(!logrotate.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("copytruncate") })
        let example = try String(contentsOfFile: ReleaseBuild.sourceRoot + "/packaging/homing.conf", encoding: .utf8)
        #expect(try String(contentsOfFile: root + "/etc/homing/homing.conf", encoding: .utf8) == example)
    }

    @Test("make install keeps an existing homing.conf and follows PREFIX, SBINDIR, MANDIR, SYSTEMDUNITDIR and SYSCONFDIR")
    func installVariables() async throws {
        let scratch = try ScratchDirectory("homing-install")
        defer { scratch.remove() }
        let root = scratch.file("root")
        let mine = "# the administrator's configuration\nprotocols = lmtp\n"
        try scratch.write("root/srv/etc/homing/homing.conf", mine)
        let result = try await makeInstall([
            "DESTDIR=\(root)", "PREFIX=/opt/homing", "SBINDIR=/opt/homing/bin", "MANDIR=/opt/homing/man",
            "SYSTEMDUNITDIR=/etc/systemd/system", "SYSCONFDIR=/srv/etc",
        ])
        #expect(result.standardOutput.contains("\(root)/srv/etc/homing/homing.conf exists: kept"), "\(result.standardOutput)")
        #expect(try String(contentsOfFile: root + "/srv/etc/homing/homing.conf", encoding: .utf8) == mine)
        #expect(FileManager.default.isExecutableFile(atPath: root + "/opt/homing/bin/homing"))
        #expect(FileManager.default.fileExists(atPath: root + "/opt/homing/man/man8/homing.serve.8"))
        #expect(FileManager.default.fileExists(atPath: root + "/srv/etc/logrotate.d/homing"))
        let unit = try String(contentsOfFile: root + "/etc/systemd/system/homing.service", encoding: .utf8)
        #expect(unit.contains("\nExecStart=/opt/homing/bin/homing serve -c /srv/etc/homing/homing.conf\n"))
        #expect(!FileManager.default.fileExists(atPath: root + "/usr"))
    }

    @Test("the installed binary has no run path and links no Swift runtime: only glibc, libstdc++, libgcc_s, libpq and libldap")
    func installedLinkage() async throws {
        let binary = try #require(ReleaseBuild.directory) + "/release/homing"
        let dynamic = try await DynamicSection(binary: binary)
        #expect(dynamic.runPaths.isEmpty, "RPATH/RUNPATH: \(dynamic.runPaths)")
        let expected: Set = [
            "libpq.so.5", "libldap-2.5.so.0", "liblber-2.5.so.0", "libstdc++.so.6", "libgcc_s.so.1", "libm.so.6",
            "libc.so.6",
        ]
        #expect(Set(dynamic.needed.filter { !$0.hasPrefix("ld-linux") }) == expected, "NEEDED: \(dynamic.needed)")

        let toolchain = try toolchainLibraryDirectory()
        let ldd = try await runProgram("/usr/bin/ldd", [binary], environment: ["LD_LIBRARY_PATH": ""])
        #expect(ldd.status == 0, "\(ldd.standardError)")
        for line in ldd.standardOutput.split(separator: "\n") {
            #expect(!line.contains("not found"), "\(line)")
            #expect(!line.contains(toolchain), "a library from the toolchain: \(line)")
            for runtime in ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"] {
                #expect(!line.contains(runtime), "a Swift runtime library: \(line)")
            }
        }
    }

    @Test(
        "with the toolchain's libraries hidden the installed binary prints its version, checks the example configuration, looks a user up and delivers a message",
        .enabled(if: geteuid() == 0, "unshare and mount need root"))
    func runsWithoutToolchain() async throws {
        let scratch = try ScratchDirectory("homing-install")
        defer { scratch.remove() }
        let root = scratch.file("root")
        try await makeInstall(["DESTDIR=\(root)"])
        let binary = root + "/usr/local/sbin/homing"
        let hidden = try toolchainLibraryDirectory()

        // The control: the test build, linked to the toolchain, cannot start there.
        let dynamic = try await runWithDirectoryHidden(hidden, HomingBinary.path, ["--version"])
        #expect(dynamic.status == 127, "\(dynamic.status) \(dynamic.standardError)")
        #expect(dynamic.standardError.contains("error while loading shared libraries"), "\(dynamic.standardError)")

        let version = try await runWithDirectoryHidden(hidden, binary, ["--version"])
        #expect(version.status == 0, "\(version.standardError)")
        #expect(version.standardOutput.hasPrefix("homing \(ReleaseBuild.version) (commit "))

        let example = root + "/etc/homing/homing.conf"
        let check = try await runWithDirectoryHidden(hidden, binary, ["config", "--check", "-c", example])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        let user = try await runWithDirectoryHidden(hidden, binary, ["user", "-c", example, "nobody"])
        #expect(user.status == 0, "\(user.standardError)")
        #expect(user.standardOutput.contains("uid\t65534"), "\(user.standardOutput)")

        // serve: listeners, a session, a delivery (SwiftNIO, Foundation, Dispatch at work).
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let log = fixture.dir.file("homing.log")
        let pid = try TestProcess.spawn(
            "/usr/bin/unshare", hiddenDirectoryCommand(hidden, binary, ["serve", "-c", fixture.configPath]),
            standardOutput: log + ".out", standardError: log)
        var status: Int32? = nil
        func reap(_ options: Int32) -> Int32? {
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, options) == pid { status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
            }
            return status
        }
        defer {
            if reap(WNOHANG) == nil {
                kill(pid, SIGKILL)
                _ = reap(0)
            }
        }
        let deadline = Date().addingTimeInterval(60)
        var client: LMTPTestClient? = nil
        while client == nil && reap(WNOHANG) == nil && Date() < deadline {
            client = try? await LMTPTestClient.connect(unixPath: fixture.socketPath)
            if client == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let session = try #require(
            client, "homing serve did not listen: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        try await session.open(from: "sender@example.org")
        #expect(try await session.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await session.command("DATA") == ["354 OK"])
        try await session.send("Subject: static\r\n\r\nno toolchain needed\r\n.\r\n")
        #expect(try await session.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        #expect(fixture.files(fixture.maildir("alice")).count == 1)
        kill(pid, SIGTERM)
        let stopBy = Date().addingTimeInterval(30)
        while reap(WNOHANG) == nil && Date() < stopBy { try await Task.sleep(for: .milliseconds(50)) }
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    @Test("the Debian package holds the installed files, marks /etc as conffiles and depends on the package of every library the binary links")
    func debianPackageContents() async throws {
        let deb = try ReleaseBuild.debianPackage()
        let fields = try await runProgram("/usr/bin/dpkg-deb", ["-f", deb, "Package", "Version", "Depends"])
        try #require(fields.succeeded, "\(fields.standardError)")
        #expect(fields.standardOutput.contains("Package: homing\n"))
        #expect(fields.standardOutput.contains("Version: \(ReleaseBuild.version)\n"))
        let dependsLine = try #require(fields.standardOutput.split(separator: "\n").first { $0.hasPrefix("Depends: ") })
        let depends = Set(
            dependsLine.dropFirst("Depends: ".count).split(separator: ",").map {
                String($0.trimmingCharacters(in: .whitespaces).prefix { $0 != " " && $0 != "(" })
            })
        #expect(depends.isSuperset(of: ["libc6", "libpq5", "libldap-2.5-0"]), "\(depends)")

        let scratch = try ScratchDirectory("homing-deb")
        defer { scratch.remove() }
        let tree = scratch.file("tree")
        let extracted = try await runProgram("/usr/bin/dpkg-deb", ["-R", deb, tree])
        try #require(extracted.succeeded, "\(extracted.standardError)")
        for file in [
            "usr/sbin/homing", "lib/systemd/system/homing.service", "usr/share/man/man8/homing.8.gz",
            "usr/share/man/man8/homing.serve.8.gz", "etc/logrotate.d/homing", "etc/homing/homing.conf",
        ] {
            #expect(FileManager.default.fileExists(atPath: tree + "/" + file), "\(file) missing from the package")
        }
        let conffiles = try String(contentsOfFile: tree + "/DEBIAN/conffiles", encoding: .utf8)
        #expect(conffiles.split(separator: "\n").sorted() == ["/etc/homing/homing.conf", "/etc/logrotate.d/homing"])
        let unit = try String(contentsOfFile: tree + "/lib/systemd/system/homing.service", encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/sbin/homing serve -c /etc/homing/homing.conf\n"))

        // Each library the packaged binary needs belongs to a package it depends on.
        let binary = tree + "/usr/sbin/homing"
        let ldd = try await runProgram("/usr/bin/ldd", [binary], environment: ["LD_LIBRARY_PATH": ""])
        try #require(ldd.succeeded, "\(ldd.standardError)")
        let needed = try await DynamicSection(binary: binary).needed
        for library in needed {
            let line = try #require(
                ldd.standardOutput.split(separator: "\n").first { $0.contains(library) }, "\(library) not in ldd")
            let path = line.contains("=>")
                ? String(line.split(separator: " ").drop { $0 != "=>" }.dropFirst().first ?? "")
                : String(line.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
            var owner = try await runProgram("/usr/bin/dpkg", ["-S", path])
            if !owner.succeeded {
                // /lib is /usr/lib on Debian 12; dpkg knows the path the package shipped.
                let other = path.hasPrefix("/usr/") ? String(path.dropFirst(4)) : "/usr" + path
                owner = try await runProgram("/usr/bin/dpkg", ["-S", other])
            }
            try #require(owner.succeeded, "no package owns \(path): \(owner.standardError)")
            let package = String(owner.standardOutput.prefix { $0 != ":" })
            #expect(depends.contains(package), "\(library) (\(path)) is in \(package), which Depends does not list")
        }
    }

    /// Whether `homing` is installed here (then this machine is not ours to install on).
    static var homingAlreadyInstalled: Bool {
        let result = try? TestProcess.run("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "homing"])
        return result?.standardOutput.contains("installed") == true
            || FileManager.default.fileExists(atPath: "/etc/homing")
    }

    @Test(
        "dpkg -i installs the package: homing runs from /usr/sbin, the unit passes systemd-analyze verify and is enabled; dpkg -r and --purge leave nothing behind",
        .enabled(if: geteuid() == 0, "dpkg -i needs root"),
        .enabled(if: !PackagingTests.homingAlreadyInstalled, "homing is installed on this machine: not touching it"))
    func debianPackageInstall() async throws {
        let deb = try ReleaseBuild.debianPackage()
        let install = try await runProgram("/usr/bin/dpkg", ["-i", deb])
        defer { _ = try? TestProcess.run("/usr/bin/dpkg", ["--purge", "homing"]) }
        try #require(install.succeeded, "\(install.standardOutput)\(install.standardError)")
        let files = try await runProgram("/usr/bin/dpkg-query", ["-L", "homing"]).standardOutput
            .split(separator: "\n").map(String.init)

        let version = try await runProgram("/usr/sbin/homing", ["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.hasPrefix("homing \(ReleaseBuild.version) (commit "))
        let check = try await runProgram("/usr/sbin/homing", ["config", "--check"])
        #expect(check.status == 0, "the shipped /etc/homing/homing.conf: \(check.standardOutput)\(check.standardError)")
        // Documentation= names man pages: verify looks them up where man is installed.
        let man = FileManager.default.isExecutableFile(atPath: "/usr/bin/man") ? "yes" : "no"
        let verify = try await runProgram(
            "/usr/bin/systemd-analyze", ["verify", "--man=\(man)", "/lib/systemd/system/homing.service"])
        #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
        #expect(!verify.standardError.contains("homing.service:"), "warnings about the unit: \(verify.standardError)")
        let logrotate = try await runProgram("/usr/sbin/logrotate", ["--debug", "/etc/logrotate.d/homing"])
        #expect(logrotate.status == 0, "\(logrotate.standardError)")
        if FileManager.default.fileExists(atPath: "/usr/bin/man") {
            let man = try await runProgram("/usr/bin/man", ["-w", "8", "homing.serve"])
            #expect(man.standardOutput.contains("/usr/share/man/man8/homing.serve.8.gz"), "\(man.standardError)")
        }
        // Enabled for the next boot in any case; running now where systemd runs.
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(
                atPath: "/etc/systemd/system/multi-user.target.wants/homing.service")) == "/lib/systemd/system/homing.service")
        if FileManager.default.fileExists(atPath: "/run/systemd/system") {
            let active = try await runProgram("/usr/bin/systemctl", ["is-active", "homing.service"])
            #expect(active.standardOutput == "active\n", "\(active.standardOutput)")
        }

        let remove = try await runProgram("/usr/bin/dpkg", ["-r", "homing"])
        #expect(remove.status == 0, "\(remove.standardOutput)\(remove.standardError)")
        #expect(!FileManager.default.fileExists(atPath: "/usr/sbin/homing"))
        #expect(!FileManager.default.fileExists(atPath: "/lib/systemd/system/homing.service"))
        #expect(FileManager.default.fileExists(atPath: "/etc/homing/homing.conf"), "conffiles stay until purge")

        let purge = try await runProgram("/usr/bin/dpkg", ["--purge", "homing"])
        #expect(purge.status == 0, "\(purge.standardOutput)\(purge.standardError)")
        let status = try await runProgram("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "homing"])
        #expect(!status.standardOutput.contains("installed") && !status.standardOutput.contains("config-files"))
        for file in files where !isDirectory(file) {
            #expect(!FileManager.default.fileExists(atPath: file), "\(file) left after purge")
        }
        #expect(!FileManager.default.fileExists(atPath: "/etc/homing"))
        let leftovers = try await runProgram(
            "/usr/bin/find", [
                "/etc", "/lib/systemd", "/usr/lib/systemd", "/var/lib/systemd", "/usr/sbin", "/usr/share/man/man8",
                "-name", "*homing*",
            ])
        #expect(leftovers.standardOutput.isEmpty, "left after purge: \(leftovers.standardOutput)")
    }

    @Test(
        "under systemd (a booted container) dpkg -i starts homing.service with its hardening; it delivers as the user, sends a Sieve redirect through setgid postdrop, reloads, reopens its log after logrotate, and dpkg -r stops it",
        .enabled(if: BootedContainer.isPossible, "needs root, systemd-nspawn and nsenter"))
    func underSystemd() async throws {
        let deb = try ReleaseBuild.debianPackage()
        let container = try await BootedContainer()
        defer { container.stop() }
        try await container.waitForBoot()
        @discardableResult
        func inside(_ command: String) async throws -> TestProcess.Result {
            let result = try await container.run(command)
            try #require(result.succeeded, "\(command): \(result.status)\n\(result.standardOutput)\(result.standardError)")
            return result
        }
        func journal() async throws -> String {
            try await container.run("journalctl --no-pager -o cat -u homing.service").standardOutput
        }
        func waitForJournal(_ text: String) async throws -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if try await journal().contains(text) { return true }
                try await Task.sleep(for: .milliseconds(250))
            }
            return false
        }

        // postinst starts it; Type=notify: active only once READY=1 came. (A container image's
        // policy-rc.d, "exit 101", would forbid the start, as deb-systemd-invoke honours it.)
        try await inside("rm -f /usr/sbin/policy-rc.d")
        // Through the overlay: the build directory may be on a mount the container lacks.
        try FileManager.default.copyItem(atPath: deb, toPath: container.root + "/var/tmp/homing.deb")
        try await inside("dpkg -i /var/tmp/homing.deb")
        #expect(try await container.run("systemctl is-active homing.service").standardOutput == "active\n")
        #expect(try await container.run("systemctl show -P StatusText homing.service").standardOutput == "serving LMTP\n")
        let pid = try await inside("systemctl show -P MainPID homing.service").standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let status = try await inside("cat /proc/\(pid)/status").standardOutput
        #expect(status.contains("NoNewPrivs:\t0"), "postdrop's setgid bit must work")
        #expect(status.contains("Seccomp:\t2"), "the system call filter is in force")
        #expect(!(try await journal()).contains("Failed to set thread priority"))

        // A local user with a Sieve redirect; Postfix's sendmail drops the redirect into its
        // maildrop queue through setgid postdrop (no Postfix needs to run for that).
        try await inside("useradd --create-home homingct")
        try await inside("printf 'redirect \"elsewhere@example.org\";\\nkeep;\\n' > /home/homingct/.dovecot.sieve && chown homingct: /home/homingct/.dovecot.sieve")
        try await inside("[ -e /etc/postfix/main.cf ] || printf 'compatibility_level = 3.6\\nmydestination =\\n' > /etc/postfix/main.cf")
        try await inside("printf 'mail_plugins = sieve\\nplugin {\\n  sieve = ~/.dovecot.sieve\\n}\\n' >> /etc/homing/homing.conf")
        try await inside("systemctl reload homing.service")
        let reloaded = try await waitForJournal("configuration reloaded")
        let afterReload = try await journal()
        #expect(reloaded, "\(afterReload)")
        let lmtp = try await inside(
            "swaks --socket /run/homing/lmtp --protocol LMTP --from sender@example.net --to homingct@localhost --suppress-data")
        #expect(lmtp.standardOutput.contains("250 2.0.0 <homingct@localhost>"), "\(lmtp.standardOutput)")
        let stored = try await inside("find /home/homingct/Maildir/new -type f -user homingct").standardOutput
        #expect(stored.split(separator: "\n").count == 1, "\(stored)")
        let dropped = try await inside("find /var/spool/postfix/maildrop -type f -user homingct -group postdrop").standardOutput
        let afterDelivery = try await journal()
        #expect(dropped.split(separator: "\n").count == 1, "the redirect: \(dropped) \(afterDelivery)")
        #expect(try await journal().contains("redirect action: forwarded to <elsewhere@example.org>"))

        // log_path takes effect at a restart; logrotate's postrotate signals the service.
        try await inside("printf 'log_path = /var/log/homing.log\\n' >> /etc/homing/homing.conf && systemctl restart homing.service")
        try await inside("logrotate --force /etc/logrotate.d/homing")
        var reopened = false
        let deadline = Date().addingTimeInterval(30)
        while !reopened && Date() < deadline {
            reopened = (try await container.run("cat /var/log/homing.log").standardOutput).contains("SIGUSR1: log file reopened")
            if !reopened { try await Task.sleep(for: .milliseconds(250)) }
        }
        let logs = try await container.run("ls -l /var/log; cat /var/log/homing.log*").standardOutput
        #expect(reopened, "\(logs)")
        #expect(try await inside("cat /var/log/homing.log.1").standardOutput.contains("Homing started"))

        // prerm stops it; RuntimeDirectory= goes with it.
        try await inside("dpkg -r homing")
        #expect(try await container.run("systemctl is-active homing.service").standardOutput != "active\n")
        #expect(try await container.run("test -e /run/homing").status != 0)
        try await inside("dpkg --purge homing")
        #expect(try await container.run("test -e /etc/homing").status != 0)
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

/// The logrotate snippet (packaging/homing.logrotate) against a running `homing serve`.
@Suite("log rotation", .timeLimit(.minutes(5)))
struct LogRotationTests {
    @Test(
        "logrotate with Homing's snippet renames the log file and the running homing serve writes a new one (SIGUSR1 through the pid file)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/logrotate"), "logrotate is not installed"))
    func logrotateSnippet() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let logDirectory = try fixture.dir.makeDirectory("log", mode: 0o755)
        let logFile = logDirectory + "/homing.log"
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "log_path = /dev/stderr", with: "log_path = \(logFile)")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        // The snippet as shipped, pointed at this test's log file and base_dir.
        var snippet = try String(contentsOfFile: ReleaseBuild.sourceRoot + "/packaging/homing.logrotate", encoding: .utf8)
        #expect(snippet.contains("/var/log/homing.log {") && snippet.contains("/run/homing/homing.pid"))
        snippet = snippet.replacingOccurrences(of: "/var/log/homing.log", with: logFile)
            .replacingOccurrences(of: "/run/homing/homing.pid", with: fixture.dir.file("run/homing.pid"))
            // The service branch is for the installed homing.service, not this test's server.
            .replacingOccurrences(of: "homing.service", with: "homing-logrotate-test-nonexistent.service")
        let snippetPath = try fixture.dir.write("logrotate.conf", snippet)
        chmod(snippetPath, 0o644)

        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let rotate = try await runProgram(
            "/usr/sbin/logrotate", ["--force", "--state", fixture.dir.file("logrotate.state"), snippetPath])
        #expect(rotate.status == 0, "\(rotate.standardOutput)\(rotate.standardError)")
        let deadline = Date().addingTimeInterval(20)
        func fresh() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        while !fresh().contains("SIGUSR1: log file reopened") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        _ = try await client.command("RCPT TO:<nosuch@example.com>")
        while !fresh().contains("User doesn't exist") && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        // delaycompress: the first rotation stays uncompressed.
        let rotated = try String(contentsOfFile: logFile + ".1", encoding: .utf8)
        #expect(rotated.contains("Homing started"), "\(rotated)")
        #expect(fresh().contains("SIGUSR1: log file reopened"), "\(fresh())")
        #expect(fresh().contains("User doesn't exist: nosuch@example.com"))
        #expect(!rotated.contains("User doesn't exist"))
        #expect(server.exited() == nil)
    }

    @Test(
        "the snippet's postrotate sends no signal when the pid file is stale (not locked by a running Homing)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/logrotate"), "logrotate is not installed"))
    func stalePidFile() async throws {
        let scratch = try ScratchDirectory("homing-logrotate")
        defer { scratch.remove() }
        let logFile = try scratch.write("log/homing.log", "old line\n")
        // A process that dies of SIGUSR1 and whose PID the stale pid file names.
        let victim = try TestProcess.spawn(
            "/bin/sleep", ["60"], standardOutput: "/dev/null", standardError: "/dev/null")
        defer {
            kill(victim, SIGKILL)
            var raw: Int32 = 0
            waitpid(victim, &raw, 0)
        }
        try scratch.write("run/homing.pid", "\(victim)\n")
        var snippet = try String(contentsOfFile: ReleaseBuild.sourceRoot + "/packaging/homing.logrotate", encoding: .utf8)
        snippet = snippet.replacingOccurrences(of: "/var/log/homing.log", with: logFile)
            .replacingOccurrences(of: "/run/homing/homing.pid", with: scratch.file("run/homing.pid"))
            .replacingOccurrences(of: "homing.service", with: "homing-logrotate-test-nonexistent.service")
        let snippetPath = try scratch.write("logrotate.conf", snippet)
        chmod(snippetPath, 0o644)
        let rotate = try await runProgram("/usr/sbin/logrotate", ["--force", "--state", scratch.file("state"), snippetPath])
        #expect(rotate.status == 0, "\(rotate.standardOutput)\(rotate.standardError)")
        #expect(FileManager.default.fileExists(atPath: logFile + ".1"))
        var raw: Int32 = 0
        #expect(waitpid(victim, &raw, WNOHANG) == 0, "the process named by the stale pid file was signalled")
    }
}

/// A throwaway systemd machine: this machine's own root file system under an overlay (writes go
/// to a tmpfs), booted with `systemd-nspawn` to `basic.target` (journald and little else), with
/// a private network. Commands run inside through `nsenter`. Needs root and systemd-container.
final class BootedContainer: Sendable {
    let scratch: ScratchDirectory
    /// The container's root as seen from here (the overlay).
    let root: String
    let nspawn: pid_t

    static var isPossible: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")
    }

    init() async throws {
        scratch = try ScratchDirectory("homing-container")
        let layers = scratch.file("layers")
        root = layers + "/root"
        try FileManager.default.createDirectory(atPath: layers, withIntermediateDirectories: true)
        do {
            try TestProcess.runChecked("/bin/mount", ["-t", "tmpfs", "-o", "size=512m", "homing-container", layers])
            for directory in ["upper", "work", "root"] {
                try FileManager.default.createDirectory(atPath: layers + "/" + directory, withIntermediateDirectories: true)
            }
            try TestProcess.runChecked(
                "/bin/mount", ["-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir=\(layers)/upper,workdir=\(layers)/work", root])
        } catch {
            Self.unmount(layers)
            scratch.remove()
            throw error
        }
        let name = "homing-test-\(getpid())"
        nspawn = try TestProcess.spawn(
            "/usr/bin/systemd-nspawn",
            [
                "--directory=\(root)", "--private-network", "--register=no", "--keep-unit", "--machine=\(name)",
                "--boot", "--", "--unit=basic.target",
            ],
            standardOutput: scratch.file("nspawn.log"), standardError: scratch.file("nspawn.log"))
        let deadline = Date().addingTimeInterval(60)
        while Self.leader(of: nspawn) == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        guard Self.leader(of: nspawn) != nil else {
            kill(nspawn, SIGKILL)
            var raw: Int32 = 0
            waitpid(nspawn, &raw, 0)
            let log = (try? String(contentsOfFile: scratch.file("nspawn.log"), encoding: .utf8)) ?? ""
            Self.unmount(layers)
            scratch.remove()
            throw TestProcessError(message: "systemd-nspawn started no container in 60 s: \(log)")
        }
    }

    /// The container's init (`systemd`, a child of nspawn; nspawn's first child is a helper
    /// that exits), the target of `nsenter`.
    private static func leader(of nspawn: pid_t) -> pid_t? {
        let children = try? TestProcess.run("/usr/bin/pgrep", ["-P", "\(nspawn)", "-x", "systemd"])
        return children?.standardOutput.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Runs `command` with /bin/sh inside the container.
    func run(_ command: String) async throws -> TestProcess.Result {
        let leader = try #require(Self.leader(of: nspawn), "the container's init is gone: \(nspawnLog)")
        return try await runProgram(
            "/usr/bin/nsenter", ["--target", "\(leader)", "--all", "--root", "--wd", "--", "/bin/sh", "-c", command])
    }

    /// Waits until the system has booted (`systemctl is-system-running --wait`).
    func waitForBoot() async throws {
        let deadline = Date().addingTimeInterval(120)
        var last = ""
        while Date() < deadline {
            let state = try await run("systemctl is-system-running")
            if state.standardOutput.hasPrefix("running") || state.standardOutput.hasPrefix("degraded") { return }
            last = state.standardOutput + state.standardError
            try await Task.sleep(for: .milliseconds(500))
        }
        throw TestProcessError(message: "the container did not finish booting in 120 s (\(last)): \(nspawnLog)")
    }

    var nspawnLog: String { (try? String(contentsOfFile: scratch.file("nspawn.log"), encoding: .utf8)) ?? "" }

    /// Powers the container off (SIGTERM to nspawn, SIGKILL after 60 s) and removes the layers.
    func stop() {
        kill(nspawn, SIGTERM)
        var raw: Int32 = 0
        let deadline = Date().addingTimeInterval(60)
        while waitpid(nspawn, &raw, WNOHANG) == 0 {
            if Date() > deadline {
                kill(nspawn, SIGKILL)
                waitpid(nspawn, &raw, 0)
                break
            }
            usleep(100_000)
        }
        Self.unmount(scratch.file("layers"))
        scratch.remove()
    }

    private static func unmount(_ layers: String) {
        _ = try? TestProcess.run("/bin/umount", ["--lazy", layers + "/root"])
        _ = try? TestProcess.run("/bin/umount", ["--lazy", layers])
    }
}
