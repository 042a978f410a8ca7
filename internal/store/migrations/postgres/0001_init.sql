-- Downloads: one row per tarball request the proxy answered or refused.
-- timestamptz keeps microseconds, the precision both backends share.
CREATE TABLE downloads (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time        TIMESTAMPTZ NOT NULL,
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
);

-- "Who fetched debug@4.4.2 between 13:16 and 15:20?" reads one slice of
-- the first index; a name with a time window but any version, or a range
-- (checked in Go), reads a slice of the second.
CREATE INDEX downloads_name_version_time ON downloads (name, version, time, id);
CREATE INDEX downloads_name_time ON downloads (name, time, id);
-- Time windows across all packages, and "what did this machine fetch?".
CREATE INDEX downloads_time ON downloads (time, id);
CREATE INDEX downloads_client_time ON downloads (client, time, id);

-- Quarantine: one entry per package (or "@scope/*") and range; versions ''
-- is the whole package. Re-adding the same pair replaces the entry.
CREATE TABLE quarantine (
	package  TEXT NOT NULL,
	versions TEXT NOT NULL DEFAULT '',
	reason   TEXT NOT NULL,
	added_by TEXT NOT NULL DEFAULT '',
	added_at TIMESTAMPTZ NOT NULL,
	expires  TIMESTAMPTZ, -- NULL: never expires
	PRIMARY KEY (package, versions)
);
