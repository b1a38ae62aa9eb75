import Foundation
import Testing

@testable import HomingSieve

/// RFC 5435 (enotify) with the mailto method of RFC 5436: the RFCs' examples, the notification
/// message as Pigeonhole 0.5.19 composes it (captured with `sieve-test -e`), Pigeonhole's
/// compile errors, and hostile URIs. Where a test pins Pigeonhole's behaviour it says so; the
/// rest follows the RFC text cited.
@Suite("Conformance: RFC 5435 enotify and RFC 5436 mailto")
struct ConformanceRFC5435NotifyTests {
    /// The notifications of `script` run on `message`.
    private func notifications(
        _ script: String, message: String = conformanceMessage, envelope: SieveEnvelope = conformanceEnvelope,
        settings: SieveRuntimeSettings = SieveRuntimeSettings(hostname: "mx.example.com")
    ) throws -> [SieveNotification] {
        try runSieve(script, message: message, envelope: envelope, settings: settings).notifications
    }

    /// Whether `test` holds on the conformance message.
    private func holds(_ require: String, _ test: String) throws -> Bool {
        try !runSieve("require \(require);\nif \(test) { discard; }").implicitKeep
    }

    /// The text of a notification's message (CRLF turned into LF).
    private func text(_ notification: SieveNotification?) -> String? {
        guard case .send(let mail)? = notification?.delivery else { return nil }
        return String(decoding: mail.content, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// The header field `name` of a composed notification.
    private func field(_ name: String, in notification: SieveNotification?) -> String? {
        guard let text = text(notification) else { return nil }
        for line in text.split(separator: "\n") where line.lowercased().hasPrefix(name.lowercased() + ": ") {
            return String(line.dropFirst(name.count + 2))
        }
        return nil
    }

    // MARK: - RFC 5435 section 3.7 examples

    @Test("RFC 5435 example 1: an important message from the boss notifies with importance 1 and stops")
    func example1() throws {
        let script = """
            require ["enotify", "fileinto", "variables"];
            if header :contains "from" "boss@example.org" {
                notify :importance "1"
                    :message "This is probably very important"
                                "mailto:alm@example.com";
                # Don't send any further notifications
                stop;
            }
            if header :contains "to" "sievemailinglist@example.org" {
                # :matches is used to get the value of the Subject header
                if header :matches "Subject" "*" {
                    set "subject" "${1}";
                }
                # :matches is used to get the value of the From header
                if header :matches "From" "*" {
                    set "from" "${1}";
                }
                notify :importance "3"
                    :message "[SIEVE] ${from}: ${subject}"
                    "mailto:alm@example.com";
                fileinto "INBOX.sieve";
            }
            """
        let boss = try runSieve(script, message: "From: boss@example.org\nTo: me@example.com\nSubject: Raise\n\nx")
        #expect(boss.notifications.map(\.importance) == [1])
        #expect(boss.notifications.first?.message == "This is probably very important")
        #expect(field("Subject", in: boss.notifications.first) == "This is probably very important")
        #expect(field("X-Priority", in: boss.notifications.first) == "1 (Highest)")
        // RFC 5435 section 7: notify does not cancel the implicit keep.
        #expect(boss.implicitKeep)
        let list = try runSieve(
            script, message: "From: Ann <ann@example.net>\nTo: sievemailinglist@example.org\nSubject: Drafts\n\nx")
        #expect(list.notifications.first?.message == "[SIEVE] Ann <ann@example.net>: Drafts")
        #expect(field("Importance", in: list.notifications.first) == "Low")
        #expect(list.actions == [.fileInto(mailbox: "INBOX.sieve", flags: [], create: false, copy: false)])
    }

    @Test("RFC 5435 example 2: the message built from the envelope, the subject and the From address")
    func example2() throws {
        let script = """
            require ["enotify", "fileinto", "variables", "envelope"];
            if header :matches "from" "*@*.example.org" {
                # :matches is used to get the MAIL FROM address
                if envelope :all :matches "from" "*" {
                    set "env_from" " [really: ${1}]";
                }
                # :matches is used to get the value of the Subject header
                if header :matches "Subject" "*" {
                    set "subject" "${1}";
                }
                # :matches is used to get the address from the From header
                if address :matches :all "from" "*" {
                    set "from_addr" "${1}";
                }
                notify :message "${from_addr}${env_from}: ${subject}"
                                "mailto:alm@example.com";
            }
            """
        let result = try notifications(
            script, message: "From: joe@mail.example.org\nSubject: Lunch\n\nx",
            envelope: SieveEnvelope(from: "bounce@lists.example.org", to: "alm@example.com"))
        #expect(result.first?.message == "joe@mail.example.org [really: bounce@lists.example.org]: Lunch")
    }

    @Test("RFC 5435 example 3: xmpp and tel are not supported; with variables that is an error at run time")
    func example3() throws {
        let script = """
            require ["enotify", "variables"];
            set "notif_method"
            "xmpp:tim@example.com?message;subject=SIEVE;body=You%20got%20mail";
            if header :contains "subject" "Your dog" {
                set "notif_method" "tel:+14085551212";
            }
            if header :contains "to" "sievemailinglist@example.org" {
                set "notif_method" "";
            }
            if not string :is "${notif_method}" "" {
                notify "${notif_method}";
            }
            """
        // RFC 5435 section 3.2: an unsupported URI schema MUST cause an error at run time.
        let error = try runtimeError(script)
        #expect(error?.message == "invalid notify method 'xmpp'")
        #expect(error?.location.line == 11)
        // Sent to the list: no method, no notification.
        #expect(try notifications(script, message: "To: sievemailinglist@example.org\n\nx").isEmpty)
    }

    @Test("RFC 5435 example 4: valid_notify_method is false when any method is unsupported or invalid")
    func example4() throws {
        let script = """
            require ["enotify", "fileinto"];
            if not valid_notify_method ["mailto:",
                    "http://gw.example.net/notify?test"] {
                stop;
            }
            fileinto "reached";
            """
        #expect(try runSieve(script) == implicitKeepOnly)
        #expect(try holds("\"enotify\"", "valid_notify_method [\"mailto:\", \"mailto:a@example.org?subject=x\"]"))
        // Pigeonhole 0.5.19: a recipient that is no address makes the URI invalid.
        #expect(try !holds("\"enotify\"", "valid_notify_method [\"mailto:a@example.org\", \"mailto:x\"]"))
        #expect(try !holds("\"enotify\"", "valid_notify_method \"mailto:a@%zz\""))
    }

    @Test("RFC 5435 example 5: notify_method_capability on an unsupported method is false, not an error")
    func example5() throws {
        let script = """
            require ["enotify"];
            if notify_method_capability
                   "xmpp:tim@example.com?message;subject=SIEVE"
                   "Online"
                   "yes" {
                notify :importance "1" :message "You got mail"
                     "xmpp:tim@example.com?message;subject=SIEVE";
            } else {
                notify :message "You got mail" "tel:+14085551212";
            }
            """
        // RFC 5435 section 5: the test fails, "this MUST NOT cause an error" (Pigeonhole
        // raises one); then the tel: notify is an error at run time (section 3.2). Pigeonhole
        // refuses the constant xmpp/tel methods at compile time; Homing compiles the script
        // with warnings.
        let compiled = try SieveCompiledScript.compile(script)
        #expect(compiled.warnings.count == 2)
        #expect(
            compiled.warnings.first?.description
                == "line 7: warning: notify command: notification method 'xmpp' is not supported; the notify action fails if it runs."
        )
        let error = try runtimeError(script)
        #expect(error?.message == "invalid notify method 'tel'")
        #expect(error?.location.line == 9)
    }

    @Test("RFC 5436 section 2.2: the online capability of mailto is maybe; other capabilities are unknown")
    func onlineCapability() throws {
        #expect(try holds("\"enotify\"", "notify_method_capability \"mailto:a@example.org\" \"Online\" \"maybe\""))
        #expect(try !holds("\"enotify\"", "notify_method_capability \"mailto:a@example.org\" \"online\" \"yes\""))
        #expect(try !holds("\"enotify\"", "notify_method_capability \"mailto:a@example.org\" \"busy\" \"maybe\""))
        #expect(try !holds("\"enotify\"", "notify_method_capability \"mailto:a b\" \"online\" \"maybe\""))
        #expect(
            try holds(
                "[\"enotify\", \"relational\"]",
                "notify_method_capability :count \"eq\" \"mailto:a@example.org\" \"online\" \"1\""))
    }

