import Testing

@testable import HomingServer

@Suite("Which connections the server takes")
struct ConnectionLimitStateTests {
    @Test("up to the limit sessions are admitted; the next is refused until one ends")
    func sessionLimit() {
        var state = ConnectionLimitState(limit: 2)
        do {
            let decision = state.connectionAccepted { true }
            #expect(decision == .admit)
        }
        do {
            let decision = state.connectionAccepted { true }
            #expect(decision == .admit)
        }
        do {
            let decision = state.connectionAccepted { true }
            #expect(decision == .refuse(.sessionLimit))
        }
        state.sessionEnded()
        do {
            let decision = state.connectionAccepted { true }
            #expect(decision == .admit)
        }
        #expect(state.active == 2)
    }

    @Test("after accept runs out of descriptors, connections are refused until the spare descriptor is back")
    func descriptorLimit() {
        var state = ConnectionLimitState(limit: 10)
        do {
            let news = state.acceptFailedForDescriptors()
            #expect(news)
        }
        do {
            let news = state.acceptFailedForDescriptors()
            #expect(!news)
        }
        do {
            let decision = state.connectionAccepted { false }
            #expect(decision == .refuse(.descriptorLimit))
        }
        #expect(state.active == 0)
        do {
            let decision = state.connectionAccepted { true }
            #expect(decision == .admit)
        }
        #expect(!state.descriptorsExhausted)
        do {
            let news = state.acceptFailedForDescriptors()
            #expect(news)
        }
        state.spareRecovered()
        do {
            let decision = state.connectionAccepted { Issue.record("not asked once recovered"); return false }
            #expect(decision == .admit)
        }
    }
}
