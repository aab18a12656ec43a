//! The PostgreSQL schema, one step at a time: `PostgresStore::migrate` applies those
//! `schema_migrations` lacks, in order. A step, once released, never changes: a change is a
//! new step.

pub(super) const MIGRATIONS: &[&str] = &["
CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE users (
  id TEXT PRIMARY KEY, phone TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE codes (
  phone TEXT PRIMARY KEY, client_id TEXT NOT NULL, flow_id TEXT NOT NULL, mac BYTEA NOT NULL,
  expires_at BIGINT NOT NULL, attempts BIGINT NOT NULL, used BOOLEAN NOT NULL);
CREATE TABLE tickets (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL, used BOOLEAN NOT NULL);
CREATE TABLE events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX events_key_at ON events (key, at);
CREATE INDEX events_at ON events (at);
CREATE TABLE blocks (
  key TEXT PRIMARY KEY, failures BIGINT NOT NULL, blocked_until BIGINT NOT NULL);
CREATE TABLE sessions (
  id_hash BYTEA PRIMARY KEY, user_id TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE auth_codes (
  code_hash BYTEA PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,
  audience TEXT, nonce TEXT, redirect_uri TEXT, challenge TEXT, expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL);
CREATE TABLE refresh_families (family TEXT PRIMARY KEY, revoked BOOLEAN NOT NULL);
CREATE TABLE refresh_tokens (
  token_hash BYTEA PRIMARY KEY, family TEXT NOT NULL, client_id TEXT NOT NULL,
  user_id TEXT NOT NULL, scope TEXT NOT NULL, audience TEXT, expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, to_number TEXT NOT NULL, body TEXT NOT NULL,
  code TEXT NOT NULL, sent_at BIGINT NOT NULL);
CREATE INDEX outbox_to ON outbox (to_number, id);
CREATE INDEX outbox_sent ON outbox (sent_at);
",
    // Store::take in one statement. Each key's transaction-scoped advisory lock is taken in
    // sorted order (two takes sharing keys cannot deadlock) and held until the statement's
    // transaction ends, so the count and the insert cannot interleave with another take's.
    // Answers 0 (taken), the seconds until the tightest limit frees up, or minus the seconds
    // the block key stays blocked.
    "
CREATE FUNCTION lpw_take(block_key TEXT, keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  k TEXT;
  blocked_till BIGINT;
  n BIGINT;
  oldest BIGINT;
  retry BIGINT := 0;
BEGIN
  IF block_key IS NOT NULL THEN
    SELECT blocked_until INTO blocked_till FROM blocks WHERE key = block_key AND blocked_until > now;
    IF FOUND THEN
      RETURN now - blocked_till;
    END IF;
  END IF;
  FOR k IN SELECT DISTINCT u FROM unnest(keys) AS u ORDER BY u LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT COUNT(*), MIN(at) INTO n, oldest FROM events WHERE key = keys[i] AND at > now - windows[i];
    IF n >= maxes[i] THEN
      retry := greatest(retry, coalesce(oldest, now) + windows[i] - now, 1);
    END IF;
  END LOOP;
  IF retry > 0 THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
",
    // Blocks grow with repeats (strikes); a number's last login address is exempt from its
    // number-wide block; logins keep their time; `lpw_take` checks several block keys (the
    // longest wait wins).
    "
ALTER TABLE blocks ADD COLUMN strikes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_ip TEXT;
-- A login ticket is redeemed only with the cookie /co/authenticate set in the same browser.
ALTER TABLE tickets ADD COLUMN binding BYTEA;
-- When the user logged in: the ID token's auth_time, max_age, the refresh tokens' absolute
-- lifetime. Rows from before count from the migration.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE auth_codes ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refresh_families ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = extract(epoch FROM now())::BIGINT;
UPDATE auth_codes SET auth_time = extract(epoch FROM now())::BIGINT;
UPDATE refresh_families SET auth_time = extract(epoch FROM now())::BIGINT;
DROP FUNCTION lpw_take(TEXT, TEXT[], BIGINT[], BIGINT[], BIGINT);
CREATE FUNCTION lpw_take(block_keys TEXT[], keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  k TEXT;
  blocked_till BIGINT;
  n BIGINT;
  oldest BIGINT;
  retry BIGINT := 0;
BEGIN
  SELECT max(blocked_until) INTO blocked_till FROM blocks
    WHERE key = ANY(block_keys) AND blocked_until > now;
  IF blocked_till IS NOT NULL THEN
    RETURN now - blocked_till;
  END IF;
  FOR k IN SELECT DISTINCT u FROM unnest(keys) AS u ORDER BY u LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT COUNT(*), MIN(at) INTO n, oldest FROM events WHERE key = keys[i] AND at > now - windows[i];
    IF n >= maxes[i] THEN
      retry := greatest(retry, coalesce(oldest, now) + windows[i] - now, 1);
    END IF;
  END LOOP;
  IF retry > 0 THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
",
    // The same decisions in four statements instead of one per key and step (each statement
    // in a function pays for its plan's start-up, which was most of PostgreSQL's CPU per
    // login): the locks in one query (taken in sorted order, as the subquery yields them), the
    // counts in one. Events lose their identity column, an index every limit's insert had to
    // write: a refund deletes one of its key's rows by its physical address instead.
    "
CREATE OR REPLACE FUNCTION lpw_take(block_keys TEXT[], keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
  retry BIGINT;
BEGIN
  SELECT max(blocked_until) INTO blocked_till FROM blocks
    WHERE key = ANY(block_keys) AND blocked_until > now;
  IF blocked_till IS NOT NULL THEN
    RETURN now - blocked_till;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))
    FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted;
  SELECT max(greatest(coalesce(c.oldest, now) + l.win - now, 1)) INTO retry
    FROM unnest(keys, maxes, windows) AS l(key, lim, win)
    CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(at) AS oldest FROM events
                        WHERE key = l.key AND at > now - l.win) AS c
    WHERE c.n >= l.lim;
  IF retry IS NOT NULL THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
ALTER TABLE events DROP COLUMN id;
-- Store::admit and Store::admit_attempt: the number's user and the take under its blocks, and
-- (with p_max_attempts) the try counted against the live code, in one round trip. The blocks
-- are the pair's, and the number's unless the address is where it last logged in from
-- (store::Asking::blocking decides the same for SQLite).
CREATE FUNCTION lpw_admit(p_phone TEXT, p_ip TEXT, pair_key TEXT, phone_key TEXT,
                          keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT,
                          p_max_attempts BIGINT)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT,
               code_flow TEXT, code_mac BYTEA, code_client TEXT, exhausted BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
  block_keys TEXT[] := '{}';
BEGIN
  registered := false;
  exhausted := false;
  IF p_phone IS NOT NULL THEN
    SELECT true, u.last_ip INTO registered, login_ip FROM users u WHERE u.phone = p_phone;
    registered := coalesce(registered, false);
    block_keys := ARRAY[pair_key];
    IF login_ip IS DISTINCT FROM p_ip THEN
      block_keys := block_keys || phone_key;
    END IF;
  END IF;
  wait := lpw_take(block_keys, keys, maxes, windows, now);
  IF wait = 0 AND p_max_attempts IS NOT NULL THEN
    UPDATE codes c SET attempts = c.attempts + 1
      WHERE c.phone = p_phone AND NOT c.used AND c.expires_at > now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id INTO code_flow, code_mac, code_client;
    IF NOT FOUND THEN
      exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                             AND c.expires_at > now AND c.attempts >= p_max_attempts);
    END IF;
  END IF;
  RETURN NEXT;
END
$$;
",
    // `lpw_admit` in two statements, not seven and a nested call (a statement's executor
    // start-up was still the largest part of PostgreSQL's CPU per login): the limits' locks,
    // the number's user and its blocks in one; after the locks, in a new snapshot, the counts,
    // the events and the code's try in the other. The number's blocks are read as before, not
    // under the limits' locks (failures are recorded without them); a blocked take leaves no
    // event and tries no code. `lpw_take` stays for `Store::take`.
    "
CREATE OR REPLACE FUNCTION lpw_admit(p_phone TEXT, p_ip TEXT, pair_key TEXT, phone_key TEXT,
                                     keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT,
                                     p_max_attempts BIGINT)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT,
               code_flow TEXT, code_mac BYTEA, code_client TEXT, exhausted BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
BEGIN
  exhausted := false;
  WITH locked AS MATERIALIZED (
    SELECT count(*) AS n FROM (
      SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) AS l
        FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted) AS taken)
  SELECT u.phone IS NOT NULL, u.last_ip,
         (SELECT max(b.blocked_until) FROM blocks b
           WHERE b.blocked_until > now
             AND (b.key = pair_key
                  OR (b.key = phone_key AND u.last_ip IS DISTINCT FROM p_ip)))
    INTO registered, login_ip, blocked_till
    FROM locked LEFT JOIN users u ON u.phone = p_phone;
  IF blocked_till IS NOT NULL THEN
    wait := now - blocked_till;
    RETURN NEXT;
    RETURN;
  END IF;
  WITH limited AS (
    SELECT max(greatest(coalesce(c.oldest, now) + l.win - now, 1)) AS retry
      FROM unnest(keys, maxes, windows) AS l(key, lim, win)
      CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(e.at) AS oldest FROM events e
                          WHERE e.key = l.key AND e.at > now - l.win) AS c
      WHERE c.n >= l.lim),
  counted AS (
    INSERT INTO events (key, at)
      SELECT u, now FROM unnest(keys) AS u WHERE (SELECT retry FROM limited) IS NULL),
  tried AS (
    UPDATE codes c SET attempts = c.attempts + 1
      WHERE p_max_attempts IS NOT NULL AND (SELECT retry FROM limited) IS NULL
        AND c.phone = p_phone AND NOT c.used AND c.expires_at > now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id)
  SELECT coalesce(o.retry, 0), t.flow_id, t.mac, t.client_id
    INTO wait, code_flow, code_mac, code_client
    FROM limited o LEFT JOIN tried t ON true;
  IF wait = 0 AND p_max_attempts IS NOT NULL AND code_flow IS NULL THEN
    exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                           AND c.expires_at > now AND c.attempts >= p_max_attempts);
  END IF;
  RETURN NEXT;
