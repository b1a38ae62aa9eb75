import Testing

@testable import HomingSieve

private func describeError(_ source: String) -> String? {
    do {
        _ = try SieveCompiledScript.compile(source)
        return nil
    } catch {
        return error.description
    }
}

@Suite("Sieve validator: extension commands and tests")
struct SieveValidatorExtensionTests {
    /// Scripts using every extension correctly.
    static let validScripts: [String] = [
        "require [\"fileinto\", \"copy\", \"mailbox\", \"imap4flags\"];\nfileinto :copy :create :flags [\"\\\\Seen\"] \"a\";",
        "require \"copy\";\nredirect :copy \"joe@example.com\";",
        "require \"imap4flags\";\nkeep :flags \"\\\\Flagged\";",
        "require \"reject\";\nreject \"no\";",
        "require \"ereject\";\nereject \"no\";",
        "require \"variables\";\nset :lower :upperfirst \"name\" \"Value\";",
        "require [\"variables\", \"regex\"];\nset :quoteregex :length \"x_1\" \"${a}\";",
        "require \"variables\";\nif string :matches \"${a}\" \"*x\" { keep; }",
        "require [\"imap4flags\", \"variables\"];\nsetflag \"flags\" \"\\\\Seen\";\naddflag [\"a\", \"b\"];\nremoveflag \"flags\" \"a\";\nif hasflag :contains \"flags\" \"a\" { keep; }",
        "require \"imap4flags\";\nif hasflag [\"\\\\Seen\"] { keep; }",
        "require \"body\";\nif body :content [\"text\"] :contains \"x\" { keep; }",
        "require \"body\";\nif body :raw :comparator \"i;octet\" :is \"x\" { keep; }",
        "require \"vacation\";\nvacation :days 7 :subject \"Away\" :from \"me@example.com\" :addresses [\"a@b.c\"] :mime :handle \"h\" \"reason\";",
        "require \"vacation-seconds\";\nvacation :seconds 60 \"reason\";",
        "require [\"date\", \"index\"];\nif date :zone \"+0100\" :index 1 :last \"date\" \"year\" \"2024\" { keep; }",
        "require \"date\";\nif date :originalzone \"date\" \"weekday\" \"0\" { keep; }",
        "require \"date\";\nif currentdate :zone \"-0830\" \"hour\" \"12\" { keep; }",
        "require \"mailbox\";\nif mailboxexists [\"INBOX\", \"Lists\"] { keep; }",
        "require \"include\";\ninclude :global :once :optional \"common\";\nreturn;",
        "require [\"include\", \"variables\"];\nglobal [\"a\", \"b_2\"];",
        "require \"environment\";\nif environment :contains \"domain\" \"example\" { keep; }",
        "require \"duplicate\";\nif duplicate :handle \"h\" :header \"message-id\" :seconds 60 :last { keep; }",
        "require \"duplicate\";\nif duplicate :uniqueid \"x\" { discard; }",
        "require \"regex\";\nif header :regex \"subject\" \"^a.*b$\" { keep; }",
        "require [\"relational\", \"comparator-i;ascii-numeric\"];\nif header :count \"ge\" :comparator \"i;ascii-numeric\" \"to\" \"2\" { keep; }",
        "require \"subaddress\";\nif address :detail \"to\" \"x\" { keep; }",
        "require \"envelope\";\nif envelope :domain \"from\" \"example.com\" { keep; }",
    ]

    @Test("correct scripts of every extension compile", arguments: validScripts)
    func validScript(_ source: String) {
        #expect(describeError(source) == nil)
    }

