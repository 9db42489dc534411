//! The durable store: a central store folder (possibly shared by several machines) and a
//! machine-local replica of it, after Lync's Central Management store and its local copies.
//!
//! Central folder: `partners.<generation>.log` (see [`log`]) and the lock holder's note
//! `partners.lock` (see [`lock`]). Every change takes the folder's lock (bounded wait), catches up
//! with what other processes committed, checks its rules against that state, appends one line and
//! fsyncs it, releases the lock, then refreshes the replica. Reads take no lock. Every file is
//! opened under the rules of [`files`] and read only from folders that [`trust`] accepts.

mod files;
mod history;
mod lock;
pub mod log;
pub mod network_fs;
mod paths;
#[cfg(target_os = "linux")]
mod poll_ring;
#[cfg(feature = "postgres")]
mod postgres;
/// The libpq wrapper, public only for the PostgreSQL benchmark's floor (the same client running
/// a bare statement); not part of the library's interface.
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod pq;
mod replica;
pub(crate) mod state;
mod sys;
mod trust;
mod view;
#[cfg(target_os = "linux")]
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{canonical_domain, NewPartner, Partner, PartnerChanges};
use crate::negotiation::Warning;
use crate::wildcard::WildcardPattern;
use crate::history::{HistoryQuery, HistoryView, Operation};
use crate::transfer::{Format, ImportInput, ImportOptions, ImportPlan};
use log::{Change, Commit, CommitDetails, Record};
use trust::Role;
use view::LogView;

pub use paths::{default_central_dir, default_replica_dir, Environment, ENV_LOCK_TIMEOUT_MS, ENV_NAMES, ENV_REPLICA, ENV_STORE};

/// How long a writer waits for another process's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to read from: the central store or this machine's replica of it (`-LocalStore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Central,
    LocalReplica,
}

#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// The central store folder; default: `$XMPPFED_STORE`, else a per-user data folder.
    pub central: Option<PathBuf>,
    /// The replica folder; default: `$XMPPFED_REPLICA`, else a per-user local folder keyed by the
    /// central path.
    pub replica: Option<PathBuf>,
    /// Longest wait for another writer's lock; default `$XMPPFED_LOCK_TIMEOUT_MS`, else 10 s.
    pub lock_timeout: Option<Duration>,
    /// Where the `XMPPFED_*` defaults above are read (default: the process environment).
    pub environment: Environment,
}

/// A change to the store, to commit ([`Store::write`]) or to preview ([`Store::preview`]).
#[derive(Debug, Clone)]
pub enum Write {
    /// New: create a partner; an existing identity or a claimed domain is an error.
    Create(NewPartner),
    /// Set -Identity: apply a change set to the partner as it is in the store now.
    Set { identity: String, changes: PartnerChanges },
    /// Set -Instance: write a whole object, with `changes` (Set's property parameters) applied to
    /// it first. One never stored (revision 0, from New -InMemory) is created; one read from the
    /// store is refused if the store has changed it since, unless `force`.
    SetInstance { instance: Partner, changes: PartnerChanges, force: bool },
    /// Remove: the outcome holds the partner as it was.
    Remove(String),
}

/// A written partner and what the rules had to say about it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Outcome {
    pub partner: Partner,
    pub warnings: Vec<Warning>,
}

/// The central store: a folder's log, or a PostgreSQL database. The rules (`Store::decision`,
/// `State`) are the same for both; only reading the committed records and appending one differ.
enum Central {
    Folder(LogView),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::PgCentral>),
}

impl Central {
    /// What this handle has seen of the store (see `view::Known`).
    fn known(&self) -> Option<&view::Known> {
        match self {
            Central::Folder(v) => v.known.as_ref(),
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => pg.known.as_ref(),
        }
    }

    fn set_known(&mut self, known: Option<view::Known>) {
        match self {
            Central::Folder(v) => v.known = known,
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => pg.known = known,
        }
    }

    /// The store's header as last read (`None`: never written to, or not read yet).
    fn header(&self) -> Option<log::Header> {
        match self {
            Central::Folder(v) => v.header().cloned(),
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => pg.header().filter(|h| h.seq > 0),
        }
    }
}