END
$$;
",
    // A code's try, comparison and finish in one round trip (`Store::try_code`): the tenant
    // brings the HMAC pads of the code tried's candidate key, with which the stored flow is
    // sealed here as `store::seal_code` seals it, and `CodeTry::may_log_in`'s condition; a match
    // is consumed under the try's row lock, with the login `lpw_finish` does (also
    // `Store::finish_verification`'s one statement). A MAC stored before sealing (32 bytes) comes
    // back to the tenant to compare, as `lpw_admit` returns it. `lpw_admit` stays, for
    // `Store::admit` and for instances of the previous version.
    "
CREATE FUNCTION lpw_finish(p_phone TEXT, p_flow TEXT, p_refund TEXT, p_pair_key TEXT,
                           p_phone_key TEXT, p_ip TEXT, p_now BIGINT, p_new_id TEXT,
                           p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                           p_ticket_binding BYTEA)
RETURNS TABLE (u_id TEXT, u_phone TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH consumed AS (
    UPDATE codes c SET used = true WHERE c.phone = p_phone AND c.flow_id = p_flow AND NOT c.used
    RETURNING c.phone),
  refunded AS (
    DELETE FROM events WHERE ctid =
      (SELECT e.ctid FROM events e WHERE e.key = p_refund AND e.at = p_now LIMIT 1)
    AND EXISTS (SELECT 1 FROM consumed)),
  cleared AS (
    UPDATE blocks b SET failures = 0,
      strikes = CASE WHEN b.key = p_pair_key THEN 0 ELSE b.strikes END
    WHERE b.key IN (p_pair_key, p_phone_key) AND EXISTS (SELECT 1 FROM consumed)),
  login AS (
    INSERT INTO users AS u (id, phone, created_at, updated_at, last_ip)
      SELECT p_new_id, k.phone, p_now, p_now, p_ip FROM consumed k
    ON CONFLICT (phone) DO UPDATE SET updated_at = p_now, last_ip = p_ip
    RETURNING u.id, u.phone, u.created_at, u.updated_at),
  ticket AS (
    INSERT INTO tickets (id, client_id, user_id, expires_at, used, binding)
      SELECT p_ticket, p_ticket_client, l.id, p_ticket_expires, false, p_ticket_binding
      FROM login l WHERE p_ticket IS NOT NULL)
  SELECT l.id, l.phone, l.created_at, l.updated_at FROM login l;
END
$$;
CREATE FUNCTION lpw_try_code(p_phone TEXT, p_ip TEXT, p_pair_key TEXT, p_phone_key TEXT,
                             keys TEXT[], maxes BIGINT[], windows BIGINT[], p_now BIGINT,
                             p_max_attempts BIGINT, p_ipad BYTEA, p_opad BYTEA, p_client TEXT,
                             p_sign_ups BOOLEAN, p_refund TEXT, p_new_id TEXT,
                             p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                             p_ticket_binding BYTEA)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT, exhausted BOOLEAN,
               code_flow TEXT, code_mac BYTEA, code_client TEXT,
               u_id TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT a.wait, a.registered, a.login_ip, a.exhausted, a.code_flow, a.code_mac, a.code_client
    INTO wait, registered, login_ip, exhausted, code_flow, code_mac, code_client
    FROM lpw_admit(p_phone, p_ip, p_pair_key, p_phone_key, keys, maxes, windows, p_now,
                   p_max_attempts) AS a;
  IF code_flow IS NOT NULL AND length(code_mac) = 33 THEN
    -- HMAC-SHA256(candidate, flow) from the candidate's pads; the two are compared by their
    -- hashes, so how long the comparison takes says nothing of either.
    IF sha256(decode('01', 'hex')
              || sha256(p_opad || sha256(p_ipad || convert_to(code_flow, 'UTF8'))))
         = sha256(code_mac)
       AND code_client = p_client AND (registered OR p_sign_ups) THEN
      SELECT f.u_id, f.u_created, f.u_updated INTO u_id, u_created, u_updated
        FROM lpw_finish(p_phone, code_flow, p_refund, p_pair_key, p_phone_key, p_ip, p_now,
                        p_new_id, p_ticket, p_ticket_client, p_ticket_expires,
                        p_ticket_binding) AS f;
    END IF;
    code_mac := NULL;
  END IF;
  RETURN NEXT;
END
$$;
",
    // Events arrive in time order, so a BRIN index serves the purge's time range, and the
    // limits' inserts no longer keep a B-tree.
    "
DROP INDEX events_at;
CREATE INDEX events_at_brin ON events USING brin (at);
",
    // `lpw_try_code` in two statements instead of two nested functions and four statements
    // (PostgreSQL's CPU per login: a function call and a statement's executor start-up each
    // cost about as much as the work they do): `lpw_admit`'s two, with the code's try,
    // comparison and consumption in one UPDATE and the login `lpw_finish` writes in the same
    // statement. A matching try's event on the refund key is not written rather than written
    // and deleted: both happen under the key's lock, so no other take could see it.
    // `lpw_admit` and `lpw_finish` stay, for `Store::admit`, `Store::finish_verification` and
    // instances of the previous version; the answers are the same.
    "
CREATE OR REPLACE FUNCTION lpw_try_code(p_phone TEXT, p_ip TEXT, p_pair_key TEXT, p_phone_key TEXT,
                             keys TEXT[], maxes BIGINT[], windows BIGINT[], p_now BIGINT,
                             p_max_attempts BIGINT, p_ipad BYTEA, p_opad BYTEA, p_client TEXT,
                             p_sign_ups BOOLEAN, p_refund TEXT, p_new_id TEXT,
                             p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                             p_ticket_binding BYTEA)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT, exhausted BOOLEAN,
               code_flow TEXT, code_mac BYTEA, code_client TEXT,
               u_id TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
BEGIN
  exhausted := false;
  WITH locked AS MATERIALIZED (
    SELECT count(*) AS n FROM (
      SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) AS l
        FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted) AS taken)
  SELECT u.phone IS NOT NULL, u.last_ip,
         (SELECT max(b.blocked_until) FROM blocks b
           WHERE b.blocked_until > p_now
             AND (b.key = p_pair_key
                  OR (b.key = p_phone_key AND u.last_ip IS DISTINCT FROM p_ip)))
    INTO registered, login_ip, blocked_till
    FROM locked LEFT JOIN users u ON u.phone = p_phone;
  IF blocked_till IS NOT NULL THEN
    wait := p_now - blocked_till;
    RETURN NEXT;
    RETURN;
  END IF;
  WITH limited AS (
    SELECT max(greatest(coalesce(c.oldest, p_now) + l.win - p_now, 1)) AS retry
      FROM unnest(keys, maxes, windows) AS l(key, lim, win)
      CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(e.at) AS oldest FROM events e
                          WHERE e.key = l.key AND e.at > p_now - l.win) AS c
      WHERE c.n >= l.lim),
  tried AS (
    UPDATE codes c SET attempts = c.attempts + 1,
      used = coalesce(length(c.mac) = 33
                      AND sha256(decode('01', 'hex')
                                 || sha256(p_opad || sha256(p_ipad || convert_to(c.flow_id, 'UTF8'))))
                          = sha256(c.mac)
                      AND c.client_id = p_client AND (registered OR p_sign_ups), false)
      WHERE p_max_attempts IS NOT NULL AND (SELECT retry FROM limited) IS NULL
        AND c.phone = p_phone AND NOT c.used AND c.expires_at > p_now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id, c.used, c.phone),
  counted AS (
    INSERT INTO events (key, at)
      SELECT u, p_now FROM unnest(keys) AS u
      WHERE (SELECT retry FROM limited) IS NULL
        AND NOT (u = p_refund AND EXISTS (SELECT 1 FROM tried WHERE tried.used))),
  cleared AS (
    UPDATE blocks b SET failures = 0,
      strikes = CASE WHEN b.key = p_pair_key THEN 0 ELSE b.strikes END
    WHERE b.key IN (p_pair_key, p_phone_key) AND EXISTS (SELECT 1 FROM tried WHERE tried.used)),
  login AS (
    INSERT INTO users AS u (id, phone, created_at, updated_at, last_ip)
      SELECT p_new_id, k.phone, p_now, p_now, p_ip FROM tried k WHERE k.used
    ON CONFLICT (phone) DO UPDATE SET updated_at = p_now, last_ip = p_ip
    RETURNING u.id, u.created_at, u.updated_at),
  ticket AS (
    INSERT INTO tickets (id, client_id, user_id, expires_at, used, binding)
      SELECT p_ticket, p_ticket_client, l.id, p_ticket_expires, false, p_ticket_binding
      FROM login l WHERE p_ticket IS NOT NULL)
  SELECT coalesce(o.retry, 0), t.flow_id, CASE WHEN length(t.mac) = 33 THEN NULL ELSE t.mac END,
         t.client_id, l.id, l.created_at, l.updated_at
    INTO wait, code_flow, code_mac, code_client, u_id, u_created, u_updated
    FROM limited o LEFT JOIN tried t ON true LEFT JOIN login l ON true;
  IF wait = 0 AND p_max_attempts IS NOT NULL AND code_flow IS NULL THEN
    exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                           AND c.expires_at > p_now AND c.attempts >= p_max_attempts);
  END IF;
  RETURN NEXT;
END
$$;
"];
