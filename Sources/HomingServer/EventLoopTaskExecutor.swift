import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// A session task preferring its connection's event loop runs where its channel's reads and
/// writes happen: a read resumes the session on the same thread, and a reply is written
/// without crossing threads, instead of two thread wake-ups per command between the event
/// loop and the shared concurrency pool. Nothing that blocks runs in a session task itself:
/// userdb lookups, storage and Sieve go to their own thread pools, so the event loop is only
/// ever busy with protocol work.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// One ``EventLoopTaskExecutor`` per event loop of a group, made once: event loops (and so
/// these executors) live as long as the server.
struct EventLoopTaskExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(_ group: any EventLoopGroup) {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(loop) }
        self.executors = executors
    }

    /// The executor running on `eventLoop`; nil for a loop outside the group (an embedded one in
    /// a test), whose tasks then run on the default executor.
    func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor? {
        executors[ObjectIdentifier(eventLoop)]
    }
}
