import CLibPQ
import Glibc
import HomingUserdb

/// Why a query produced no rows.
enum PostgresQueryError: Error, Sendable, Hashable {
    /// The deadline passed before the answer came (the connection must be closed: the answer
    /// may still arrive).
    case timedOut
    /// The connection broke (server gone, network down).
    case connectionLost(String)
    /// The server answered with an error (bad SQL, missing column, ...); the connection is fine.
    case serverError(String)
}

/// One libpq connection. Every method blocks: call them on a thread pool.
///
/// Queries use libpq's non-blocking API and `poll()` so that they end at a deadline even when the
/// server hangs; opening uses `PQconnectdbParams`, bounded by libpq's `connect_timeout`.
final class PostgresConnection: @unchecked Sendable {
    // @unchecked: the PGconn is used by one thread at a time. The pool lends a connection to
    // exactly one lookup, which calls it from one thread-pool job at a time, and `close` is
    // called only once the connection is no longer lent.
    private let handle: OpaquePointer
    private var closed = false

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// PostgreSQL's `unknown` type: parameters sent with it are typed from their context, like
    /// quoted literals.
    static let unknownTypeOID: Oid = 705

    /// Opens a connection with `connectString` (conninfo or URI). `connectTimeoutSeconds`, when
    /// given, is libpq's `connect_timeout` unless the string sets its own.
    static func open(connectString: String, connectTimeoutSeconds: Int?) -> Result<PostgresConnection, ConnectionPoolError> {
        var keywords = ["fallback_application_name"]
        var values = ["homing"]
        if let connectTimeoutSeconds {
            keywords.append("connect_timeout")
            values.append(String(connectTimeoutSeconds))
        }
        // Last, and expanded (expand_dbname = 1): the administrator's settings win.
        keywords.append("dbname")
        values.append(connectString)
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            return .failure(ConnectionPoolError(reason: "cannot connect to PostgreSQL: out of memory"))
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = errorText(PQerrorMessage(connection))
            PQfinish(connection)
            return .failure(ConnectionPoolError(reason: "cannot connect to PostgreSQL: \(message)"))
        }
        guard PQsetnonblocking(connection, 1) == 0 else {
            let message = errorText(PQerrorMessage(connection))
            PQfinish(connection)
            return .failure(ConnectionPoolError(reason: "cannot make the PostgreSQL connection non-blocking: \(message)"))
        }
        return .success(PostgresConnection(handle: connection))
    }

    /// Whether the connection is open and outside any transaction (fit for the next query).
    var isUsable: Bool {
        !closed && PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Escapes `value` for use inside a single-quoted literal, by the connection's rules
    /// (`PQescapeStringConn`: quotes doubled, backslashes too when standard_conforming_strings
    /// is off). Values must not contain NUL.
    func escapeLiteralContent(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        var error: Int32 = 0
        let length = bytes.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                PQescapeStringConn(handle, &output, chars.baseAddress, bytes.count, &error)
            }
        }
        guard error == 0 else {
            // Invalid encoding for the server: double the quotes ourselves, which is what
            // standard_conforming_strings (the default since PostgreSQL 9.1) needs.
            return SQLQueryTemplate.doublingQuotes(value)
        }
        return String(decoding: output.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs one statement with text parameters (typed `unknown`) and waits for its rows until
    /// `deadline`.
    func query(_ sql: String, parameters: [String], deadline: ContinuousClock.Instant) -> Result<SQLRows, PostgresQueryError> {
        let types = [Oid](repeating: Self.unknownTypeOID, count: parameters.count)
        let sent = Self.withCStringArray(parameters) { valuePointers in
            types.withUnsafeBufferPointer { typePointers in
                PQsendQueryParams(
                    handle, sql, Int32(parameters.count), typePointers.baseAddress, valuePointers, nil, nil, 0)
            }
        }
        guard sent == 1 else { return .failure(connectionError()) }
        // Send everything.
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { break }
            if flushed < 0 { return .failure(connectionError()) }
            switch wait(for: Int16(POLLOUT | POLLIN), until: deadline) {
            case .ready(let events):
                if events & Int16(POLLIN) != 0, PQconsumeInput(handle) == 0 { return .failure(connectionError()) }
            case .timedOut: return .failure(.timedOut)
            case .failed(let reason): return .failure(.connectionLost(reason))
            }
        }
        // Collect the results; keep the first.
        var first: OpaquePointer?
        defer { if let first { PQclear(first) } }
        while true {
            while PQisBusy(handle) == 1 {
                switch wait(for: Int16(POLLIN), until: deadline) {
                case .ready:
                    if PQconsumeInput(handle) == 0 { return .failure(connectionError()) }
                case .timedOut: return .failure(.timedOut)
                case .failed(let reason): return .failure(.connectionLost(reason))
                }
            }
            guard let result = PQgetResult(handle) else { break }
            if first == nil { first = result } else { PQclear(result) }
        }
        guard let first else { return .failure(connectionError()) }
        switch PQresultStatus(first) {
        case PGRES_TUPLES_OK:
            return .success(Self.rows(of: first))
        case PGRES_COMMAND_OK:
            return .success(SQLRows(columns: [], rows: []))
        default:
            let message = Self.errorText(PQresultErrorMessage(first))
            if PQstatus(handle) != CONNECTION_OK { return .failure(.connectionLost(message)) }
            return .failure(.serverError(message))
        }
    }

    /// Closes the connection (idempotent).
    func close() {
        guard !closed else { return }
        closed = true
        PQfinish(handle)
    }

    deinit {
        if !closed { PQfinish(handle) }
    }

    // MARK: - Helpers

    private enum WaitOutcome {
        case ready(Int16)
        case timedOut
        case failed(String)
    }

    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> WaitOutcome {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return .failed("the connection has no socket") }
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return .timedOut }
            let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(milliseconds, Int64(Int32.max))))
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            return .ready(descriptor.revents)
        }
    }

    private func connectionError() -> PostgresQueryError {
        let message = Self.errorText(PQerrorMessage(handle))
        if PQstatus(handle) != CONNECTION_OK { return .connectionLost(message) }
        return .serverError(message)
    }

    private static func rows(of result: OpaquePointer) -> SQLRows {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        var columns: [String] = []
        columns.reserveCapacity(Int(columnCount))
        for column in 0..<columnCount {
            columns.append(PQfname(result, column).map { String(cString: $0) } ?? "?column?")
        }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(PQgetvalue(result, row, column).map { String(cString: $0) } ?? "")
                }
            }
            rows.append(values)
        }
        return SQLRows(columns: columns, rows: rows)
    }

    /// libpq's message, one line, without the trailing newline.
    static func errorText(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        let text = String(cString: pointer)
        let lines = text.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingTrailingSpaces() }
        let joined = lines.filter { !$0.isEmpty }.joined(separator: "; ")
        return joined.isEmpty ? "unknown error" : joined
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    private static func withCStringArray<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
        let duplicates: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { duplicates.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = duplicates.map { $0.map { UnsafePointer($0) } } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