pub struct Store {
    central_dir: PathBuf,
    replica_dir: PathBuf,
    central: Central,
    replica: LogView,
    lock_timeout: Duration,
    /// How this process last left the replica file (see `replica::Witness`); `None` makes the
    /// next refresh verify the whole replica.
    replica_witness: Option<replica::Witness>,
    /// The writer locks of the central and the replica folder, kept between commits (see
    /// [`lock::FolderLock`]).
    central_lock: lock::FolderLock,
    replica_lock: lock::FolderLock,
    /// Whether the last read of the central store succeeded.
    central_read: bool,
    /// A file system type (Linux `statfs` magic) to assume for the central folder instead of the
    /// real one: tests of the network file system warning (no NFS can be mounted in a test).
    assumed_fs_type: Option<i64>,
    /// The central folder's device and inode, and the network file system it is on (`None`: a
    /// local one), so that a commit asks `statfs` only when the folder changed (see
    /// `network_fs_warning`).
    #[cfg(unix)]
    fs_of_folder: Option<((u64, u64), Option<&'static str>)>,
}

impl Store {
    pub fn open(options: StoreOptions) -> Result<Store> {
        let env = &options.environment;
        // Settings are checked before the default folder is created: a typo creates nothing.
        let lock_timeout = match options.lock_timeout {
            Some(t) => t,
            None => paths::lock_timeout_from_env(env)?.unwrap_or(DEFAULT_LOCK_TIMEOUT),
        };
        let (central, central_dir) = match paths::central_location(options.central, env)? {
            paths::Location::Folder(dir) => (Central::Folder(LogView::central(dir.clone())), dir),
            #[cfg(feature = "postgres")]
            paths::Location::Database(conninfo) => {
                let pg = postgres::PgCentral::new(&conninfo, lock_timeout)?;
                let display = pg.display.clone();
                (Central::Postgres(Box::new(pg)), display)
            }
            #[cfg(not(feature = "postgres"))]
            paths::Location::Database(_) => {
                return Err(Error::NoStoreLocation(
                    "the store location is a PostgreSQL connection string, but this build has no PostgreSQL support (use a folder, or a build with the 'postgres' feature)".into(),
                ))
            }
        };
        let replica_dir = paths::replica_dir(options.replica, &central_dir, env)?;
        let mut store = Store {
            central,
            replica: LogView::replica(replica_dir.clone()),
            central_dir,
            replica_dir,
            lock_timeout,
            replica_witness: None,
            central_lock: lock::FolderLock::default(),
            replica_lock: lock::FolderLock::default(),
            central_read: false,
            assumed_fs_type: None,
            #[cfg(unix)]
            fs_of_folder: None,
        };
        // What this machine has already seen of the store, from its replica: the central store
        // must be that store, at least that far (a rolled-back or replaced central store is
        // refused). A replica that cannot be read now knows nothing; it is repaired later.
        if store.view(Source::LocalReplica).is_ok() {
            store.central.set_known(store.replica.known.clone());
        }
        // Nothing about the central store is fatal here: the local replica is meant for exactly
        // the times it is unreachable or damaged, and central operations report the problem.
        let _ = store.read_at_open();
        Ok(store)
    }

    /// The first read of the central store. A database without the schema is left as it is (an
    /// empty store, created at the first operation): opening creates nothing, so that
    /// [`Store::initialize`]'s preview (`-WhatIf`) finds the database as it was.
    fn read_at_open(&mut self) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Central::Postgres(pg) = &mut self.central {
            let result = pg.refresh_if_initialized();
            self.central_read = result.is_ok();
            return result;
        }
        self.read(Source::Central).map(drop)
    }

    pub fn central_dir(&self) -> &Path {
        &self.central_dir
    }

    pub fn replica_dir(&self) -> &Path {
        &self.replica_dir
    }

    /// New -InMemory: the object New would create, validated, without touching the store.
    pub fn build(request: NewPartner) -> Result<Outcome> {
        let (partner, warnings) = request.build()?;
        Ok(Outcome { partner, warnings })
    }

    /// New: create a partner (see [`Write::Create`]).
    pub fn create(&mut self, request: NewPartner) -> Result<Outcome> {
        self.write(Write::Create(request))
    }

    /// Set -Identity (see [`Write::Set`]).
    pub fn set(&mut self, identity: &str, changes: PartnerChanges) -> Result<Outcome> {
        self.write(Write::Set { identity: identity.to_owned(), changes })
    }

    /// Set -Instance without property changes (see [`Write::SetInstance`]).
    pub fn set_instance(&mut self, instance: Partner, force: bool) -> Result<Outcome> {
        self.write(Write::SetInstance { instance, changes: PartnerChanges::default(), force })
    }

    /// Remove (see [`Write::Remove`]).
    pub fn remove(&mut self, identity: &str) -> Result<Outcome> {
        self.write(Write::Remove(identity.to_owned()))
    }

    /// Commit a change: durable when this returns.
    pub fn write(&mut self, change: Write) -> Result<Outcome> {
        let decide = Self::decision(change)?;
        self.commit(decide)
    }

