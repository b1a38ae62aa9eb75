import Foundation
import HomingLMTP
import HomingTestSupport
import Logging
import NIOCore

struct TestError: Error, CustomStringConvertible {
    var description: String
}

/// What the test backend saw.
struct BackendRecord: Sendable {
    var verified: [LMTPRecipient] = []
    var contexts: [LMTPTransactionContext] = []
    var sinksCreated = 0
    var discarded: [[UInt8]] = []
    /// Delivered messages: bytes and the accepted recipients' paths.
    var delivered: [(bytes: [UInt8], recipients: [String], context: LMTPTransactionContext)] = []
}

/// A sink collecting bytes in memory; fails the write after `failAfterWrites` writes if set.
final class TestSink: LMTPMessageSink {
    let bytes = Locked<[UInt8]>([])
    let writes = Locked(0)
    let failAfterWrites: Int?
    let record: Locked<BackendRecord>

    init(failAfterWrites: Int?, record: Locked<BackendRecord>) {
        self.failAfterWrites = failAfterWrites
        self.record = record
    }

    func write(_ buffer: ByteBuffer) async throws {
        let count = writes.withValue { value -> Int in
            value += 1
            return value
        }
        if let failAfterWrites, count > failAfterWrites {
            throw TestError(description: "disk full")
        }
        bytes.withValue { $0.append(contentsOf: buffer.readableBytesView) }
    }

    func discard() async {
        let collected = bytes.current
        record.withValue { $0.discarded.append(collected) }
    }
}

/// A backend knowing a fixed set of users; the same address twice is a duplicate delivery.
struct TestBackend: LMTPBackend {
    var hostname = "mx.example.com"
    var users: Set<String> = ["alice@example.com", "bob@example.com", "carol@example.org"]
    var failSinkAfterWrites: Int?
    var failSinkCreation = false
    /// Per address: the outcome to return instead of `.saved`.
    var failures: [String: LMTPReply] = [:]
    /// Return only this many outcomes (a misbehaving backend).
    var truncateOutcomes: Int?
    let record = Locked(BackendRecord())

    func verifyRecipient(_ recipient: LMTPRecipient, in transaction: LMTPTransactionContext) async
        -> LMTPRecipientVerdict<String>
    {
        record.withValue {
            $0.verified.append(recipient)
            $0.contexts.append(transaction)
        }
        let user = recipient.address.lowercased()
        if users.contains(user) { return .accept(user) }
        return .reject(LMTPReply(550, "5.1.1", "<\(recipient.path)> User doesn't exist: \(recipient.address)"))
    }

    func makeMessageSink(for transaction: LMTPTransactionContext) async throws -> TestSink {
        if failSinkCreation { throw TestError(description: "spool unavailable") }
        record.withValue { $0.sinksCreated += 1 }
        return TestSink(failAfterWrites: failSinkAfterWrites, record: record)
    }

    func deliver(
        _ sink: TestSink, to recipients: [LMTPAcceptedRecipient<String>], in transaction: LMTPTransactionContext
    ) async -> [LMTPDeliveryOutcome] {
        let bytes = sink.bytes.current
        record.withValue {
            $0.delivered.append((bytes, recipients.map(\.command.path), transaction))
        }
        var outcomes: [LMTPDeliveryOutcome] = []
        var firstPosition: [String: Int] = [:]
        for (position, recipient) in recipients.enumerated() {
            if let reply = failures[recipient.resolved] {
                outcomes.append(.failed(reply))
            } else if let first = firstPosition[recipient.resolved] {
                outcomes.append(.duplicate(ofRecipientAt: first))
            } else {
                firstPosition[recipient.resolved] = position
                outcomes.append(.saved)
            }
        }
        if let truncateOutcomes { return Array(outcomes.prefix(truncateOutcomes)) }
        return outcomes
    }
}

/// Collects the session's replies and how they were batched.
final class CollectingWriter: LMTPReplyWriter, Sendable {
    let batches = Locked<[[LMTPReply]]>([])

    func write(_ replies: [LMTPReply], waitingAfterReads: Int?) async throws {
        guard !replies.isEmpty else { return }
        batches.withValue { $0.append(replies) }
    }

    /// All output as it would appear on the wire.
    var wire: String { batches.current.flatMap { $0 }.map(\.wireFormat).joined() }
    /// The output lines without CRLF.
    var lines: [String] { wire.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// The result of a scripted session.
struct SessionRun {
    var lines: [String]
    var batches: [[LMTPReply]]
    var record: BackendRecord
    var logs: [String]
}

let testSessionID = "WKD+DRILBmv+TQAAg+zDdQ"

/// Runs a whole session over `pieces` (each one read), then the end of input.
func runSession(
    _ pieces: [String], backend: TestBackend = TestBackend(),
    configuration: LMTPSessionConfiguration = LMTPSessionConfiguration(),
    connection: LMTPConnectionInfo = LMTPConnectionInfo()
) async -> SessionRun {
    await runSession(
        pieces.map { ByteBuffer(string: $0) }, backend: backend, configuration: configuration, connection: connection)
}

func runSession(
    _ pieces: [ByteBuffer], backend: TestBackend = TestBackend(),
    configuration: LMTPSessionConfiguration = LMTPSessionConfiguration(),
    connection: LMTPConnectionInfo = LMTPConnectionInfo()
) async -> SessionRun {
    let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
    for piece in pieces { continuation.yield(piece) }
    continuation.finish()
    let writer = CollectingWriter()
    let logs = LogRecorder()
    await runLMTPSession(
        input: stream, output: writer, backend: backend, connection: connection,
        configuration: configuration, logger: logs.logger, sessionID: testSessionID)
    return SessionRun(lines: writer.lines, batches: writer.batches.current, record: backend.record.current, logs: logs.lines.map(\.message))
}

let lhloLines = [
    "250-mx.example.com", "250-8BITMIME", "250-CHUNKING", "250-DSN", "250-ENHANCEDSTATUSCODES", "250-SIZE", "250-SMTPUTF8",
    "250 PIPELINING",
]
