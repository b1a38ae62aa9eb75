import HomingConfig
import Testing

@testable import HomingUserdb

@Suite("Userdb chain rules and progress")
struct UserdbChainProgressTests {
    @Test("the defaults are skip=never, return-ok, continue, continue")
    func defaults() throws {
        let rules = try UserdbBlockRules(UserdbSettings(driver: "static"))
        #expect(rules.skip == .never)
        #expect(rules.resultSuccess == .returnOK)
        #expect(rules.resultFailure == .continue)
        #expect(rules.resultInternalfail == .continue)
    }

    @Test("rule values are read case-insensitively and with surrounding spaces")
    func parsing() throws {
        var settings = UserdbSettings(driver: "static")
        settings.skip = "NotFound"
        settings.resultSuccess = " continue-ok "
        settings.resultFailure = "return-fail"
        settings.resultInternalfail = "return"
        let rules = try UserdbBlockRules(settings)
        #expect(rules.skip == .notFound)
        #expect(rules.resultSuccess == .continueOK)
        #expect(rules.resultFailure == .returnFail)
        #expect(rules.resultInternalfail == .return)
    }

    @Test("an invalid rule value names the setting, the value and the accepted values")
    func invalidRule() {
        var settings = UserdbSettings(
            driver: "static", location: ConfigLocation(file: "/etc/d.conf", line: 3))
        settings.resultSuccess = "stop"
        let error = #expect(throws: ConfigError.self) { try UserdbBlockRules(settings) }
        #expect(
            error?.description
                == "/etc/d.conf:3: invalid userdb result_success 'stop' (expected one of: return-ok, return, return-fail, continue, continue-ok, continue-fail)"
        )
        var skip = UserdbSettings(driver: "static")
        skip.skip = "always"
        let skipError = #expect(throws: ConfigError.self) { try UserdbBlockRules(skip) }
        #expect(
            skipError?.message == "invalid userdb skip 'always' (expected one of: never, found, notfound)"
        )
    }

    @Test("skip=found passes over a userdb only once the user exists, skip=notfound only before")
    func skipping() {
        var progress = UserdbChainProgress()
        #expect(!progress.skips(.never))
        #expect(!progress.skips(.found))
        #expect(progress.skips(.notFound))
        _ = progress.record(.found, rule: .continueOK)
        #expect(progress.skips(.found))
        #expect(!progress.skips(.notFound))
    }

    @Test("return keeps the earlier state: not found when nothing was found before")
    func returnKeepsState() {
        var first = UserdbChainProgress()
        let firstGoesOn = first.record(.found, rule: .return)
        #expect(firstGoesOn == false)
        #expect(first.verdict(lastOutcome: .found) == .notFound)

        var second = UserdbChainProgress()
        let secondGoesOn = second.record(.found, rule: .continueOK)
        #expect(secondGoesOn == true)
        second.movingOn(after: .found)
        let secondGoesOnAgain = second.record(.notFound, rule: .return)
        #expect(secondGoesOnAgain == false)
        #expect(second.verdict(lastOutcome: .notFound) == .found)
    }

    @Test("an internal failure passed over turns a final not-found into a temporary failure")
    func internalFailureRemembered() {
        var progress = UserdbChainProgress()
        let goesOn = progress.record(.internalFailure, rule: .continue)
        #expect(goesOn)
        progress.movingOn(after: .internalFailure)
        _ = progress.record(.notFound, rule: .continue)
        #expect(progress.verdict(lastOutcome: .notFound) == .internalFailure)
    }

    @Test("a success after an internal failure wins")
    func successWinsOverFailure() {
        var progress = UserdbChainProgress()
        _ = progress.record(.internalFailure, rule: .continue)
        progress.movingOn(after: .internalFailure)
        _ = progress.record(.found, rule: .returnOK)
        #expect(progress.verdict(lastOutcome: .found) == .found)
    }

    @Test("when every userdb is skipped the user is not found")
    func allSkipped() {
        #expect(UserdbChainProgress().verdict(lastOutcome: nil) == .notFound)
    }
}