    /// Import-CsXmppAllowedPartner: the difference between `text` (JSON or CSV, see
    /// [`crate::transfer`]) and the central store, applied as one commit when `apply` (all of it
    /// or nothing: refused while any item is rejected, or if the store is no longer at
    /// `ExpectedRevision`). Without `apply` nothing is written (`-WhatIf`).
    pub fn import(&mut self, text: &str, options: ImportOptions, apply: bool) -> Result<ImportPlan> {
        let input = ImportInput::read(text, options)?;
        if !apply {
            let state = self.read(Source::Central)?;
            return Ok(input.plan(state, state.seq.saturating_add(1)));
        }
        self.commit(Box::new(move |state: &state::State, seq| {
            if let Some(expected) = input.options.expected_revision {
                if state.seq != expected {
                    return Err(Error::StoreChanged { expected, actual: state.seq });
                }
            }
            let plan = input.plan(state, seq);
            if let Some(first) = plan.rejected.first() {
                return Err(Error::ImportRejected {
                    count: plan.rejected.len(),
                    first: format!("at position {}: {}", first.position, first.reason),
                });
            }
            let mut changes = Vec::with_capacity(plan.change_count());
            changes.extend(plan.removed.iter().map(|p| (Change::Remove(p.identity.clone()), Some(p.clone()))));
            changes.extend(plan.changed.iter().map(|c| (Change::Put(c.after.clone()), Some(c.before.clone()))));
            changes.extend(plan.added.iter().map(|p| (Change::Put(p.clone()), None)));
            let mut plan = plan;
            if !changes.is_empty() {
                plan.committed_revision = Some(seq);
            }
            Ok(Decided { changes, operation: Operation::Import, value: plan })
        }))
    }

    /// Export-CsXmppAllowedPartner: every partner (or those matching `filter`) as text.
    pub fn export(&mut self, filter: Option<&str>, format: Format, source: Source) -> Result<String> {
        self.list_with(filter, source, |partners| crate::transfer::export(partners, format))
    }

    /// Get-CsXmppAllowedPartnerHistory: the changes the central store still holds (see
    /// [`crate::history`]), filtered, newest first.
    pub fn history(&mut self, query: &HistoryQuery) -> Result<Vec<HistoryView>> {
        let filter = query.filter()?;
        #[cfg(feature = "postgres")]
        if let Central::Postgres(pg) = &mut self.central {
            let entries = pg.history();
            self.central_read = entries.is_ok();
            return Ok(crate::history::view(entries?, &filter));
        }
        self.read(Source::Central)?;
        let sharing = trust::check_folder(&self.central_dir, Role::Central)?;
        let entries = match &mut self.central {
            Central::Folder(view) => view.history(sharing)?,
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => unreachable!("a database returned above"),
        };
        Ok(crate::history::view(entries, &filter))
    }

    /// What [`Store::write`] would do now, decided by the same rules against the central store's
    /// current state, without writing anything (`-WhatIf`, and the check before `-Confirm` asks).
    /// A later write decides again: the store may change in between.
    pub fn preview(&mut self, change: Write) -> Result<Outcome> {
        let decide = Self::decision(change)?;
        let state = self.read(Source::Central)?;
        let seq = state.seq.saturating_add(1);
        decide(state, seq).map(|decided| decided.value)
    }

    /// The rules of one change as a decision against a state, shared by `write` and `preview`.
    /// What needs no state (the shape and validity of the input) is checked before any I/O.
    fn decision(change: Write) -> Result<Box<Decision<Outcome>>> {
        Ok(match change {
            Write::Create(request) => {
                let (partner, warnings) = request.build()?;
                Box::new(move |state, seq| {
                    if state.partners.contains_key(&partner.identity) {
                        return Err(Error::AlreadyExists(partner.identity.clone()));
                    }
                    put(state, seq, partner, warnings, Operation::Create)
                })
            }
            Write::Set { identity, changes } => {
                let identity = canonical_domain("Identity", &identity)?;
                changes.check_form()?;
                Box::new(move |state, seq| {
                    let mut partner = state.partners.get(&identity).cloned().ok_or_else(|| Error::NotFound(identity.clone()))?;
                    let warnings = changes.apply_to(&mut partner)?;
                    put(state, seq, partner, warnings, Operation::Set)
                })
            }
            Write::SetInstance { mut instance, changes, force } => {
                instance.normalize()?;
                let warnings = changes.apply_to(&mut instance)?;
                Box::new(move |state, seq| {
                    let p = &instance;
                    let operation = if state.partners.contains_key(&p.identity) { Operation::Set } else { Operation::Create };
                    match (state.partners.get(&p.identity), p.revision) {
                        (None, 0) => {}
                        (Some(_), 0) if !force => return Err(Error::AlreadyExists(p.identity.clone())),
                        (None, _) if !force => return Err(Error::NotFound(p.identity.clone())),
                        (Some(current), read_at) if !force && current.revision != read_at => {
                            return Err(Error::StaleInstance { identity: p.identity.clone(), expected: read_at, actual: current.revision })
                        }
                        _ => {}
                    }
                    put(state, seq, instance, warnings, operation)
                })
            }
            Write::Remove(identity) => {
                let identity = canonical_domain("Identity", &identity)?;
                Box::new(move |state, _| {
                    let partner = state.partners.get(&identity).cloned().ok_or_else(|| Error::NotFound(identity.clone()))?;
                    Ok(Decided {
                        changes: vec![(Change::Remove(identity), Some(partner.clone()))],
                        operation: Operation::Remove,
                        value: Outcome { partner, warnings: Vec::new() },
                    })
                })
            }
        })
    }

