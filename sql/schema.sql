-- Homing: a schema for virtual domains and users, read by the `sql` userdb
-- (see dovecot-sql.conf.ext next to this file).
--
--   createdb mail
--   psql -d mail -f schema.sql
--   psql -d mail -f sample-data.sql      # optional: example.com and example.org
--
-- Names are stored in lower case: Homing looks users up after auth_username_format (%Lu by
-- default) has lower-cased the recipient.

CREATE TABLE domains (
    -- The domain part of the addresses, e.g. example.com.
    domain      text PRIMARY KEY CHECK (domain <> '' AND domain = lower(domain)),
    -- A disabled domain's users are not found (mail to them is rejected with 550).
    active      boolean NOT NULL DEFAULT true,
    created     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    -- The local part of the address: alice for alice@example.com.
    username    text NOT NULL CHECK (username <> '' AND username = lower(username)),
    domain      text NOT NULL REFERENCES domains (domain) ON UPDATE CASCADE ON DELETE CASCADE,
    -- The user's home directory: absolute. Mail is stored below it (see `mail`).
    home        text NOT NULL CHECK (home LIKE '/%'),
    -- The mail location (mail_location syntax), e.g. maildir:~/Maildir. NULL: the
    -- mail_location setting of dovecot.conf applies.
    mail        text,
    -- The system uid and gid mail is stored as.
    uid         integer NOT NULL DEFAULT 5000 CHECK (uid > 0),
    gid         integer NOT NULL DEFAULT 5000 CHECK (gid > 0),
    -- The user's storage quota in bytes; NULL: no per-user limit (the quota plugin's default
    -- rule applies). Turned into quota_rule = *:bytes=N by the user_query.
    quota_bytes bigint CHECK (quota_bytes >= 0),
    -- Password for Dovecot's IMAP/POP3 passdb (password_query); Homing does not read it.
    password    text,
    -- A disabled user is not found (mail to it is rejected with 550).
    active      boolean NOT NULL DEFAULT true,
    created     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, domain)
);

-- The lookup (username = ... AND domain = ...) uses the primary key's index; this one serves
-- listing or deleting a domain's users and the foreign key.
CREATE INDEX users_domain_idx ON users (domain);
