-- Homing: example domains and users for the quick start and the tests.
-- Load after schema.sql:  psql -d mail -f sample-data.sql
--
-- Mail is stored under /var/vmail/<domain>/<user> as uid/gid 5000 (create a `vmail` user with
-- that uid and gid, or change the values).

INSERT INTO domains (domain) VALUES
    ('example.com'),
    ('example.org');

INSERT INTO users (username, domain, home, mail, uid, gid, quota_bytes, active) VALUES
    -- A user with a 1 GB quota.
    ('alice',      'example.com', '/var/vmail/example.com/alice',      'maildir:~/Maildir', 5000, 5000, 1073741824, true),
    -- No per-user quota: the quota_rule column is NULL and left out.
    ('bob',        'example.com', '/var/vmail/example.com/bob',        'maildir:~/Maildir', 5000, 5000, NULL,       true),
    -- A 1 MB quota, to see over-quota handling.
    ('smallquota', 'example.com', '/var/vmail/example.com/smallquota', 'maildir:~/Maildir', 5000, 5000, 1048576,    true),
    ('postmaster', 'example.com', '/var/vmail/example.com/postmaster', 'maildir:~/Maildir', 5000, 5000, NULL,       true),
    -- Disabled: not found by the user_query.
    ('disabled',   'example.com', '/var/vmail/example.com/disabled',   'maildir:~/Maildir', 5000, 5000, NULL,       false),
    -- No mail column: mail_location from dovecot.conf applies.
    ('carol',      'example.org', '/var/vmail/example.org/carol',      NULL,                5000, 5000, NULL,       true);
