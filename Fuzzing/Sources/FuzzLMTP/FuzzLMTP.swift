import FuzzSupport
import HomingLMTP
import NIOCore

/// libFuzzer target: a client's bytes through `LMTPInputFramer`, `LMTPCommandParser` and
/// `LMTPSessionStateMachine`, with a backend that answers from the input (accept or refuse a
/// recipient, fail the sink, fail a delivery).
///
/// Input: one options byte, one byte that seeds how the session bytes are split into reads,
/// then the bytes the client sends. The session runs twice, once with all the bytes in one
/// read and once split into reads of 1 to 1024 bytes; both must give the same replies and
/// deliver the same messages (the framing must not depend on how TCP cuts the stream).
/// Checked on the way:
/// every reply is well-formed on the wire (`ddd-`/`ddd ` lines ending in CRLF, no CR or LF
/// inside a line), and in command mode the framer never holds more than a line's worth of bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLMTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 64 * 1024) else { return 0 }
    var reader = FuzzByteReader(input)
    let options = SessionOptions(reader.byte())
    var splitter = SplitSequence(seed: reader.byte())
    let stream = reader.rest

    var whole = SimulatedSession(options: options)
    whole.receive(stream[...])
    whole.close()

    var split = SimulatedSession(options: options)
    var offset = 0
    while offset < stream.count {
        let length = min(splitter.next(), stream.count - offset)
        split.receive(stream[offset..<offset + length])
        offset += length
    }
    split.close()

    fuzzCheck(
        whole.transcript == split.transcript,
        "the session differs when its input is split into reads:\n\(whole.transcript)\nversus\n\(split.transcript)")
    return 0
}

/// What the simulated backend and the session limits do, from one byte of the input.
struct SessionOptions {
    var maximumLineLength: Int
    var maxRecipients: Int
    var maxMessageSize: Int?
    /// Refuse every recipient whose index is 1 modulo 3.
    var refuseSomeRecipients: Bool
    /// The sink cannot be created.
    var sinkCreationFails: Bool
    /// The first write to the sink fails. Never together with a size limit: which of the two
    /// comes first depends on how the input is split into reads, and both answers are right.
    var sinkWriteFails: Bool
    /// Delivery to the second recipient fails, the third is a duplicate of the first.
    var mixedOutcomes: Bool

    init(_ byte: UInt8) {
        maximumLineLength = [LMTPInputFramer.defaultMaximumLineLength, 16, 64, 512][Int(byte & 3)]
        maxRecipients = byte & 4 == 0 ? 1000 : 2
        maxMessageSize = byte & 8 == 0 ? nil : 64
        refuseSomeRecipients = byte & 16 != 0
        sinkCreationFails = byte & 0xE0 == 0x20
        sinkWriteFails = byte & 0xE0 == 0x40 && maxMessageSize == nil
        mixedOutcomes = byte & 0x80 != 0
    }
}

/// Read sizes from a small linear congruential sequence: from 1 up to 3, 16, 128 or 1024
/// bytes (the seed's low bits choose), so that both byte-by-byte splits and larger reads of
/// long inputs are tried.
struct SplitSequence {
    private var state: UInt32
    private let largest: UInt32

    init(seed: UInt8) {
        state = UInt32(seed) &+ 1
        largest = [3, 16, 128, 1024][Int(seed & 3)]
    }

    mutating func next() -> Int {
        state = state &* 1_103_515_245 &+ 12345
        return Int((state >> 16) % largest) + 1
    }
}

/// The framer, the parser and the state machine, driven as `LMTPSession` drives them.
struct SimulatedSession {
    /// What the client would see: replies, and what the backend was given to deliver.
    enum Event: Hashable, CustomStringConvertible {
        case reply(String)
        case delivered(message: [UInt8], recipients: [String])
        case closed

        var description: String {
            switch self {
            case .reply(let text): return "reply \(text.debugDescription)"
            case .delivered(let message, let recipients):
                return "delivered \(String(decoding: message, as: UTF8.self).debugDescription) to \(recipients)"
            case .closed: return "closed"
            }
        }
    }

    let options: SessionOptions
    var framer: LMTPInputFramer
    var machine: LMTPSessionStateMachine<Int>
    var transcript: [Event] = []
    /// The message bytes written to the sink, `nil` when there is no sink.
    var sink: [UInt8]?
    var sinkWrites = 0
    var closed = false

    init(options: SessionOptions) {
        self.options = options
        framer = LMTPInputFramer(maximumLineLength: options.maximumLineLength)
        machine = LMTPSessionStateMachine<Int>(
            sessionID: "fuzzsessionid000000000", hostname: "fuzz.example.org",
            maxRecipients: options.maxRecipients, maxMessageSize: options.maxMessageSize)
        record([machine.greeting()])
    }

    mutating func receive(_ bytes: ArraySlice<UInt8>) {
        guard !closed else { return }
        framer.append(ByteBuffer(bytes: bytes))
        while !closed, let event = framer.next() {
            handle(event)
        }
        if case .command = framer.currentMode {
            fuzzCheck(
                framer.bufferedByteCount <= options.maximumLineLength + 1 || closed,
                "the framer holds \(framer.bufferedByteCount) bytes of a partial command line "
                    + "(limit \(options.maximumLineLength))")
        }
    }