    /// Get -Identity.
    pub fn get(&mut self, identity: &str, source: Source) -> Result<Partner> {
        self.get_with(identity, source, Partner::clone)
    }

    /// [`Store::get`] handed to `visit` in place, without a copy: for callers that only encode it.
    pub fn get_with<R>(&mut self, identity: &str, source: Source, visit: impl FnOnce(&Partner) -> R) -> Result<R> {
        let identity = canonical_domain("Identity", identity)?;
        let state = self.read(source)?;
        state.partners.get(&identity).map(visit).ok_or(Error::NotFound(identity))
    }

    /// Test-CsXmppAllowedPartner: what the list says about a remote domain (see [`crate::explain`]).
    /// The domain is validated before anything is read.
    pub fn explain(&mut self, domain: &str, source: Source) -> Result<crate::explain::Explanation> {
        let canonical = crate::explain::canonical_input(domain)?;
        let state = self.read(source)?;
        Ok(crate::explain::explain(domain, canonical, state))
    }

    /// Get -Filter (PowerShell wildcards on Identity) or, with no filter, every partner; sorted by
    /// identity.
    pub fn list(&mut self, filter: Option<&str>, source: Source) -> Result<Vec<Partner>> {
        self.list_with(filter, source, |partners| partners.cloned().collect())
    }

    /// [`Store::list`] handed to `visit` in place, without a copy of every partner: for callers
    /// that only encode the list (the C ABI's list and Export), which at 100,000 partners would
    /// otherwise copy tens of megabytes first.
    pub fn list_with<R>(&mut self, filter: Option<&str>, source: Source, visit: impl FnOnce(&mut dyn Iterator<Item = &Partner>) -> R) -> Result<R> {
        self.list_shared_with(filter, source, |partners| visit(&mut partners.map(|p| &**p)))
    }

    /// [`Store::list`] as the store's own shared partners: a snapshot the caller reads at its own
    /// pace (the C ABI's pages), which commits made meanwhile do not change, for the cost of
    /// one reference per partner instead of a copy.
    pub fn list_shared(&mut self, filter: Option<&str>, source: Source) -> Result<Vec<Arc<Partner>>> {
        self.list_shared_with(filter, source, |partners| partners.cloned().collect())
    }

    fn list_shared_with<R>(&mut self, filter: Option<&str>, source: Source, visit: impl FnOnce(&mut dyn Iterator<Item = &Arc<Partner>>) -> R) -> Result<R> {
        let pattern = filter
            .map(|f| WildcardPattern::parse(f).map_err(|problem| Error::InvalidFilter { pattern: f.to_owned(), problem }))
            .transpose()?;
        let state = self.read(source)?;
        let mut partners = state.partners.matching(pattern.as_ref());
        Ok(visit(&mut partners))
    }

