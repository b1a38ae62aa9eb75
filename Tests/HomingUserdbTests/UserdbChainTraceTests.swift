import HomingConfig
import HomingTestSupport
import Testing

@testable import HomingUserdb

@Suite("UserdbChain traced lookups (homing explain)")
struct UserdbChainTraceTests {
    @Test("each block is reported: failed, not found, skipped, found, with the rule that applied; the answer is unchanged")
    func traceOfEveryKind() async throws {
        try await withEnvironment { environment in
            let down = ScriptedDriver("a") { _ in .temporaryFailure(reason: "connection refused") }
            let missing = ScriptedDriver("b") { _ in .notFound }
            let skipped = ScriptedDriver("c") { _ in .notFound }
            let found = ScriptedDriver("d", answer: UserdbChainTests.found(["uid": "7"]))
            let chain = try UserdbChainTests.chain(
                environment, [down, missing, skipped, found],
                blocks: [userdb("a", line: 1), userdb("b", line: 2), userdb("c", skip: "notfound", line: 3), userdb("d", line: 4)])
            let steps = Locked<[UserdbTraceStep]>([])
            let traced = await chain.lookup(UserdbChainTests.alice) { step in steps.withValue { $0.append(step) } }
            #expect(traced == (await chain.lookup(UserdbChainTests.alice)))
            let recorded = steps.current
            #expect(recorded.map(\.index) == [1, 2, 3, 4])
            #expect(recorded.map(\.driver) == ["a", "b", "c", "d"])
            #expect(recorded.map(\.location?.line) == [1, 2, 3, 4])
            #expect(recorded[0].event == .failed(reason: "connection refused"))
            #expect(recorded[0].rule == .continue && recorded[0].chainGoesOn)
            #expect(recorded[1].event == .notFound)
            #expect(recorded[2].event == .skipped(skip: .notFound, userFoundSoFar: false))
            #expect(recorded[2].rule == nil)
            guard case .found(let user, let fields) = recorded[3].event else {
                Issue.record("the last block did not find the user: \(recorded[3])")
                return
            }
            #expect(user == "alice@example.com")
            #expect(fields == [UserdbField("uid", "7")])
            #expect(recorded[3].rule == .returnOK && !recorded[3].chainGoesOn)
        }
    }

    @Test("a chain that stops early reports the blocks it asked, and none after")
    func stopsEarly() async throws {
        try await withEnvironment { environment in
            let first = ScriptedDriver("a") { _ in .notFound }
            let second = ScriptedDriver("b", answer: UserdbChainTests.found(["uid": "7"]))
            let chain = try UserdbChainTests.chain(
                environment, [first, second], blocks: [userdb("a", failure: "return-fail"), userdb("b")])
            let steps = Locked<[UserdbTraceStep]>([])
            #expect(await chain.lookup(UserdbChainTests.alice) { step in steps.withValue { $0.append(step) } } == .notFound)
            #expect(steps.current.count == 1)
            #expect(steps.current.first?.rule == .returnFail)
            #expect(steps.current.first?.chainGoesOn == false)
        }
    }
}
