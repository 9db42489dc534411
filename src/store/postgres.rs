//! The PostgreSQL kind of central store: the same records as a folder's log, kept in a database
//! server that many machines share (what Lync does with SQL Server).
//!
//! Schema version 2 (tables in the connection's default schema, created on first use or
//! explicitly by [`PgCentral::initialize`]; version 1 had the same tables, with log rows that
//! carried no commit details: the first commit, or Initialize, marks such a database version 2):
//! - `xmppfed_meta`: one row, `schema_version` and `store_id` (the store's identity, as in a
//!   folder's log header and in every replica).
//! - `xmppfed_head`: one row, `seq`, the last commit number. Every commit locks it `FOR UPDATE`:
//!   writers on every machine take turns, so revisions are strictly increasing and gap-free and a
//!   writer always decides against the latest state (no lost update).
//! - `xmppfed_log`: `(seq, change, at)`, one row per commit, the record exactly as a folder's log
//!   line holds it (who, when, each change with the partner before it); readers catch up from it,
//!   and it is the history. Rows older than the newest
//!   [`RETAINED_COMMITS`](crate::history::RETAINED_COMMITS) commits are deleted at each commit; a
//!   reader that fell further behind reads the current state whole.
//! - `xmppfed_partners` (`identity` primary key) and `xmppfed_domains` (`domain` primary key,
//!   indexed by `identity` too): the current state, from which a new reader loads; the database
//!   itself enforces one domain, one partner.
//!
//! A commit is one transaction: lock the head, catch up, decide with the shared rules
//! ([`super::Store`]), insert the log row, update the tables and the head, commit. It is durable
//! when the call returns (the server's `synchronous_commit`); a client killed before `COMMIT`
//! leaves nothing (the server rolls the transaction back when the connection goes).
//!
//! A lost connection (server restart, failover, network) fails the call with a clear error; the
//! next call connects again.

use std::path::PathBuf;
use std::time::Duration;

use super::log::{self, Change, Header, Record};
use super::pq::{self, Conn, Conninfo, PqError};
use super::state::State;
use super::view::Known;
use super::{Decided, Decision};
use crate::error::{Error, Result};
use crate::model::Partner;

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: u64 = 2;

/// Replicas of a PostgreSQL store are a single generation: the database has no generations.
pub const REPLICA_GENERATION: u64 = 1;

/// Records kept for an incremental refresh of the replica before a whole rewrite is cheaper.
const MAX_UNMIRRORED: usize = 10_000;

/// Serialises schema creation and upgrades across every client (any fixed number; "xmppfed").
const SCHEMA_LOCK: &str = "7867706466656401";

const CREATE_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS xmppfed_meta (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        schema_version integer NOT NULL CHECK (schema_version > 0),
        store_id text NOT NULL CHECK (store_id ~ '^[0-9a-f]{32}$'))",
    "CREATE TABLE IF NOT EXISTS xmppfed_head (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        seq bigint NOT NULL CHECK (seq >= 0))",
    "CREATE TABLE IF NOT EXISTS xmppfed_log (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        change jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS xmppfed_partners (
        identity text PRIMARY KEY,
        revision bigint NOT NULL CHECK (revision > 0),
        partner jsonb NOT NULL)",
    "CREATE TABLE IF NOT EXISTS xmppfed_domains (
        domain text PRIMARY KEY,
        identity text NOT NULL REFERENCES xmppfed_partners (identity) ON DELETE CASCADE)",
    // Every commit deletes a partner's domains by identity (and removing a partner cascades to
    // them): without this index each commit scanned the whole table (20 ms at 100,000 partners).
    "CREATE INDEX IF NOT EXISTS xmppfed_domains_identity ON xmppfed_domains (identity)",
    "INSERT INTO xmppfed_head (seq) VALUES (0) ON CONFLICT DO NOTHING",
];