    /// This machine's view of the store and its replica (Get-CsXmppAllowedPartnerReplicationStatus):
    /// a central store that cannot be read is reported in the status, not as an error.
    pub fn status(&mut self) -> ReplicationStatus {
        let central = self.read(Source::Central).map(|s| s.seq).map(|seq| (self.central.header(), seq));
        let replica = self.view(Source::LocalReplica).map(|v| (v.header().cloned(), v.state.seq, v.modified()));
        let (central_header, central_revision, central_error) = match central {
            Ok((h, seq)) => (h, Some(seq), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        let (replica_header, replica_revision, replica_updated, replica_error) = match replica {
            Ok((h, seq, modified)) => (h.clone(), h.map(|_| seq), modified.map(utc_text), None),
            Err(e) => (None, None, None, Some(e.to_string())),
        };
        let is_current = central_error.is_none()
            && replica_error.is_none()
            && central_revision == replica_revision.or(Some(0))
            && central_header.as_ref().map(|h| (&h.store_id, h.generation)) == replica_header.as_ref().map(|h| (&h.store_id, h.generation));
        ReplicationStatus {
            central_store: self.central_dir.to_string_lossy().into_owned(),
            replica: self.replica_dir.to_string_lossy().into_owned(),
            store_id: central_header.as_ref().or(replica_header.as_ref()).and_then(|h| h.store_id.clone()),
            central_revision,
            replica_revision,
            replica_updated,
            is_current,
            central_error,
            replica_error,
        }
    }

    /// The identities that begin with `prefix` (case-insensitively), sorted, at most `max`: a
    /// range lookup in the sorted map, so completing a name costs the same with 100,000 partners.
    pub fn identities_starting_with(&mut self, prefix: &str, max: usize, source: Source) -> Result<Vec<String>> {
        let prefix = prefix.to_lowercase();
        let state = self.read(source)?;
        Ok(state
            .partners
            .identities_from(&prefix)
            .take_while(|identity| identity.starts_with(&prefix))
            .take(max)
            .map(str::to_owned)
            .collect())
    }

    /// Refresh the local replica from the central store now, verifying all of it.
    pub fn replicate(&mut self) -> Result<()> {
        self.replica_witness = None;
        // Read the central store whole again, every checksum: an explicit refresh must never copy
        // a central file that was damaged after this handle read it over the only good copy.
        match &mut self.central {
            Central::Folder(v) => v.forget(),
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => pg.forget(),
        }
        self.read(Source::Central)?;
        self.mirror()
    }

    /// Copy what the central view has read to the replica, under the replica folder's own lock
    /// (never while holding the central lock: a stuck replica must not stall other writers).
    fn mirror(&mut self) -> Result<()> {
        // One `stat` serves the folder's existence and its trust check.
        let folder = match files::folder_metadata(&self.replica_dir) {
            Some(meta) => meta,
            None => {
                paths::ensure_dir(&self.replica_dir)?;
                std::fs::metadata(&self.replica_dir).map_err(|e| Error::io(&self.replica_dir, e))?
            }
        };
        let Some(header) = self.central.header() else {
            return Ok(()); // a store nobody has written to yet: an empty replica folder says so
        };
        let sharing = trust::check_folder_metadata(&self.replica_dir, &folder, Role::Replica)?;
        let mut guard = self.replica_lock.lock(&self.replica_dir, &folder, self.lock_timeout, sharing.file_mode())?;
        // The folder's stamp under its lock, for the note and `replica::newest_copy` (Windows: none).
        let stamp = guard.folder_metadata().and_then(|(meta, asked_at)| self.replica.settled_stamp(meta, asked_at));
        guard.leave_note(&self.replica_dir, sharing.file_mode(), stamp);
        let central = match &mut self.central {
            Central::Folder(v) => v,
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => {
                // Caught up under the replica's lock: of two processes of this machine, the one
                // that writes last writes the later state, so the replica never goes back.
                pg.refresh()?;
                let header = pg.header().expect("read above");
                let state = pg.state().expect("read above");
                let result = replica::write_records(&self.replica_dir, stamp, &header, state, pg.unmirrored.as_deref(), &mut self.replica_witness);
                pg.unmirrored = Some(Vec::new());
                if result.is_err() {
                    self.replica_witness = None;
                }
                return result;
            }
        };
        let (source, path, len) = central.source().expect("a central store with a header has a file");
        let path = path.to_owned();
        replica::mirror(
            source,
            &path,
            len,
            header.generation,
            header.store_id.as_deref(),
            &self.replica_dir,
            stamp,
            &mut self.replica_witness,
        )
    }

    /// The state of `source`, brought up to date.
    fn read(&mut self, source: Source) -> Result<&state::State> {
        #[cfg(feature = "postgres")]
        if let (Source::Central, Central::Postgres(pg)) = (source, &mut self.central) {
            let result = pg.refresh();
            self.central_read = result.is_ok();
            result?;
            let Central::Postgres(pg) = &self.central else { unreachable!() };
            return Ok(pg.state().expect("read above"));
        }
        Ok(&self.view(source)?.state)
    }

    fn view(&mut self, source: Source) -> Result<&mut LogView> {
        // Nothing to ask the file system when the central view's watch vouches for it.
        let unchanged = match &mut self.central {
            Central::Folder(central) => source == Source::Central && central.unchanged(),
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => false,
        };
        if unchanged {
            self.central_read = true;
            return match &mut self.central {
                Central::Folder(central) => Ok(central),
                #[cfg(feature = "postgres")]
                Central::Postgres(_) => unreachable!("a database has no watch"),
            };
        }
        let (view, role) = match (source, &mut self.central) {
            (Source::Central, Central::Folder(central)) => (central, Role::Central),
            #[cfg(feature = "postgres")]
            (Source::Central, Central::Postgres(_)) => unreachable!("a database is read through Store::read"),
            (Source::LocalReplica, _) => (&mut self.replica, Role::Replica),
        };
        view.before_check();
        // One `stat` of the folder serves the existence check, the trust check and the refresh.
        let asked_at = std::time::SystemTime::now();
        let folder = match source {
            Source::Central => files::require_folder(&view.dir)?,
            Source::LocalReplica => files::folder_metadata(&view.dir).ok_or_else(|| Error::NoReplica { path: view.dir.clone() })?,
        };
        let sharing = trust::check_folder_metadata(&view.dir, &folder, role)?;
        let stamp = view.settled_stamp(&folder, asked_at);
        let refreshed = view.refresh(sharing, stamp);
        if source == Source::Central {
            self.central_read = refreshed.is_ok();
        }
        refreshed?;
        view.after_check();
        if source == Source::LocalReplica {
            // A replica folder without a copy is "no replica yet", not an empty list, unless this
            // handle has read the central store and found it empty too.
            let central_empty = self.central.header().is_none() && self.central.known().map_or(true, |k| k.seq == 0) && self.central_read;
            if self.replica.header().is_none() && !central_empty {
                return Err(Error::NoReplica { path: self.replica_dir.clone() });
            }
            // Two stores configured with one replica folder: never serve the other's partners.
            let seen = self.central.known().and_then(|k| k.store_id.as_ref());
            let copy = self.replica.header().and_then(|h| h.store_id.as_ref());
            if let (Some(seen), Some(copy)) = (seen, copy) {
                if seen != copy {
                    return Err(Error::StoreMismatch {
                        path: self.replica_dir.clone(),
                        problem: format!("is a replica of store {copy}, but this store is {seen}: two stores are configured with one replica folder"),
                        fix: "Give each store its own replica folder (XMPPFED_REPLICA).".into(),
                    });
                }
            }
            return Ok(&mut self.replica);
        }
        match &mut self.central {
            Central::Folder(v) => Ok(v),
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => unreachable!("a database is read through Store::read"),
        }
    }

    /// The one way to change the store: under the lock, decide against the current state, append
    /// the change durably, compact if the log has grown, refresh the replica.
    fn commit<T: Committed>(&mut self, decide: Box<Decision<T>>) -> Result<T> {
        #[cfg(feature = "postgres")]
        if let Central::Postgres(pg) = &mut self.central {
            let (mut result, wrote) = pg.commit(decide)?;
            if wrote {
                self.refresh_replica_after_commit(result.warnings_mut());
            }
            return Ok(result);
        }
        // Named before anything inside it, which would otherwise be what the error names.
        let folder = files::require_folder(&self.central_dir)?;
        let sharing = trust::check_folder_metadata(&self.central_dir, &folder, Role::Central)?;
        let network_fs = self.network_fs_warning(Some(&folder));
        let central = match &mut self.central {
            Central::Folder(v) => v,
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => unreachable!("a database commits above"),
        };
        // On Windows the lock is a file in the folder, created by taking it: a folder that lost
        // the store this handle has seen (an unmounted share's empty mount point) must get nothing,
        // so that is reported before the lock is taken. (On Unix the lock is the folder itself.)
        #[cfg(windows)]
        if central.known.is_some() && log::current_file(&self.central_dir)?.is_none() {
            central.refresh(sharing, None)?;
        }
        let mut guard = self.central_lock.lock(&self.central_dir, &folder, self.lock_timeout, sharing.file_mode())?;
        let stamp = guard.folder_metadata().and_then(|(meta, asked_at)| central.settled_stamp(meta, asked_at));
        central.prepare_for_append(sharing, stamp)?;
        guard.leave_note(&self.central_dir, sharing.file_mode(), stamp);
        // Only an edited file can hold the last number; wrapping to 0 would mean "never stored".
        let seq = central.state.seq.checked_add(1).ok_or_else(|| {
            Error::corrupt(central.path(), "the commit counter (Seq) is at its maximum; the file was not written by this library")
        })?;
        let Decided { changes, operation, value: mut result } = decide(&central.state, seq)?;
        if changes.is_empty() {
            return Ok(result);
        }
        // On a network file system the log is opened again for every commit: the open makes the
        // client revalidate what it cached of the file (close-to-open consistency), which the
        // length check before the append relies on. Windows: see `LogView::append`.
        central.append(record(seq, changes, operation), cfg!(unix) && network_fs.is_none())?;
        // The change is durable from here on; what follows must not report it as failed.
        let state = &central.state;
        if state.records > 2 * state.partners.len() as u64 + 1000 {
            if let Err(e) = central.compact(sharing) {
                result.warnings_mut().push(Warning { id: "CompactionFailed", message: format!("the store log could not be compacted: {e}") });
            }
        }
        drop(guard);
        // A folder on a network file system is opened again for every commit: the server may
        // give a deleted folder's number to a new one, which a kept handle would not notice.
        if network_fs.is_some() {
            self.central_lock.forget();
        }
        result.warnings_mut().extend(network_fs);
        self.refresh_replica_after_commit(result.warnings_mut());
        Ok(result)
    }

    /// The warning for a central folder on a network file system (see [`network_fs`]). With the
    /// folder's metadata (`folder`), the file system is looked up again only when the folder
    /// changed (its device and inode: a share mounted over it), and a lookup that failed is not
    /// remembered: every commit gives the warning, not a `statfs`.
    fn network_fs_warning(&mut self, folder: Option<&std::fs::Metadata>) -> Option<Warning> {
        let kind = match self.assumed_fs_type {
            Some(f_type) => network_fs::linux_network_fs(f_type),
            None => self.network_fs_kind(folder),
        };
        kind.map(|kind| network_fs::warning(&self.central_dir, kind))
    }

    fn network_fs_kind(&mut self, folder: Option<&std::fs::Metadata>) -> Option<&'static str> {
        #[cfg(unix)]
        if let Some(folder) = folder {
            use std::os::unix::fs::MetadataExt;
            let key = (folder.dev(), folder.ino());
            if let Some((known, kind)) = self.fs_of_folder {
                if known == key {
                    return kind;
                }
            }
            let found = network_fs::lookup(&self.central_dir);
            if let Some(kind) = found {
                self.fs_of_folder = Some((key, kind));
            }
            return found.flatten();
        }
        let _ = folder;
        network_fs::network_fs_of(&self.central_dir)
    }

    /// Tests only: keep the history of the newest `commits` commits instead of
    /// [`RETAINED_COMMITS`](crate::history::RETAINED_COMMITS), so that the bound can be tested
    /// without ten thousand commits.
    #[doc(hidden)]
    pub fn retain_history_commits(&mut self, commits: u64) {
        match &mut self.central {
            Central::Folder(v) => v.retained_commits = commits,
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => pg.retained_commits = commits,
        }
    }

    /// Tests only: how long a folder must have been left alone before a refresh trusts its time
    /// stamps (see `view::FolderStamp`), for the central and the replica folder, so that the
    /// cheap refresh can be tested without waiting seconds.
    #[doc(hidden)]
    pub fn settle_folders_after(&mut self, settle: std::time::Duration) {
        match &mut self.central {
            Central::Folder(v) => v.settle = settle,
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => {}
        }
        self.replica.settle = settle;
    }

    /// Tests only: whether central reads may rely on a watch (Linux, see `watch`), so that the
    /// refresh by the folder's time stamps can be tested on its own.
    #[doc(hidden)]
    pub fn watch_central_reads(&mut self, on: bool) {
        match &mut self.central {
            Central::Folder(v) => v.watch_reads = on,
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => {}
        }
    }

    /// Tests only: whether the central view's watch vouches for its state now, so that a test of
    /// the watch can tell that its reads rely on it.
    #[doc(hidden)]
    pub fn central_reads_watched(&self) -> bool {
        matches!(&self.central, Central::Folder(v) if v.watched())
    }

    /// Tests only: how many reads of the central store its watch vouched for with no system call
    /// at all (see `poll_ring`), since the watch was set.
    #[doc(hidden)]
    pub fn central_unasked_reads(&self) -> u64 {
        match &self.central {
            Central::Folder(v) => v.unasked_reads(),
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => 0,
        }
    }

    /// Tests only: assume the central folder is on the file system of Linux `statfs` type
    /// `f_type` (e.g. NFS, 0x6969), whatever it really is on.
    #[doc(hidden)]
    pub fn assume_file_system_type(&mut self, f_type: i64) {
        self.assumed_fs_type = Some(f_type);
    }

    /// After a commit: the change is durable; a replica that cannot be refreshed is a warning.
    fn refresh_replica_after_commit(&mut self, warnings: &mut Vec<Warning>) {
        if let Err(e) = self.mirror() {
            warnings.push(Warning {
                id: "ReplicaNotRefreshed",
                message: format!("the change is committed, but the local replica was not refreshed: {e}"),
            });
        }
    }

    /// Initialize-CsXmppAllowedPartnerStore: create the central store explicitly, or check that
    /// it is current and usable, for admins and DBAs who set a store up once before anyone uses
    /// it (a database whose admins have no DDL rights needs this; everywhere else the first
    /// operation does it). With `apply` false nothing is created: the result says what would be
    /// done (`-WhatIf`).
    ///
    /// - PostgreSQL: creates the schema (tables and the store's identity) in a database that has
    ///   none; a current schema is read whole (identity and revision checked); a newer schema is
    ///   refused (`StoreVersion`).
    /// - A folder: creates the folder (and missing parents; private, `0700`) if it does not
    ///   exist, unless this machine's replica has seen a store there (an unmounted share: refused
    ///   with `StoreMismatch`, nothing created); an existing folder is read whole as every read
    ///   does (trust, damage, format version, identity). The log file itself is written by the
    ///   first change. A folder on a network file system gets the same warning as a commit there.
    pub fn initialize(&mut self, apply: bool) -> Result<Initialization> {
        let (action, version) = match &mut self.central {
            #[cfg(feature = "postgres")]
            Central::Postgres(pg) => {
                let done = pg.initialize(apply);
                self.central_read = done.is_ok();
                done?
            }
            Central::Folder(_) => {
                let dir = self.central_dir.clone();
                let action = if dir.is_dir() {
                    InitializeAction::Current
                } else {
                    if let Some(seen) = self.central.known().filter(|k| k.store_id.is_some() || k.seq > 0) {
                        return Err(Error::StoreMismatch {
                            path: dir,
                            problem: format!(
                                "does not exist, but this machine's replica holds store {} at revision {} from it (a share that is not mounted?)",
                                seen.store_id.as_deref().unwrap_or("(format 1)"),
                                seen.seq
                            ),
                            fix: "Mount the share or correct XMPPFED_STORE; to start a new store there, delete this machine's replica folder first. Nothing was created.".into(),
                        });
                    }
                    if apply {
                        files::create_dir_private(&dir)?;
                    }
                    InitializeAction::Created
                };
                if dir.is_dir() {
                    self.read(Source::Central)?;
                }
                (action, log::FORMAT_VERSION)
            }
        };
        let kind = match self.central {
            Central::Folder(_) => "Folder",
            #[cfg(feature = "postgres")]
            Central::Postgres(_) => "PostgreSQL",
        };
        let warnings = match self.central {
            Central::Folder(_) if self.central_dir.is_dir() => self.network_fs_warning(None).into_iter().collect(),
            _ => Vec::new(),
        };
        Ok(Initialization { central_store: self.central_dir.to_string_lossy().into_owned(), kind, action, version, warnings })
    }
}

/// What [`Store::initialize`] did (or, previewed, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum InitializeAction {
    /// The store was created: a database's schema, or a store folder.
    Created,
    /// The store was there and is current: nothing was changed.
    Current,
    /// A database of an older schema version was marked current (PostgreSQL schema 1 → 2).
    Upgraded,
}

