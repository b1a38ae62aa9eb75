# The quick start's sieve_default: runs for users without a ~/.dovecot.sieve of their own.
require ["fileinto", "imap4flags"];

# Mail tagged by a spam filter goes to Junk, already marked as read.
if header :contains "X-Spam-Flag" "YES" {
    fileinto :flags "\\Seen" "Junk";
    stop;
}
