import Glibc
import Synchronization

/// A value shared between a test and the threads or tasks it starts, behind a `Mutex`.
///
/// (ThreadSanitizer on Linux does not see `Synchronization.Mutex`; reports about values held
/// here are false positives, suppressed in the sanitizer runs.)
public final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>

    /// Holds `value`.
    public init(_ value: sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, exclusively.
    public func withValue<Result>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        try mutex.withLock(body)
    }

}

extension Locked where Value: Sendable {
    /// A copy of the value.
    public var current: Value {
        mutex.withLock { value in value }
    }
}

extension Locked where Value: RangeReplaceableCollection & Sendable, Value.Element: Sendable {
    /// Appends an element.
    public func append(_ element: Value.Element) {
        mutex.withLock { $0.append(element) }
    }
}

/// Work to do when the test process exits (throwaway servers to stop), registered by key.
public final class ExitCleanup: Sendable {
    /// The process's one list.
    public static let shared = ExitCleanup()

    private struct State {
        var tasks: [ObjectIdentifier: @Sendable () -> Void] = [:]
        var registeredExitHandler = false
    }

    private let state = Mutex(State())

    /// Runs `cleanup` at exit unless ``remove(_:)`` is called for `owner` first.
    public func add(_ owner: AnyObject, _ cleanup: @escaping @Sendable () -> Void) {
        let register = state.withLock { state -> Bool in
            state.tasks[ObjectIdentifier(owner)] = cleanup
            defer { state.registeredExitHandler = true }
            return !state.registeredExitHandler
        }
        if register { atexit { ExitCleanup.shared.runAll() } }
    }

    /// Forgets `owner`'s cleanup (it cleaned up by itself).
    public func remove(_ owner: AnyObject) {
        state.withLock { _ = $0.tasks.removeValue(forKey: ObjectIdentifier(owner)) }
    }

    private func runAll() {
        let tasks = state.withLock { state -> [@Sendable () -> Void] in
            defer { state.tasks.removeAll() }
            return Array(state.tasks.values)
        }
        for task in tasks { task() }
    }
}