/// The result of [`Store::initialize`].
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Initialization {
    /// The central store (a folder, or a database without secrets).
    pub central_store: String,
    /// "Folder" or "PostgreSQL".
    pub kind: &'static str,
    pub action: InitializeAction,
    /// The database's schema version, or the folder log's format version, that the store has now
    /// (previewed: would have).
    pub version: u64,
    /// E.g. a folder on a network file system.
    pub warnings: Vec<Warning>,
}

/// The state of this machine's replica against the central store.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationStatus {
    /// The central store folder in use.
    pub central_store: String,
    /// This machine's replica folder.
    pub replica: String,
    /// The store's identity, if it has one yet.
    pub store_id: Option<String>,
    /// The last commit in the central store; `None` if it cannot be read (see `central_error`).
    pub central_revision: Option<u64>,
    /// The last commit in the replica; `None` if there is no replica yet.
    pub replica_revision: Option<u64>,
    /// When the replica file was last written (UTC, RFC 3339).
    pub replica_updated: Option<String>,
    /// Whether the replica holds exactly what the central store holds now.
    pub is_current: bool,
    /// Why the central store cannot be read, if it cannot.
    pub central_error: Option<String>,
    /// Why the replica cannot be read, if it cannot.
    pub replica_error: Option<String>,
}

