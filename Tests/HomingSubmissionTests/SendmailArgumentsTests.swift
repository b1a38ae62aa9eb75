import Glibc
import HomingSubmission
import Testing

@Suite("sendmail_path arguments")
struct SendmailArgumentsTests {
    @Test("extra words of sendmail_path come first; the null sender is -f <>; recipients follow --")
    func vector() {
        let submitter = SendmailSubmitter(command: "/usr/sbin/sendmail -oem")
        #expect(
            submitter.argumentVector(from: "", to: ["a@example.com", "b@example.com"])
                == ["/usr/sbin/sendmail", "-oem", "-i", "-f", "<>", "--", "a@example.com", "b@example.com"])
    }

    @Test("as root, running as a user goes through setpriv with that uid and gid; otherwise as the process")
    func runAsUser() {
        let submitter = SendmailSubmitter().running(asUID: 5000, gid: 5001)
        let vector = submitter.argumentVector(from: "s@example.org", to: ["r@example.org"])
        if geteuid() == 0 {
            #expect(
                vector == [
                    "/usr/bin/setpriv", "--reuid=5000", "--regid=5001", "--clear-groups", "--", "/usr/sbin/sendmail",
                    "-i", "-f", "s@example.org", "--", "r@example.org",
                ])
        } else {
            #expect(vector == ["/usr/sbin/sendmail", "-i", "-f", "s@example.org", "--", "r@example.org"])
        }
    }
}