pub struct PgCentral {
    info: Conninfo,
    /// The connection without secrets, for messages and status.
    pub display: PathBuf,
    conn: Option<Conn>,
    /// Whether the schema was checked (and created if missing) on the open connection.
    schema_checked: bool,
    /// The schema version found at the check (1 is marked 2 by the next commit).
    schema_version: u64,
    /// The state read so far; `None` until the first successful read.
    loaded: Option<State>,
    pub store_id: Option<String>,
    /// The store this handle (or this machine's replica) has seen: a database holding another
    /// store, or an older copy of it (a restored backup), is refused.
    pub known: Option<Known>,
    lock_timeout: Duration,
    /// Records applied since the replica was last written (`None`: rewrite it whole).
    pub unmirrored: Option<Vec<Record>>,
    /// How many of the newest commits the log (the history) keeps.
    pub retained_commits: u64,
}

impl PgCentral {
    pub fn new(location: &str, lock_timeout: Duration) -> Result<PgCentral> {
        let info = pq::parse_conninfo(location)
            .map_err(|problem| Error::NoStoreLocation(format!("the PostgreSQL connection string is not valid: {problem}")))?;
        Ok(PgCentral {
            display: PathBuf::from(info.display()),
            info,
            conn: None,
            schema_checked: false,
            schema_version: SCHEMA_VERSION,
            loaded: None,
            store_id: None,
            known: None,
            lock_timeout,
            unmirrored: None,
            retained_commits: crate::history::RETAINED_COMMITS,
        })
    }

    /// The state as last read (empty before the first read).
    pub fn state(&self) -> Option<&State> {
        self.loaded.as_ref()
    }

    pub fn header(&self) -> Option<Header> {
        let state = self.loaded.as_ref()?;
        Some(Header { version: log::FORMAT_VERSION, store_id: self.store_id.clone(), generation: REPLICA_GENERATION, seq: state.seq })
    }

    /// Read everything again at the next refresh.
    pub fn forget(&mut self) {
        self.loaded = None;
        self.unmirrored = None;
    }

    fn error(&self, e: PqError) -> Error {
        db_error(&self.display, e)
    }

