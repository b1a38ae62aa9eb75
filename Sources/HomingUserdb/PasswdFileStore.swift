import Logging
import NIOPosix

/// Parsed passwd-files by path, re-read when they change.
///
/// Every lookup `stat`s the file (on the thread pool) and compares device, inode, size, and
/// mtime and ctime with nanoseconds to the version in memory; any difference re-reads it. So a
/// change is seen by the next lookup, even within the same second, unlike Dovecot's once a
/// second mtime check. Concurrent lookups share one read.
actor PasswdFileStore {
    /// The answer for one path.
    enum Load: Sendable, Hashable {
        case contents(PasswdFileContents)
        case missing
        case failed(String)
    }

    private struct Cached {
        var identity: FileIdentity
        var contents: PasswdFileContents
    }

    private struct Loading {
        var generation: Int
        var task: Task<PasswdFileReader.ReadResult, Never>
    }

    private let threadPool: NIOThreadPool
    private let logger: Logger
    private var cache: [String: Cached] = [:]
    private var loading: [String: Loading] = [:]
    private var generation = 0

    init(threadPool: NIOThreadPool, logger: Logger) {
        self.threadPool = threadPool
        self.logger = logger
    }

    /// The current contents of a file.
    func contents(of path: String) async -> Load {
        let stat: PasswdFileReader.StatResult
        do {
            stat = try await threadPool.runIfActive { PasswdFileReader.identity(of: path) }
        } catch {
            return .failed("cannot check \(path): the thread pool is not running")
        }
        let identity: FileIdentity
        switch stat {
        case .missing:
            cache[path] = nil
            return .missing
        case .failed(let reason):
            return .failed(reason)
        case .identity(let current):
            identity = current
        }
        if let cached = cache[path], cached.identity == identity {
            return .contents(cached.contents)
        }
        // A read already under way may have started before the change we just saw: if what it
        // read is not this version, read once more.
        var result = await read(path)
        if case .loaded(let loadedIdentity, _) = result, loadedIdentity != identity {
            result = await read(path)
        }
        switch result {
        case .loaded(_, let contents): return .contents(contents)
        case .missing: return .missing
        case .failed(let reason): return .failed(reason)
        }
    }

    /// Joins the read in progress for `path`, or starts one; caches and logs what it read.
    private func read(_ path: String) async -> PasswdFileReader.ReadResult {
        if let inProgress = loading[path] {
            return await inProgress.task.value
        }
        generation += 1
        let mine = generation
        let pool = threadPool
        let task = Task<PasswdFileReader.ReadResult, Never> {
            do {
                return try await pool.runIfActive { PasswdFileReader.read(path) }
            } catch {
                return .failed("cannot read \(path): the thread pool is not running")
            }
        }
        loading[path] = Loading(generation: mine, task: task)
        let result = await task.value
        if loading[path]?.generation == mine { loading[path] = nil }
        switch result {
        case .loaded(let identity, let contents):
            cache[path] = Cached(identity: identity, contents: contents)
            logger.debug("passwd-file: read \(path): \(contents.users.count) users")
            for problem in contents.problems {
                logger.error("passwd-file \(problem)")
            }
            for duplicate in contents.duplicates {
                logger.warning("passwd-file \(duplicate)")
            }
        case .missing:
            cache[path] = nil
        case .failed:
            break
        }
        return result
    }
}
