-- Downloads: one row per tarball request the proxy answered or refused.
-- Times are microseconds since the Unix epoch (UTC), the precision both
-- backends keep, so records compare equal whichever store they come from.
CREATE TABLE downloads (
	id          INTEGER PRIMARY KEY,
	time_us     INTEGER NOT NULL,
	name        TEXT NOT NULL,
	version     TEXT NOT NULL,
	integrity   TEXT NOT NULL DEFAULT '',
	client      TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	npm_command TEXT NOT NULL DEFAULT '',
	npm_session TEXT NOT NULL DEFAULT '',
	npm_scope   TEXT NOT NULL DEFAULT '',
	username    TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL CHECK (action IN ('allow', 'warn', 'block')),
	status      INTEGER NOT NULL DEFAULT 0,
	reason      TEXT NOT NULL DEFAULT ''
) STRICT;

-- "Who fetched debug@4.4.2 between 13:16 and 15:20?" reads one slice of
-- the first index; a name with a time window but any version, or a range
-- (checked in Go), reads a slice of the second.
CREATE INDEX downloads_name_version_time ON downloads (name, version, time_us);
CREATE INDEX downloads_name_time ON downloads (name, time_us);
-- Time windows across all packages, and "what did this machine fetch?".
CREATE INDEX downloads_time ON downloads (time_us);
CREATE INDEX downloads_client_time ON downloads (client, time_us);

-- Quarantine: one entry per package (or "@scope/*") and range; versions ''
-- is the whole package. Re-adding the same pair replaces the entry.
CREATE TABLE quarantine (
	package     TEXT NOT NULL,
	versions    TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL,
	added_by    TEXT NOT NULL DEFAULT '',
	added_at_us INTEGER NOT NULL,
	expires_us  INTEGER, -- NULL: never expires
	PRIMARY KEY (package, versions)
) STRICT, WITHOUT ROWID;