    /// Incorrect scripts with the exact first error.
    static let errorCases: [(String, String)] = [
        // fileinto / redirect / keep
        ("require \"fileinto\";\nfileinto :create \"a\";",
         "line 2: error: unknown tagged argument ':create' for the fileinto command (only available after require :mailbox)."),
        ("require [\"fileinto\", \"copy\"];\nfileinto :copy :copy \"a\";",
         "line 2: error: encountered duplicate :copy argument for the fileinto command."),
        ("require [\"fileinto\", \"imap4flags\"];\nfileinto :flags \"a\";",
         "line 2: error: the fileinto command requires 1 positional argument(s), but 0 is/are specified."),
        ("require \"imap4flags\";\nkeep :flags;",
         "line 2: error: the :flags tag for the keep command requires a string list as parameter, but no parameters were found."),
        ("redirect \"no-at-sign\";",
         "line 1: error: specified redirect address 'no-at-sign' is invalid: missing '@' and domain."),
        ("redirect \"@example.com\";",
         "line 1: error: specified redirect address '@example.com' is invalid: the local part is empty."),
        ("require \"fileinto\";\nfileinto \"Lists\"\nkeep;",
         "line 2: error: missing semicolon ';' after fileinto command."),
        ("require \"fileinto\";\nfileinto copy \"Lists\";",
         "line 2: error: the fileinto command requires 1 positional argument(s), but 0 is/are specified."),
        // set
        ("require \"variables\";\nset \"1a\" \"x\";",
         "line 2: error: invalid variable name '1a' for the set command."),
        ("require \"variables\";\nset :lower :upper \"a\" \"x\";",
         "line 2: error: modifiers :lower and :upper specified for the set command conflict having equal precedence."),
        ("require \"variables\";\nset :quoteregex \"a\" \"x\";",
         "line 2: error: unknown tagged argument ':quoteregex' for the set command (only available after require :regex)."),
        ("require \"variables\";\nset \"a\";",
         "line 2: error: the set command requires 2 positional argument(s), but 1 is/are specified."),
        ("require \"variables\";\nset :length :length \"a\" \"b\";",
         "line 2: error: encountered duplicate :length argument for the set command."),
        // imap4flags
        ("require \"imap4flags\";\nsetflag \"v\" \"\\\\Seen\";",
         "line 2: error: the variable name argument of the setflag command is only available after require :variables."),
        ("require [\"imap4flags\", \"variables\"];\naddflag \"a-b\" \"x\";",
         "line 2: error: invalid variable name 'a-b' for the addflag command."),
        ("require \"imap4flags\";\nremoveflag;",
         "line 2: error: the removeflag command requires 1 or 2 positional argument(s), but 0 is/are specified."),
        ("require \"imap4flags\";\nif hasflag 1 { keep; }",
         "line 2: error: the hasflag test expects a string list as argument 1 (list of flags), but a number was found."),
        // body
        ("require \"body\";\nif body :raw :text \"x\" { keep; }",
         "line 2: error: encountered duplicate body transform argument (:text) for the body test."),
        ("require \"body\";\nif body :content \"x\" { keep; }",
         "line 2: error: the body test requires 1 positional argument(s), but 0 is/are specified."),
        // vacation
        ("require \"vacation\";\nvacation :seconds 5 \"r\";",
         "line 2: error: unknown tagged argument ':seconds' for the vacation command (only available after require :vacation-seconds)."),
        ("require \"vacation-seconds\";\nvacation :days 1 :seconds 5 \"r\";",
         "line 2: error: encountered duplicate period argument (:seconds) for the vacation command."),
        ("require \"vacation\";\nvacation :days \"7\" \"r\";",
         "line 2: error: the :days tag for the vacation command requires a number as parameter, but a string was found."),
        ("require \"vacation\";\nvacation :from \"nobody\" \"r\";",
         "line 2: error: specified :from address 'nobody' is invalid for vacation action: missing '@' and domain."),
        ("require \"vacation\";\nvacation;",
         "line 2: error: the vacation command requires 1 positional argument(s), but 0 is/are specified."),
        ("require \"vacation\";\nvacation days 7 \"r\";",
         "line 2: error: the vacation command requires 1 positional argument(s), but 0 is/are specified."),
        // date / currentdate / index
        ("require \"date\";\nif date :zone \"+0100\" :originalzone \"date\" \"year\" \"1\" { keep; }",
         "line 2: error: encountered duplicate zone argument (:originalzone) for the date test."),
        ("require \"date\";\nif currentdate :zone \"CET\" \"hour\" \"1\" { keep; }",
         "line 2: error: specified :zone argument 'CET' is not a valid timezone (expected +hhmm or -hhmm)."),
        ("require \"date\";\nif date :index 1 \"date\" \"year\" \"1\" { keep; }",
         "line 2: error: unknown tagged argument ':index' for the date test (only available after require :index)."),
        ("require \"index\";\nif header :last \"to\" \"x\" { keep; }",
         "line 2: error: the :last tag for the header test requires the :index tag as well."),
        ("require \"index\";\nif header :index 0 \"to\" \"x\" { keep; }",
         "line 2: error: the :index tag for the header test requires a field index greater than zero (fields are counted from 1)."),
        ("require \"date\";\nif date \"bad name\" \"year\" \"1\" { keep; }",
         "line 2: error: the date test: specified header field name 'bad name' is invalid."),
        // mailbox / include / global / environment / duplicate
        ("require \"mailbox\";\nif mailboxexists { keep; }",
         "line 2: error: the mailboxexists test requires 1 positional argument(s), but 0 is/are specified."),
        ("require \"include\";\ninclude \"../x/y\";",
         "line 2: error: include: invalid script name '../x/y': the name contains '/'."),
        ("require \"include\";\ninclude :personal :global \"x\";",
         "line 2: error: encountered duplicate location argument (:global) for the include command."),
        ("return;",
         "line 1: error: unknown command 'return' (only available after require :include)."),
        ("require \"include\";\nreturn \"x\";",
         "line 2: error: the return command requires 0 positional argument(s), but 1 is/are specified."),
        ("require [\"include\", \"variables\"];\nglobal \"a.b\";",
         "line 2: error: invalid variable name 'a.b' for the global command."),
        ("require \"environment\";\nif environment \"name\" { keep; }",
         "line 2: error: the environment test requires 2 positional argument(s), but 1 is/are specified."),
        ("require \"duplicate\";\nif duplicate :header \"a\" :uniqueid \"b\" { keep; }",
         "line 2: error: encountered duplicate unique id argument (:uniqueid) for the duplicate test."),
        ("require \"duplicate\";\nif duplicate :days 1 { keep; }",
         "line 2: error: unknown tagged argument ':days' for the duplicate test (reported only once at first occurrence)."),
        // comparators, relational, match types
        ("if header :comparator \"i;ascii-numeric\" \"a\" \"1\" { keep; }",
         "line 1: error: unknown comparator 'i;ascii-numeric' (only available after require :comparator-i;ascii-numeric)."),
        ("require \"comparator-i;ascii-numeric\";\nif header :comparator \"i;ascii-numeric\" :contains \"a\" \"1\" { keep; }",
         "line 2: error: the specified i;ascii-numeric comparator does not support sub-string matching as required by the :contains match type."),
        ("require \"relational\";\nif header :count \"gte\" \"to\" \"1\" { keep; }",
         "line 2: error: invalid relational operator 'gte' for the :count match type of the header test (expected gt, ge, lt, le, eq or ne)."),
        ("require \"relational\";\nif header :count \"ge\" :matches \"to\" \"1\" { keep; }",
         "line 2: error: encountered duplicate match type argument (:matches) for the header test."),
        // control
        ("if true { keep; }\nstop;\nelsif true { keep; }",
         "line 3: error: the elsif command must follow an if or elsif command."),
        ("keep\ndiscard;",
         "line 1: error: missing semicolon ';' after keep command."),
        ("if header :is \"a\" \"b\" { keep; }\nkeep true;",
         "line 2: error: the keep command accepts no sub-tests, but tests are specified."),
    ]

    @Test("incorrect scripts give Pigeonhole's message on the right line", arguments: errorCases)
    func errorCase(_ source: String, _ expected: String) {
        #expect(describeError(source) == expected)
    }

    @Test("vacation-seconds implies vacation")
    func vacationSecondsImpliesVacation() throws {
        let compiled = try SieveCompiledScript.compile("require \"vacation-seconds\";\nvacation \"r\";")
        #expect(compiled.extensions == [.vacation, .vacationSeconds])
    }

    @Test("values containing variables are not checked at compile time")
    func variablesSkipConstantChecks() {
        #expect(describeError("require [\"date\", \"variables\"];\nif date \"date\" \"${part}\" \"1\" { keep; }") == nil)
        #expect(describeError("require \"variables\";\nredirect \"${to}\";") == nil)
        // Without variables, "${part}" is a plain (invalid) date part.
        #expect(describeError("require \"date\";\nif date \"date\" \"${part}\" \"1\" { keep; }") == nil)
    }
}
