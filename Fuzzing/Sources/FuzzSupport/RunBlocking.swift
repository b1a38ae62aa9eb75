import Dispatch
import Synchronization

/// Runs an async operation to the end from synchronous code (the libFuzzer callback) and
/// returns its result. The operation runs on the global concurrent executor; the calling
/// thread, which is not one of its threads, waits on a semaphore.
public func runBlocking<T: Sendable>(_ operation: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await operation()
        box.value.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    guard let value = box.value.withLock({ $0 }) else {
        // Unreachable: the task stores its value before it signals.
        preconditionFailure("runBlocking: the operation ended without a result")
    }
    return value
}

/// Where the task leaves its result for the waiting thread.
private final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
