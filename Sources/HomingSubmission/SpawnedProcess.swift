import CHomingLinux
#if canImport(Glibc)
    import Glibc
#endif

/// A child process with its standard input connected to a socket (so writing after the child
/// went away gives EPIPE, never SIGPIPE: `send` with MSG_NOSIGNAL) and its standard output and
/// error to another socket pair.
struct SpawnedProcess: ~Copyable {
    let pid: pid_t
    let input: Int32
    let output: Int32

    init(_ argv: [String]) throws(SubmissionError) {
        var inputPair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &inputPair) == 0 else {
            throw SubmissionError(temporary: true, "cannot create a socket pair: \(OutgoingMessageReader.describe(errno))")
        }
        var outputPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &outputPipe) == 0 else {
            let code = errno
            _ = close(inputPair[0])
            _ = close(inputPair[1])
            throw SubmissionError(temporary: true, "cannot create a socket pair: \(OutgoingMessageReader.describe(code))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPair[1], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        // Nothing else of the daemon's (another user's maildir file, a userdb connection).
        _ = homing_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, environ)
        _ = close(inputPair[1])
        _ = close(outputPipe[1])
        guard result == 0 else {
            _ = close(inputPair[0])
            _ = close(outputPipe[0])
            throw SubmissionError(
                temporary: true, "cannot run \(argv[0]): \(OutgoingMessageReader.describe(result))")
        }
        self.pid = pid
        self.input = inputPair[0]
        self.output = outputPipe[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
    }
}