    mutating func close() {
        guard !closed else { return }
        perform(machine.inputClosed())
        transcript.append(.closed)
        closed = true
    }

    private mutating func handle(_ event: LMTPInputFramer.Event) {
        switch event {
        case .line(let line):
            let parsed = LMTPCommandParser.parse(line)
            if case .success(let command) = parsed {
                // The three entry points must agree on valid UTF-8.
                let bytes = Array(line.readableBytesView)
                fuzzCheck(LMTPCommandParser.parse(bytes) == parsed, "parse([UInt8]) differs from parse(ByteBuffer)")
                if let text = String(validating: bytes, as: UTF8.self) {
                    fuzzCheck(LMTPCommandParser.parse(text) == parsed, "parse(String) differs for \(command)")
                }
            }
            perform(machine.commandReceived(parsed))
        case .lineTooLong:
            perform(machine.lineTooLong())
        case .dataChunk(let bytes), .bdatChunk(let bytes):
            perform(machine.messageBytesReceived(bytes))
        case .endOfData:
            perform(machine.endOfDataReceived())
        case .endOfBDATChunk:
            perform(machine.endOfChunkReceived())
        }
    }

    private mutating func perform(_ action: LMTPSessionStateMachine<Int>.Action) {
        switch action {
        case .none:
            break
        case .send(let replies):
            record(replies)
        case .sendAndClose(let reply):
            record([reply])
            sink = nil
            transcript.append(.closed)
            closed = true
        case .verifyRecipient(let recipient, _):
            if options.refuseSomeRecipients && recipient.index % 3 == 1 {
                perform(machine.recipientVerified(.reject(LMTPReply(550, "5.1.1", "User doesn't exist"))))
            } else {
                perform(machine.recipientVerified(.accept(recipient.index)))
            }
        case .makeSink:
            fuzzCheck(sink == nil, "a second sink is made while one exists")
            if options.sinkCreationFails {
                perform(machine.sinkCreationFailed())
            } else {
                sink = []
                sinkWrites = 0
                perform(machine.sinkCreated())
            }
        case .proxied(_, let reply):
            record([reply])
        case .beginData(let reply):
            record([reply])
            framer.beginData()
        case .beginBDAT(let byteCount):
            framer.beginBDAT(byteCount: byteCount)
        case .write(let bytes):
            fuzzCheck(sink != nil, "message bytes are written without a sink")
            sinkWrites += 1
            if options.sinkWriteFails && sinkWrites == 1 {
                perform(machine.sinkWriteFailed())
            } else {
                sink?.append(contentsOf: bytes.readableBytesView)
            }
        case .discardSink:
            sink = nil
        case .discardSinkAndSend(let replies):
            sink = nil
            record(replies)
        case .deliver(let recipients, _):
            fuzzCheck(!recipients.isEmpty, "a message is delivered to no recipient")
            fuzzCheck(sink != nil, "a message is delivered without a sink")
            transcript.append(.delivered(message: sink ?? [], recipients: recipients.map(\.command.address)))
            sink = nil
            let outcomes: [LMTPDeliveryOutcome] = recipients.indices.map { position in
                guard options.mixedOutcomes else { return .saved }
                switch position % 3 {
                case 1: return .failed(LMTPReply(452, "4.2.2", "Mailbox is full"))
                case 2: return .duplicate(ofRecipientAt: 0)
                default: return .saved
                }
            }
            perform(machine.delivered(outcomes))
        }
    }

    private mutating func record(_ replies: [LMTPReply]) {
        for reply in replies {
            let wire = Array([reply].wireBuffer().readableBytesView)
            checkWireFormat(wire, of: reply)
            transcript.append(.reply(String(decoding: wire, as: UTF8.self)))
        }
    }

    private func checkWireFormat(_ wire: [UInt8], of reply: LMTPReply) {
        fuzzCheck((200...599).contains(reply.code), "reply code \(reply.code) is out of range")
        fuzzCheck(wire.count >= 6 && wire.suffix(2) == [13, 10], "reply \(reply) does not end with CRLF")
        var lines = wire.split(separator: 10, omittingEmptySubsequences: false)
        lines.removeLast()
        for (position, line) in lines.enumerated() {
            fuzzCheck(line.last == 13, "a reply line ends with a bare LF: \(reply)")
            let text = line.dropLast()
            fuzzCheck(!text.contains(13), "a reply line holds a CR: \(String(decoding: text, as: UTF8.self).debugDescription)")
            let separator: UInt8 = position == lines.count - 1 ? 0x20 : 0x2D
            fuzzCheck(
                text.count >= 3 && text.prefix(3).elementsEqual("\(reply.code)".utf8)
                    && (text.count == 3 || text.dropFirst(3).first == separator),
                "a reply line is not '\(reply.code)-' / '\(reply.code) ': \(String(decoding: text, as: UTF8.self).debugDescription)")
        }
    }
}

@main
enum FuzzLMTPMain {
    static func main() {
        runFuzzer(fuzzLMTP)
    }
}
