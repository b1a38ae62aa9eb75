import Testing

@testable import HomingServer

@Suite("Which connections the server takes")
struct ConnectionLimitStateTests {
    /// One accepted connection; `spare` says whether the spare descriptor can be opened again.
    func accept(_ state: inout ConnectionLimitState, spare: Bool = true) -> ConnectionLimitState.Decision {
        state.connectionAccepted { spare }
    }

    @Test("up to the limit sessions are admitted; the next is refused until one ends")
    func sessionLimit() {
        var state = ConnectionLimitState(limit: 2)
        let decisions = [accept(&state), accept(&state), accept(&state)]
        #expect(decisions == [.admit, .admit, .refuse(.sessionLimit)])
        state.sessionEnded()
        let again = accept(&state)
        #expect(again == .admit)
        #expect(state.active == 2)
    }

    @Test("after accept runs out of descriptors, connections are refused until the spare descriptor is back")
    func descriptorLimit() {
        var state = ConnectionLimitState(limit: 10)
        let news = [state.acceptFailedForDescriptors(), state.acceptFailedForDescriptors()]
        #expect(news == [true, false])
        let whileExhausted = accept(&state, spare: false)
        #expect(whileExhausted == .refuse(.descriptorLimit))
        #expect(state.active == 0)
        let spareBack = accept(&state, spare: true)
        #expect(spareBack == .admit)
        #expect(!state.descriptorsExhausted)

        let exhaustedAgain = state.acceptFailedForDescriptors()
        #expect(exhaustedAgain)
        state.spareRecovered()
        let recovered = state.connectionAccepted { Issue.record("the spare is not asked for once recovered"); return false }
        #expect(recovered == .admit)
    }
}