/// `2026-11-30T15:04:05Z` for a point in time (UTC; days to civil date after Howard Hinnant).
fn utc_text(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// One commit's rules, applied to the state at the commit number it would get.
pub(crate) type Decision<T> = dyn FnOnce(&state::State, u64) -> Result<Decided<T>>;

/// What a decision wants committed: each change with the partner as it was before (`None`: it did
/// not exist), by which operation, and what the caller gets back. No changes: nothing is written.
pub(crate) struct Decided<T> {
    changes: Vec<(Change, Option<Partner>)>,
    operation: Operation,
    value: T,
}

/// What a commit returns: it carries the warnings a commit adds (replica not refreshed, ...).
pub(crate) trait Committed {
    fn warnings_mut(&mut self) -> &mut Vec<Warning>;
}

impl Committed for Outcome {
    fn warnings_mut(&mut self) -> &mut Vec<Warning> {
        &mut self.warnings
    }
}

impl Committed for ImportPlan {
    fn warnings_mut(&mut self) -> &mut Vec<Warning> {
        &mut self.warnings
    }
}

/// Write `partner` at `seq` unless another partner claims one of its domains.
fn put(state: &state::State, seq: u64, mut partner: Partner, warnings: Vec<Warning>, operation: Operation) -> Result<Decided<Outcome>> {
    state.check_conflicts(&partner)?;
    partner.revision = seq;
    let before = state.partners.get(&partner.identity).cloned();
    Ok(Decided { changes: vec![(Change::Put(partner.clone()), before)], operation, value: Outcome { partner, warnings } })
}

/// The log record of a commit: its changes, who made it (this process's OS user and machine),
/// when (UTC), and each partner as it was before.
fn record(seq: u64, changes: Vec<(Change, Option<Partner>)>, operation: Operation) -> Record {
    let details = CommitDetails {
        at: utc_text(std::time::SystemTime::now()),
        user: sys::account_name(),
        machine: sys::host_name(),
        operation,
    };
    let (changes, before) = changes.into_iter().unzip();
    Record { seq, changes, commit: Some(Commit { details, before }) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_text_is_rfc_3339() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(super::utc_text(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_text(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc_text(UNIX_EPOCH + Duration::from_secs(1_796_051_045)), "2026-11-30T15:04:05Z");
    }
}