    @Test("RFC 5435 example 6: :encodeurl makes a safe URI body; it needs enotify")
    func example6() throws {
        let script = """
            require ["enotify", "variables"];
            set :encodeurl "body_param" "Safe body&evil=evilbody";
            notify "mailto:tim@example.com?body=${body_param}";
            """
        let result = try notifications(script)
        #expect(result.first?.body == "Safe body&evil=evilbody")
        #expect(result.first?.headers.isEmpty == true)
        // Pigeonhole 0.5.19: without enotify the modifier does not exist.
        #expect(
            compileErrorText("require \"variables\";\nset :encodeurl \"e\" \"x y\";")
                == "line 2: error: unknown tagged argument ':encodeurl' for the set command (only available after require :enotify)."
        )
    }

    // MARK: - RFC 5436 section 3 example and message composition

    @Test("RFC 5436 section 3: the knitting list notification")
    func rfc5436Example() throws {
        let message = """
            Return-Path: <knitting-bounces@example.com>
            Received: from mail.example.com by mail.example.org
              for <recipient@example.org>; Wed, 7 Dec 2005 05:08:02 -0500
            Received: from hobbies.example.com by mail.example.com
              for <knitting@example.com>; Wed, 7 Dec 2005 02:00:26 -0800
            Message-ID: <1234567.89ABCDEF@example.com>
            Date: Wed, 07 Dec 2005 10:59:19 +0100
            Precedence: list
            List-Id: Knitting Mailing List <knitting.example.com>
            Sender: knitting-bounces@example.com
            Errors-To: knitting-bounces@example.com
            From: "Jeff Smith" <jeff@hobbies.example.com>
            To: "Knitting Mailing List" <knitting@example.com>
            Subject: [Knitting] A new sweater

            I just finished a great new sweater!
            """
        let script = """
            require ["enotify", "variables"];
            if header :contains "list-id" "knitting.example.com" {
              if header :matches "Subject" "[*] *" {
                notify :message "From ${1} list: ${2}"
                    :importance "3"
                    "mailto:0123456789@sms.example.net?to=backup@example.com";
              }
            }
            """
        let envelope = SieveEnvelope(from: "knitting-bounces@example.com", to: "recipient@example.org")
        let result = try notifications(script, message: message, envelope: envelope)
        let notification = try #require(result.first)
        #expect(field("Subject", in: notification) == "From Knitting list: A new sweater")
        #expect(field("To", in: notification) == "0123456789@sms.example.net, backup@example.com")
        #expect(field("Auto-Submitted", in: notification) == "auto-notified; owner-email=\"recipient@example.org\"")
        guard case .send(let mail) = notification.delivery else {
            Issue.record("not sent")
            return
        }
        #expect(mail.recipients == ["0123456789@sms.example.net", "backup@example.com"])
    }

    @Test("the message as Pigeonhole composes it: header fields, URI headers, the URI body")
    func composedMessage() throws {
        let script = """
            require ["enotify", "variables"];
            if header :matches "Subject" "*" {
            notify :message "New: ${1}" :importance "1" "mailto:alice@example.org?cc=bob@example.org&X-Foo=bar&subject=uri-subj&body=Hello%20there";
            }
            notify "mailto:carol@example.org";
            """
        let message = "From: a@example.com\nTo: b@example.com\nSubject: hi\nMessage-ID: <1@x>\n\nbody\n"
        let result = try notifications(
            script, message: message, envelope: SieveEnvelope(from: "a@example.com", to: "b@example.com"))
        #expect(result.count == 2)
        // Pigeonhole 0.5.19 (sieve-test -e), the first notification, Message-ID and Date aside:
        let first = try #require(text(result.first))
        let lines = first.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "X-Sieve: Homing Sieve")
        #expect(lines[1].hasPrefix("Message-ID: <homing-sieve."))
        #expect(
            Array(lines[3...]) == [
                "Subject: New: hi",
                "From: Postmaster <postmaster@mx.example.com>",
                "To: alice@example.org",
                "Cc: bob@example.org",
                "Auto-Submitted: auto-notified; owner-email=\"b@example.com\"",
                "Precedence: bulk",
                "X-Priority: 1 (Highest)",
                "Importance: High",
                "X-Foo: bar",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=us-ascii",
                "Content-Transfer-Encoding: 7bit",
                "",
                "Hello there",
                "",
            ])
        #expect(field("Subject", in: result.last) == "Notification: hi")
        #expect(text(result.last)?.hasSuffix("Content-Type: text/plain; charset=US-ASCII\nContent-Transfer-Encoding: 7bit\n\nNotification of new message.\n") == true)
        guard case .send(let mail)? = result.first?.delivery else { return }
        #expect(mail.sender == "postmaster@mx.example.com")
        #expect(mail.recipients == ["alice@example.org", "bob@example.org"])
    }

    @Test(":from, sieve_user_email and a null sender decide From, owner-email and the envelope sender")
    func senders() throws {
        let script = "require \"enotify\";\nnotify :from \"Me <me@example.com>\" \"mailto:a@example.org\";"
        let given = try notifications(script)
        #expect(field("From", in: given.first) == "Me <me@example.com>")
        if case .send(let mail)? = given.first?.delivery { #expect(mail.sender == "me@example.com") }
        let configured = try notifications(
            "require \"enotify\";\nnotify \"mailto:a@example.org\";",
            settings: SieveRuntimeSettings(hostname: "mx", userEmail: "bob@example.com"))
        #expect(field("From", in: configured.first) == "<bob@example.com>")
        #expect(field("Auto-Submitted", in: configured.first) == "auto-notified; owner-email=\"bob@example.com\"")
        // RFC 5436 section 2.7: the null sender triggers notifications, sent from <> too.
        let bounce = try notifications(
            script, envelope: SieveEnvelope(from: "", to: "bob@example.com"))
        guard case .send(let mail)? = bounce.first?.delivery else {
            Issue.record("a message from the null sender must trigger a notification")
            return
        }
        #expect(mail.sender == "")
    }

    @Test("RFC 5436 section 2.7: no notification for an auto-submitted message; an empty URI sends nothing")
    func loopAvoidance() throws {
        let script = "require \"enotify\";\nnotify \"mailto:a@example.org\";"
        let automatic = try notifications(script, message: "From: x@example.org\nAuto-Submitted: auto-replied\n\nx")
        #expect(automatic.first?.delivery == .skip(.autoSubmitted(sender: "alice@example.org")))
        #expect(
            SieveNotificationSkipReason.autoSubmitted(sender: "alice@example.org").description
                == "not sending notification for auto-submitted message from <alice@example.org>")
        #expect(try notifications(script, message: "Auto-Submitted: no\n\nx").first.map { text($0) != nil } == true)
        let empty = try notifications("require \"enotify\";\nnotify \"mailto:\";")
        #expect(empty.first?.delivery == .skip(.noRecipients))
    }

    @Test("RFC 5436 section 2.7: recipients already notified are left out; a full duplicate is dropped")
    func duplicates() throws {
        // Pigeonhole 0.5.19: the second notify keeps dave only, the third is dropped.
        let script = """
            require "enotify";
            notify "mailto:alice@example.org";
            notify "mailto:alice@example.org%2Cdave@example.org";
            notify "mailto:alice@example.org";
            notify "mailto:Alice@example.org";
            """
        let result = try notifications(script)
        #expect(result.map { $0.recipients.map(\.address) } == [["alice@example.org"], ["dave@example.org"], ["Alice@example.org"]])
    }

    @Test("mailto URIs: reserved and repeated header fields are ignored with warnings (Pigeonhole's texts)")
    func uriWarnings() throws {
        let compiled = try SieveCompiledScript.compile(
            "require \"enotify\";\nnotify \"mailto:a@example.org?from=x@y.z&received=x&subject=a&subject=b&reply-to=r@s.t&reply-to=q@s.t&to=a@example.org\";"
        )
        #expect(
            compiled.warnings.map(\.message) == [
                "notify command: mailto URI: ignored reserved header field 'from'",
                "notify command: mailto URI: ignored reserved header field 'received'",
                "notify command: mailto URI: ignored duplicate subject field",
                "notify command: mailto URI: ignored duplicate for unique header field 'reply-to'",
                "notify command: mailto URI: ignored duplicate recipient 'a@example.org'",
            ])
        let uri = try SieveMailtoURI.parse("a@example.org?from=x@y.z&subject=a&subject=b&reply-to=r@s.t").uri
        #expect(uri.subject == "a")
        #expect(uri.headers == [SieveHeaderField(name: "reply-to", rawValue: "r@s.t")])
        #expect(uri.recipients.map(\.address) == ["a@example.org"])
    }

    // MARK: - Compile errors (Pigeonhole 0.5.19's texts)

    @Test("notify compile errors: importance, method scheme, URI syntax, :from, options, duplicate tags")
    func compileErrors() {
        let cases: [(String, String)] = [
            ("notify :importance \"4\" \"mailto:a@b.c\";", "line 2: error: invalid :importance value for notify command: 4."),
            (
                "notify :importance 1 \"mailto:a@b.c\";",
                "line 2: error: the :importance tag for the notify command requires a string as parameter, but a number was found."
            ),
            (
                "notify \"5mailto:a@b.c\";",
                "line 2: error: notify command: invalid scheme part for method URI '5mailto:a@b.c'."
            ),
            ("notify \"mailto:a@%zz\";", "line 2: error: notify command: mailto URI: invalid % encoding."),
            ("notify \"mailto:a b@c\";", "line 2: error: notify command: mailto URI: invalid character ' ' in 'to' part."),
            (
                "notify \"mailto:a@b.c,c@d.e\";",
                "line 2: error: notify command: mailto URI: invalid character ',' in 'to' part."
            ),
            (
                "notify :options [\"=b\"] \"mailto:a@b.c\";",
                "line 2: error: notify command: invalid option name specified in option '=b'."
            ),
            (
                "notify :message \"hi\" :message \"x\" \"mailto:a@b.c\";",
                "line 2: error: encountered duplicate :message argument for the notify command."
            ),
            (
                "if valid_notify_method {}",
                "line 2: error: the valid_notify_method test requires 1 positional argument(s), but 0 is/are specified."
            ),
        ]
        for (body, expected) in cases {
            #expect(compileErrorText("require \"enotify\";\n" + body) == expected, "\(body)")
        }
        #expect(
            compileErrorText("require \"enotify\";\nnotify :from \"not an address\" \"mailto:a@b.c\";")?.hasPrefix(
                "line 2: error: notify command: specified :from address 'not an address' is invalid for the mailto method: ")
                == true)
        #expect(
            compileErrorText("notify \"mailto:a@b.c\";")
                == "line 1: error: unknown command 'notify' (only available after require :enotify).")
    }

    @Test("options are accepted with a warning: the mailto method takes none")
    func options() throws {
        let compiled = try SieveCompiledScript.compile("require \"enotify\";\nnotify :options [\"a=b\"] \"mailto:a@b.c\";")
        #expect(compiled.warnings.map(\.description) == ["line 2: warning: notify command: method 'mailto' accepts no options."])
    }

    // MARK: - Hostile input

    @Test("a URI cannot inject header lines: CR, LF and NUL in header values are errors")
    func injection() {
        #expect(
            compileErrorText("require \"enotify\";\nnotify \"mailto:a@b.c?subject=x%0D%0ABcc:%20evil@x.y\";")
                == "line 2: error: notify command: mailto URI: invalid header field body.")
        #expect(
            compileErrorText("require \"enotify\";\nnotify \"mailto:a@b.c?subject=%00\";")
                == "line 2: error: notify command: mailto URI: invalid % encoding.")
        #expect(
            compileErrorText("require \"enotify\";\nnotify \"mailto:a@b.c?X%0A-Y=1\";")
                == "line 2: error: notify command: mailto URI: invalid header field name.")
    }

    @Test("a :message with line breaks stays one Subject line; a long one is cut to 256 octets")
    func subjectSanitized() throws {
        let long = String(repeating: "x", count: 400)
        let result = try notifications(
            "require \"enotify\";\nnotify :message \"a\r\nBcc: evil@x.y \(long)\" \"mailto:a@example.org\";")
        let subject = try #require(field("Subject", in: result.first))
        #expect(!subject.contains("\n"))
        #expect(text(result.first)?.contains("\nBcc:") == false)
        let unfolded = text(result.first)?.replacingOccurrences(of: "\n ", with: " ") ?? ""
        #expect(unfolded.contains("...\n"))
    }

    @Test("at most 8 recipients and 16 URI headers; the rest is left out with a warning")
    func limits() throws {
        let recipients = (1...12).map { "u\($0)@example.org" }.joined(separator: "%2C")
        let headers = (1...20).map { "X-H\($0)=v" }.joined(separator: "&")
        let (uri, warnings) = try SieveMailtoURI.parse("\(recipients)?\(headers)")
        #expect(uri.recipients.count == 8)
        #expect(uri.headers.count == 16)
        #expect(warnings.contains("more than the maximum 8 recipients specified; rest is discarded"))
        #expect(warnings.contains("more than the maximum 16 headers specified; rest is discarded"))
        let huge = String(repeating: "a", count: 100_000)
        #expect(throws: SieveMailtoURI.Problem.self) { try SieveMailtoURI.parse("\(huge)?x=y") }
    }
}