    /// Connect if there is no open connection (nothing about the schema is checked here).
    fn connect(&mut self) -> Result<()> {
        if self.conn.is_none() {
            // Bounded waits: an unreachable server fails the call within the connect timeout, and
            // a dead peer is noticed by TCP keepalives; the caller's string overrides these.
            let conn = Conn::connect(
                &self.info,
                &[("connect_timeout", "10"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"), ("application_name", "xmppfed")],
            )
            .map_err(|e| self.error(e))?;
            self.conn = Some(conn);
            self.schema_checked = false;
        }
        Ok(())
    }

    /// The open connection, or a new one, with the schema checked (and created if the database
    /// has none yet: zero set-up, as with a folder).
    fn conn(&mut self) -> Result<&mut Conn> {
        self.connect()?;
        if !self.schema_checked {
            if let Err(e) = self.check_schema() {
                self.conn = None;
                return Err(e);
            }
            self.schema_checked = true;
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Run one statement; a lost connection is dropped so that the next call reconnects.
    fn exec(&mut self, sql: &str, params: &[Option<&str>]) -> Result<pq::Rows> {
        self.conn()?;
        self.exec_connected(sql, params)
    }

    /// As [`Self::exec`], on the open connection whatever its schema.
    fn exec_connected(&mut self, sql: &str, params: &[Option<&str>]) -> Result<pq::Rows> {
        let conn = self.conn.as_mut().expect("called with a connection");
        match conn.exec(sql, params) {
            Ok(rows) => Ok(rows),
            Err(e) => {
                if e.connection_lost {
                    self.conn = None;
                }
                Err(self.error(e))
            }
        }
    }

    /// The schema version the database holds, `None` if it has no xmppfed schema yet; nothing
    /// is created.
    fn found_schema_version(&mut self) -> Result<Option<u64>> {
        self.connect()?;
        let rows = self.exec_connected("SELECT to_regclass('xmppfed_meta') IS NOT NULL", &[])?;
        if rows.get(0, 0) != Some("t") {
            return Ok(None);
        }
        drop(rows);
        let rows = self.exec_connected("SELECT schema_version FROM xmppfed_meta", &[])?;
        if rows.len() != 1 {
            return Err(Error::corrupt(&self.display, "the table xmppfed_meta does not hold exactly one row"));
        }
        Ok(Some(rows.get(0, 0).and_then(|v| v.parse().ok()).unwrap_or(0)))
    }

    /// Check the schema's version and the store's identity; create the schema in an empty
    /// database.
    fn check_schema(&mut self) -> Result<()> {
        let display = self.display.clone();
        let conn = self.conn.as_mut().expect("called with a connection");
        let rows = conn.exec("SELECT to_regclass('xmppfed_meta') IS NOT NULL", &[]).map_err(|e| db_error(&display, e))?;
        if rows.get(0, 0) != Some("t") {
            create_schema_on(conn, &display)?;
        }
        let rows = conn.exec("SELECT schema_version, store_id FROM xmppfed_meta", &[]).map_err(|e| db_error(&display, e))?;
        if rows.len() != 1 {
            return Err(Error::corrupt(&display, "the table xmppfed_meta does not hold exactly one row"));
        }
        let version: u64 = rows.get(0, 0).and_then(|v| v.parse().ok()).unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(Error::StoreVersion { path: display, what: "schema", found: version, supported: SCHEMA_VERSION });
        }
        let store_id = rows.get(0, 1).unwrap_or("").to_owned();
        if let Some(Known { store_id: Some(seen), .. }) = &self.known {
            if *seen != store_id {
                return Err(Error::StoreMismatch {
                    path: display,
                    problem: format!("holds store {store_id}, but store {seen} was seen here before: the database was replaced, or two stores share one replica folder (give each its own XMPPFED_REPLICA)"),
                    fix: "If this is intended, delete this machine's replica folder so that the store is accepted as it is now. Nothing was written.".into(),
                });
            }
        }
        self.store_id = Some(store_id);
        self.schema_version = version;
        Ok(())
    }

    /// Bring the state up to date: the whole current state on the first read, afterwards only the
    /// commits since.
    pub fn refresh(&mut self) -> Result<()> {
        self.catch_up()
    }

    /// As [`Self::refresh`], but a database without the schema is left as it is (an empty store):
    /// opening a store creates nothing, so that `Initialize -WhatIf` finds the database as it was.
    pub fn refresh_if_initialized(&mut self) -> Result<()> {
        match self.found_schema_version()? {
            None => Ok(()),
            Some(_) => self.refresh(),
        }
    }

    fn catch_up(&mut self) -> Result<()> {
        let Some(from) = self.loaded.as_ref().map(|s| s.seq) else {
            return self.load();
        };
        let rows = self.exec("SELECT seq FROM xmppfed_head", &[])?;
        let head = parse_seq(&self.display, rows.get(0, 0))?;
        if head < from {
            return Err(self.rolled_back(head, from));
        }
        if head > from {
            self.read_log(from)?;
        }
        Ok(())
    }

    /// Apply the log rows after `from` (under a head lock or not: the rows up to the head are all
    /// committed, since each commit holds the head's lock until it is durable).
    fn read_log(&mut self, from: u64) -> Result<()> {
        let from_text = from.to_string();
        let rows = self.exec("SELECT change::text FROM xmppfed_log WHERE seq > $1::bigint ORDER BY seq", &[Some(&from_text)])?;
        let mut records = Vec::with_capacity(rows.len());
        for i in 0..rows.len() {
            let text = rows.get(i, 0).unwrap_or("");
            records.push(log::parse_record(&self.display, text.as_bytes())?);
        }
        drop(rows);
        // Rows before the first one left were deleted (older than the history keeps): this reader
        // fell that far behind, and reads the current state whole instead.
        if records.first().map_or(false, |r| r.seq > from + 1) {
            return self.load();
        }
        let state = self.loaded.as_mut().expect("a loaded state");
        for r in records {
            if r.seq != state.seq + 1 {
                return Err(Error::corrupt(&self.display, format!("the log jumps from commit {} to {}", state.seq, r.seq)));
            }
            if let Some(pending) = &mut self.unmirrored {
                pending.push(r.clone());
            }
            state.apply(r);
        }
        if self.unmirrored.as_ref().map_or(false, |p| p.len() > MAX_UNMIRRORED) {
            self.unmirrored = None;
        }
        self.remember();
        Ok(())
    }

    /// The whole current state, in one statement (one snapshot).
    fn load(&mut self) -> Result<()> {
        let rows = self.exec(
            "SELECT h.seq, p.partner::text FROM xmppfed_head h LEFT JOIN xmppfed_partners p ON true",
            &[],
        )?;
        let mut state = State::default();
        for i in 0..rows.len() {
            state.seq = parse_seq(&self.display, rows.get(i, 0))?;
            if let Some(text) = rows.get(i, 1) {
                let partner: Partner = serde_json::from_str(text)
                    .map_err(|e| Error::corrupt(&self.display, format!("a partner row cannot be read ({e})")))?;
                let seq = partner.revision;
                state.apply(Record::put(seq, partner));
            }
        }
        drop(rows);
        if let Some(known) = &self.known {
            if state.seq < known.seq {
                return Err(self.rolled_back(state.seq, known.seq));
            }
        }
        self.loaded = Some(state);
        self.unmirrored = None;
        self.remember();
        Ok(())
    }

    fn rolled_back(&self, now: u64, seen: u64) -> Error {
        Error::StoreMismatch {
            path: self.display.clone(),
            problem: format!("was rolled back: it is at revision {now}, but revision {seen} was already seen"),
            fix: "If this is intended (a restored backup), delete this machine's replica folder so that the store is accepted as it is now. Nothing was written.".into(),
        }
    }

    fn remember(&mut self) {
        if let Some(state) = &self.loaded {
            self.known = Some(Known { store_id: self.store_id.clone(), generation: REPLICA_GENERATION, seq: state.seq });
        }
    }

    /// One commit (see the module's description). `decide` gets the state after every earlier
    /// commit and the number this one gets. Returns what it decided, and whether anything was
    /// written (a decision without changes commits nothing).
    pub(super) fn commit<T>(&mut self, decide: Box<Decision<T>>) -> Result<(T, bool)> {
        self.exec("BEGIN", &[])?;
        let result = self.commit_in_transaction(decide);
        match result {
            Ok((record, value)) => {
                // Durable once COMMIT returns. A connection lost during COMMIT leaves the outcome
                // unknown: said so, and the state is read again at the next call.
                if let Err(e) = self.exec("COMMIT", &[]) {
                    self.forget();
                    return Err(match e {
                        Error::StoreIo { path, source } => Error::StoreIo {
                            path,
                            source: std::io::Error::new(source.kind(), format!("{source} (the change may or may not have been committed: read the partner again)")),
                        },
                        other => other,
                    });
                }
                let Some(record) = record else { return Ok((value, false)) };
                if let Some(pending) = &mut self.unmirrored {
                    pending.push(record.clone());
                }
                self.loaded.as_mut().expect("loaded in the transaction").apply(record);
                self.remember();
                Ok((value, true))
            }
            Err(e) => {
                if self.conn.is_some() {
                    let _ = self.exec("ROLLBACK", &[]);
                }
                Err(e)
            }
        }
    }

    fn commit_in_transaction<T>(&mut self, decide: Box<Decision<T>>) -> Result<(Option<Record>, T)> {
        // A writer waits for another's head lock at most as long as for a folder's lock.
        let timeout = format!("SET LOCAL lock_timeout = {}", self.lock_timeout.as_millis().max(1));
        self.exec(&timeout, &[])?;
        let rows = match self.exec("SELECT seq FROM xmppfed_head FOR UPDATE", &[]) {
            Err(Error::StoreIo { source, .. }) if source.to_string().contains("[55P03]") => {
                return Err(Error::StoreLocked {
                    path: self.display.clone(),
                    waited_ms: self.lock_timeout.as_millis() as u64,
                    holder: "another writer holds the store's head row (xmppfed_head) in a transaction".into(),
                })
            }
            other => other?,
        };
        let head = parse_seq(&self.display, rows.get(0, 0))?;
        drop(rows);
        if self.loaded.is_none() {
            self.load()?;
        } else {
            let from = self.loaded.as_ref().map_or(0, |s| s.seq);
            if head < from {
                return Err(self.rolled_back(head, from));
            }
            self.read_log(from)?;
        }
        let state = self.loaded.as_ref().expect("loaded above");
        if state.seq != head {
            return Err(Error::corrupt(&self.display, format!("the head says commit {head}, the tables hold commit {}", state.seq)));
        }
        let seq = head.checked_add(1).filter(|s| *s <= i64::MAX as u64).ok_or_else(|| Error::corrupt(&self.display, "the commit counter is at its maximum"))?;
        let Decided { changes, operation, value } = decide(state, seq)?;
        if changes.is_empty() {
            return Ok((None, value));
        }
        if self.schema_version < SCHEMA_VERSION {
            // Under the head lock: this commit's row is the first with commit details.
            self.upgrade_schema()?;
        }
        let record = super::record(seq, changes, operation);
        let seq_text = seq.to_string();
        let line = serde_json::to_string(&record).expect("records serialize");
        self.exec("INSERT INTO xmppfed_log (seq, change) VALUES ($1::bigint, $2::jsonb)", &[Some(&seq_text), Some(&line)])?;
        // Every change of the commit in a few statements, whatever their number (an import of
        // 100,000 partners is not 300,000 round trips): removals first, which frees their domains
        // (by cascade) for the partners written after them.
        let removed: Vec<&str> = record.changes.iter().filter_map(|c| if let Change::Remove(id) = c { Some(id.as_str()) } else { None }).collect();
        let written: Vec<&Partner> = record.changes.iter().filter_map(|c| if let Change::Put(p) = c { Some(p) } else { None }).collect();
        if !removed.is_empty() {
            let ids = serde_json::to_string(&removed).expect("strings serialize");
            self.exec("DELETE FROM xmppfed_partners WHERE identity IN (SELECT jsonb_array_elements_text($1::jsonb))", &[Some(&ids)])?;
        }
        if !written.is_empty() {
            let partners = serde_json::to_string(&written).expect("partners serialize");
            self.exec(
                "DELETE FROM xmppfed_domains WHERE identity IN (SELECT p->>'Identity' FROM jsonb_array_elements($1::jsonb) AS p)",
                &[Some(&partners)],
            )?;
            self.exec(
                "INSERT INTO xmppfed_partners (identity, revision, partner)
                 SELECT p->>'Identity', $2::bigint, p FROM jsonb_array_elements($1::jsonb) AS p
                 ON CONFLICT (identity) DO UPDATE SET revision = excluded.revision, partner = excluded.partner",
                &[Some(&partners), Some(&seq_text)],
            )?;
            self.exec(
                "INSERT INTO xmppfed_domains (domain, identity)
                 SELECT d, p->>'Identity' FROM jsonb_array_elements($1::jsonb) AS p,
                 jsonb_array_elements_text(jsonb_build_array(p->'Identity') || (p->'AdditionalDomains')) AS d",
                &[Some(&partners)],
            )?;
        }
        self.exec("UPDATE xmppfed_head SET seq = $1::bigint", &[Some(&seq_text)])?;
        let keep = self.retained_commits.to_string();
        self.exec("DELETE FROM xmppfed_log WHERE seq <= $1::bigint - $2::bigint", &[Some(&seq_text), Some(&keep)])?;
        Ok((Some(record), value))
    }

    /// Upgrade an older schema to [`SCHEMA_VERSION`]: version 1 has every table version 2 has, so
    /// marking it is the whole upgrade (and older libraries then refuse it).
    fn upgrade_schema(&mut self) -> Result<()> {
        let version = SCHEMA_VERSION.to_string();
        self.exec("UPDATE xmppfed_meta SET schema_version = $1::integer", &[Some(&version)])?;
        self.schema_version = SCHEMA_VERSION;
        Ok(())
    }

    /// Every change the database still holds (see [`crate::history`]), oldest first.
    pub fn history(&mut self) -> Result<Vec<crate::history::HistoryEntry>> {
        self.refresh()?;
        let rows = self.exec("SELECT change::text FROM xmppfed_log ORDER BY seq", &[])?;
        let mut entries = Vec::new();
        for i in 0..rows.len() {
            entries.extend(log::parse_history(&self.display, rows.get(i, 0).unwrap_or("").as_bytes())?);
        }
        Ok(entries)
    }

    /// Create the schema, or check that it is current, explicitly (for DBAs who grant admins no
    /// DDL rights: run once by a user who has them); with `apply` false, only say what would be
    /// done. A newer schema is refused; a current one is read whole (its identity and revision
    /// checked as at every connection). Schema version 1 is the first: nothing to upgrade yet.
    pub fn initialize(&mut self, apply: bool) -> Result<(super::InitializeAction, u64)> {
        match self.found_schema_version()? {
            Some(found) if found > SCHEMA_VERSION => {
                Err(Error::StoreVersion { path: self.display.clone(), what: "schema", found, supported: SCHEMA_VERSION })
            }
            Some(found) if found < SCHEMA_VERSION => {
                if apply {
                    self.upgrade_schema()?;
                    self.refresh()?;
                }
                Ok((super::InitializeAction::Upgraded, SCHEMA_VERSION))
            }
            Some(found) => {
                self.refresh()?;
                Ok((super::InitializeAction::Current, found))
            }
            None => {
                if apply {
                    let display = self.display.clone();
                    create_schema_on(self.conn.as_mut().expect("connected above"), &display)?;
                    self.refresh()?;
                }
                Ok((super::InitializeAction::Created, SCHEMA_VERSION))
            }
        }
    }
}

/// Create schema version 1 in one transaction, serialised with other clients doing the same.
fn create_schema_on(conn: &mut Conn, display: &PathBuf) -> Result<()> {
    let run = |conn: &mut Conn, sql: &str, params: &[Option<&str>]| conn.exec(sql, params).map(drop).map_err(|e| schema_error(display, e));
    run(conn, "BEGIN", &[])?;
    let result = (|| {
        run(conn, &format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"), &[])?;
        for sql in CREATE_SCHEMA {
            run(conn, sql, &[])?;
        }
        let id = log::new_store_id()?;
        let version = SCHEMA_VERSION.to_string();
        run(conn, "INSERT INTO xmppfed_meta (schema_version, store_id) VALUES ($1::integer, $2) ON CONFLICT DO NOTHING", &[Some(&version), Some(&id)])?;
        run(conn, "COMMIT", &[])
    })();
    if result.is_err() {
        let _ = conn.exec("ROLLBACK", &[]);
    }
    result
}

/// The command that creates the schema, for messages.
const INITIALIZE: &str = "Initialize-CsXmppAllowedPartnerStore (xmppfed_store_initialize)";

fn schema_error(display: &PathBuf, e: PqError) -> Error {
    if e.sqlstate.as_deref() == Some("42501") {
        // Named as a store that cannot be used yet (StoreIo, like a store folder that is not
        // there), with who can fix it and how.
        return Error::io(
            display.clone(),
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("the database has no xmppfed schema yet, and this user may not create it ({}): a user with CREATE rights on the database runs {INITIALIZE} once, then grants this user SELECT, INSERT, UPDATE and DELETE on the xmppfed_* tables", e.message),
            ),
        );
    }
    db_error(display, e)
}

/// A database error as the library's error: the store location without secrets, libpq's message
/// (scrubbed), its SQLSTATE, and for a lost connection what happens next.
pub fn db_error(display: &PathBuf, e: PqError) -> Error {
    let code = e.sqlstate.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
    let next = if e.connection_lost { " (no connection to the PostgreSQL server; the next call connects again; -LocalStore reads this machine's replica)" } else { "" };
    Error::io(display.clone(), std::io::Error::new(std::io::ErrorKind::Other, format!("{}{code}{next}", e.message)))
}

fn parse_seq(display: &PathBuf, value: Option<&str>) -> Result<u64> {
    value.and_then(|v| v.parse().ok()).ok_or_else(|| Error::corrupt(display, "the head row (xmppfed_head) is missing or not a number"))
}
