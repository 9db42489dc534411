//! The store through the public Rust API: commits, visibility across handles, the replica,
//! compaction, crash remnants and damaged files.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use xmppfed::store::{Outcome, Source};
use xmppfed::{Environment, Error, NewPartner, Partner, PartnerChanges, Store, StoreOptions, Write};

struct Dirs {
    _root: tempfile::TempDir,
    central: PathBuf,
    replica: PathBuf,
}

fn dirs() -> Dirs {
    let root = tempfile::tempdir().unwrap();
    let central = root.path().join("central");
    fs::create_dir(&central).unwrap();
    let replica = root.path().join("replica");
    Dirs { central, replica, _root: root }
}

fn open(d: &Dirs) -> Store {
    Store::open(StoreOptions { central: Some(d.central.clone()), replica: Some(d.replica.clone()), lock_timeout: None, ..Default::default() }).unwrap()
}

/// A handle that waits at most `ms` milliseconds for another writer's lock.
fn open_waiting(d: &Dirs, ms: u64) -> Store {
    Store::open(StoreOptions {
        central: Some(d.central.clone()),
        replica: Some(d.replica.clone()),
        lock_timeout: Some(std::time::Duration::from_millis(ms)),
        ..Default::default()
    })
    .unwrap()
}

fn new(store: &mut Store, json: &str) -> xmppfed::Result<Outcome> {
    store.create(serde_json::from_str::<NewPartner>(json).unwrap())
}

fn changes(json: &str) -> PartnerChanges {
    serde_json::from_str(json).unwrap()
}

fn identities(partners: &[Partner]) -> Vec<&str> {
    partners.iter().map(|p| p.identity.as_str()).collect()
}

/// The central store's current generation file (generation 1 of a store not yet written).
fn log_path(d: &Dirs) -> PathBuf {
    current_log(&d.central)
}

fn current_log(dir: &Path) -> PathBuf {
    xmppfed::store::log::current_file(dir).unwrap().unwrap_or_else(|| xmppfed::store::log::generation_path(dir, 1))
}

#[test]
fn a_fresh_store_is_empty_and_a_commit_is_visible_to_every_handle() {
    let d = dirs();
    let mut a = open(&d);
    let mut b = open(&d);
    assert!(a.list(None, Source::Central).unwrap().is_empty());
    new(&mut a, r#"{"Identity":"contoso.com","PartnerType":"PublicVerified"}"#).unwrap();
    let seen = b.get("CONTOSO.com.", Source::Central).unwrap();
    assert_eq!(seen.partner_type.as_str(), "PublicVerified");
    assert!(seen.revision > 0);
}

#[test]
fn list_is_sorted_and_filtered_with_wildcards() {
    let d = dirs();
    let mut s = open(&d);
    for id in ["zeta.org", "alpha.com", "beta.org", "gamma.net"] {
        new(&mut s, &format!(r#"{{"Identity":"{id}"}}"#)).unwrap();
    }
    assert_eq!(identities(&s.list(None, Source::Central).unwrap()), ["alpha.com", "beta.org", "gamma.net", "zeta.org"]);
    assert_eq!(identities(&s.list(Some("*.ORG"), Source::Central).unwrap()), ["beta.org", "zeta.org"]);
    assert_eq!(identities(&s.list(Some("[a-b]*"), Source::Central).unwrap()), ["alpha.com", "beta.org"]);
    assert!(matches!(s.list(Some("[abc"), Source::Central), Err(Error::InvalidFilter { .. })));
}

#[test]
fn create_refuses_existing_identities_and_claimed_domains() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"fabrikam.com","AdditionalDomains":"research.fabrikam2.com"}"#).unwrap();
    assert!(matches!(new(&mut s, r#"{"Identity":"Fabrikam.com"}"#), Err(Error::AlreadyExists(id)) if id == "fabrikam.com"));
    let err = new(&mut s, r#"{"Identity":"research.fabrikam2.com"}"#).unwrap_err();
    assert!(matches!(err, Error::DomainConflict { ref domain, ref owner } if domain == "research.fabrikam2.com" && owner == "fabrikam.com"), "{err}");
    let err = new(&mut s, r#"{"Identity":"other.com","AdditionalDomains":["fabrikam.com"]}"#).unwrap_err();
    assert!(matches!(err, Error::DomainConflict { .. }), "{err}");
    assert_eq!(s.list(None, Source::Central).unwrap().len(), 1);
}

#[test]
fn set_applies_list_modifiers_and_checks_conflicts() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"contoso.com","AdditionalDomains":["europe.contoso2.com"]}"#).unwrap();
    new(&mut s, r#"{"Identity":"litware.com"}"#).unwrap();
    s.set("contoso.com", changes(r#"{"AdditionalDomains":{"Add":"na.contoso2.com"}}"#)).unwrap();
    s.set("contoso.com", changes(r#"{"AdditionalDomains":{"Remove":"europe.contoso2.com"}}"#)).unwrap();
    assert_eq!(s.get("contoso.com", Source::Central).unwrap().additional_domains, ["na.contoso2.com"]);
    assert!(matches!(s.set("litware.com", changes(r#"{"AdditionalDomains":"na.contoso2.com"}"#)), Err(Error::DomainConflict { .. })));
    s.set("contoso.com", changes(r#"{"AdditionalDomains":null}"#)).unwrap();
    assert!(s.get("contoso.com", Source::Central).unwrap().additional_domains.is_empty());
    // Freed by the clear above, the domain can now move.
    s.set("litware.com", changes(r#"{"AdditionalDomains":"na.contoso2.com"}"#)).unwrap();
    assert!(matches!(s.set("missing.com", changes("{}")), Err(Error::NotFound(_))));
}

#[test]
fn a_failed_set_changes_nothing() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"contoso.com"}"#).unwrap();
    let before = fs::read(log_path(&d)).unwrap();
    let err = s.set("contoso.com", changes(r#"{"SupportDialbackNegotiation":false,"TlsNegotiation":"NotSupported"}"#)).unwrap_err();
    assert!(matches!(err, Error::InvalidNegotiation { .. }));
    assert_eq!(fs::read(log_path(&d)).unwrap(), before);
    assert!(s.get("contoso.com", Source::Central).unwrap().support_dialback_negotiation);
}

#[test]
fn set_instance_refuses_stale_objects_unless_forced() {
    let d = dirs();
    let mut admin1 = open(&d);
    let mut admin2 = open(&d);
    new(&mut admin1, r#"{"Identity":"contoso.com"}"#).unwrap();
    let mut copy1 = admin1.get("contoso.com", Source::Central).unwrap();
    let mut copy2 = admin2.get("contoso.com", Source::Central).unwrap();
    copy1.description = "from admin 1".into();
    admin1.set_instance(copy1, false).unwrap();
    copy2.description = "from admin 2".into();
    let err = admin2.set_instance(copy2.clone(), false).unwrap_err();
    assert!(matches!(err, Error::StaleInstance { .. }), "{err}");
    assert_eq!(admin2.get("contoso.com", Source::Central).unwrap().description, "from admin 1");
    admin2.set_instance(copy2, true).unwrap();
    assert_eq!(admin1.get("contoso.com", Source::Central).unwrap().description, "from admin 2");
}

#[test]
fn in_memory_objects_are_created_by_set_instance() {
    let d = dirs();
    let mut s = open(&d);
    let built = Store::build(serde_json::from_str(r#"{"Identity":"gmail.com"}"#).unwrap()).unwrap();
    assert!(matches!(s.get("gmail.com", Source::Central), Err(Error::NotFound(_))));
    let mut obj = built.partner;
    obj.connection_limit = 5;
    s.set_instance(obj.clone(), false).unwrap();
    assert_eq!(s.get("gmail.com", Source::Central).unwrap().connection_limit, 5);
    // The same never-stored object again would overwrite a partner it never saw.
    assert!(matches!(s.set_instance(obj, false), Err(Error::AlreadyExists(_))));
}

#[test]
fn remove_returns_the_partner_and_frees_its_domains() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com","AdditionalDomains":"x.com"}"#).unwrap();
    assert_eq!(s.remove("A.com").unwrap().partner.additional_domains, ["x.com"]);
    assert!(matches!(s.remove("a.com"), Err(Error::NotFound(_))));
    new(&mut s, r#"{"Identity":"x.com"}"#).unwrap();
}

#[test]
fn revisions_keep_growing_across_remove_and_compaction() {
    let d = dirs();
    let mut s = open(&d);
    let first = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap().partner.revision;
    s.remove("a.com").unwrap();
    let again = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap().partner.revision;
    assert!(again > first);
    // Enough churn to trigger compaction (records > 2 x live + 1000).
    for i in 0..1100 {
        s.set("a.com", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, i + 1))).unwrap();
    }
    let log_len = fs::metadata(log_path(&d)).unwrap().len();
    assert!(log_len < 200_000, "the log was compacted, it is {log_len} bytes");
    let after = s.get("a.com", Source::Central).unwrap();
    assert_eq!(after.connection_limit, 1100);
    let mut fresh = open(&d);
    assert_eq!(fresh.get("a.com", Source::Central).unwrap(), after);
    let next = fresh.set("a.com", changes("{}")).unwrap().partner.revision;
    assert!(next > after.revision, "numbering continues after a rewrite: {next} > {}", after.revision);
}

#[test]
fn the_replica_follows_commits_and_answers_without_the_central_store() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"contoso.com"}"#).unwrap();
    new(&mut s, r#"{"Identity":"fabrikam.com"}"#).unwrap();
    assert_eq!(identities(&s.list(None, Source::LocalReplica).unwrap()), ["contoso.com", "fabrikam.com"]);
    // A commit by another process is seen locally after an on-demand refresh.
    let mut other = Store::open(StoreOptions { central: Some(d.central.clone()), replica: Some(d._root.path().join("other-replica")), lock_timeout: None, ..Default::default() }).unwrap();
    other.remove("contoso.com").unwrap();
    assert_eq!(s.list(None, Source::LocalReplica).unwrap().len(), 2);
    s.replicate().unwrap();
    assert_eq!(identities(&s.list(None, Source::LocalReplica).unwrap()), ["fabrikam.com"]);
    // Central store gone: local reads still work, central reads and writes fail clearly.
    fs::rename(&d.central, d._root.path().join("moved")).unwrap();
    assert_eq!(s.get("fabrikam.com", Source::LocalReplica).unwrap().identity, "fabrikam.com");
    assert!(matches!(s.list(None, Source::Central), Err(Error::StoreUnreachable { .. })));
    assert!(matches!(new(&mut s, r#"{"Identity":"new.com"}"#), Err(Error::StoreUnreachable { .. })));
}

#[test]
fn the_replica_is_recopied_after_compaction() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    for i in 0..1100 {
        s.set("a.com", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, i + 1))).unwrap();
    }
    // Compaction wrote generation 2 beside generation 1 and then deleted 1; the replica followed.
    assert_eq!(log_path(&d), d.central.join("partners.2.log"));
    assert!(!d.central.join("partners.1.log").exists());
    assert_eq!(fs::read(current_log(&d.replica)).unwrap(), fs::read(log_path(&d)).unwrap());
    assert_eq!(current_log(&d.replica), d.replica.join("partners.2.log"));
    assert!(!d.replica.join("partners.1.log").exists());
    assert_eq!(s.get("a.com", Source::LocalReplica).unwrap().connection_limit, 1100);
}

#[test]
fn a_torn_tail_from_a_crash_is_ignored_then_cut_off() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    let good = fs::read(log_path(&d)).unwrap();
    append(&log_path(&d), b"1234abcd {\"Seq\":9,\"Put\":{\"Ident");
    let mut reader = open(&d);
    assert_eq!(identities(&reader.list(None, Source::Central).unwrap()), ["a.com"]);
    new(&mut reader, r#"{"Identity":"b.com"}"#).unwrap();
    let now = fs::read(log_path(&d)).unwrap();
    assert!(now.starts_with(&good) && !now.windows(8).any(|w| w == b"1234abcd"));
    assert_eq!(identities(&open(&d).list(None, Source::Central).unwrap()), ["a.com", "b.com"]);
}

#[test]
fn damaged_files_are_reported_by_name_and_never_overwritten() {
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("garbage", b"\x00\x01garbage that is not a log\n"),
        ("header cut short", b"7d3c1a0b {\"Format\":\"xmppf"),
    ];
    for (what, bytes) in cases {
        let d = dirs();
        fs::write(log_path(&d), bytes).unwrap();
        // Opening works (the replica must stay usable); every central operation reports the damage.
        let mut s = open(&d);
        let read = s.list(None, Source::Central).unwrap_err();
        let write = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap_err();
        for err in [read, write] {
            assert!(matches!(err, Error::StoreCorrupt { .. }), "{what}: {err}");
            assert!(err.to_string().contains("partners.1.log"), "{what}: {err}");
        }
        assert_eq!(&fs::read(log_path(&d)).unwrap(), bytes, "{what}: the file must be left as it was");
    }
}

#[test]
fn a_damaged_middle_line_is_corruption_not_a_torn_tail() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    new(&mut s, r#"{"Identity":"b.com"}"#).unwrap();
    let mut bytes = fs::read(log_path(&d)).unwrap();
    let pos = bytes.windows(5).position(|w| w == b"a.com").unwrap();
    bytes[pos] = b'q';
    fs::write(log_path(&d), &bytes).unwrap();
    drop(s);
    // An open handle only stats the file (cheap refreshes), so in-place tampering is caught when
    // the file is read: at every open.
    let err = open(&d).list(None, Source::Central).unwrap_err();
    assert!(matches!(err, Error::StoreCorrupt { .. }), "{err}");
    assert!(err.to_string().contains("byte offset"), "{err}");
    assert_eq!(fs::read(log_path(&d)).unwrap(), bytes);
}

/// A log whose checked header has format version 4 (newer than the library's); returns its bytes.
fn write_future_format(d: &Dirs) -> Vec<u8> {
    let json = br#"{"Format":"xmppfed-log","Version":4,"StoreId":"ab","Generation":1,"Seq":0}"#;
    let mut line = format!("{:08x} ", crc32(json)).into_bytes();
    line.extend_from_slice(json);
    line.push(b'\n');
    fs::write(log_path(d), &line).unwrap();
    line
}

#[test]
fn a_future_format_version_is_refused() {
    let d = dirs();
    write_future_format(&d);
    let err = open(&d).list(None, Source::Central).unwrap_err();
    assert!(matches!(err, Error::StoreVersion { found: 4, supported: 3, .. }), "{err}");
}

#[test]
fn an_exhausted_commit_counter_is_damage_not_a_wrap_to_zero() {
    let d = dirs();
    let json = format!(r#"{{"Format":"xmppfed-log","Version":3,"StoreId":"ab","Generation":1,"Seq":{}}}"#, u64::MAX);
    let mut line = format!("{:08x} ", crc32(json.as_bytes())).into_bytes();
    line.extend_from_slice(json.as_bytes());
    line.push(b'\n');
    fs::write(log_path(&d), &line).unwrap();
    let mut s = open(&d);
    let err = new(&mut s, r#"{"Identity":"x.example"}"#).unwrap_err();
    assert!(matches!(err, Error::StoreCorrupt { .. }) && err.to_string().contains("Seq"), "{err}");
    assert_eq!(fs::read(log_path(&d)).unwrap(), line);
}

#[test]
fn a_missing_configured_folder_is_an_error_not_a_new_store() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("not-mounted");
    let mut s = Store::open(StoreOptions { central: Some(missing.clone()), replica: Some(root.path().join("replica")), lock_timeout: None, ..Default::default() }).unwrap();
    // Every operation on the central store reports the same thing: the folder, by name, and
    // never a file inside it (the lock file was once what a failed New named).
    let folder_message = format!("store folder '{}' does not exist or is not reachable", missing.display());
    let errors = [
        s.list(None, Source::Central).unwrap_err(),
        s.get("a.com", Source::Central).unwrap_err(),
        new(&mut s, r#"{"Identity":"a.com"}"#).unwrap_err(),
        s.set("a.com", serde_json::from_str(r#"{"Description":"x"}"#).unwrap()).unwrap_err(),
        s.remove("a.com").unwrap_err(),
        s.replicate().unwrap_err(),
        s.preview(Write::Remove("a.com".into())).unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, Error::StoreUnreachable { .. }) && err.to_string().contains(&folder_message), "{err}");
        assert!(!err.to_string().contains("partners."), "{err}");
    }
    assert!(!missing.exists(), "the folder must not be created");
}

#[test]
fn the_replica_answers_when_the_central_store_is_unreachable_at_open() {
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"contoso.com"}"#).unwrap();
    let moved = d._root.path().join("share-down");
    fs::rename(&d.central, &moved).unwrap();
    let mut s = open(&d);
    assert_eq!(s.get("contoso.com", Source::LocalReplica).unwrap().identity, "contoso.com");
    assert!(matches!(s.get("contoso.com", Source::Central), Err(Error::StoreUnreachable { .. })));
    // The share comes back: the same handle reads it.
    fs::rename(&moved, &d.central).unwrap();
    assert_eq!(s.get("contoso.com", Source::Central).unwrap().identity, "contoso.com");
}

// Unix modes; on Windows see store_files_have_an_owner_only_acl (tests/windows_acl.rs).
#[cfg(unix)]
#[test]
fn store_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    for f in [log_path(&d), d.central.join("partners.lock"), current_log(&d.replica)] {
        let mode = fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert_eq!(fs::metadata(&d.replica).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_held_lock_gives_a_bounded_wait_and_a_clear_error() {
    let d = dirs();
    let mut s = open_waiting(&d, 200);
    let note = d.central.join("partners.lock");
    let note_text = r#"{"Pid":4242,"User":"alice","Host":"adm1","Since":0}"#;
    // On Unix the lock is the folder's; on Windows the note file, held open without
    // FILE_SHARE_DELETE. The holder's note says who holds it.
    let holder = support::lock_store_folder(&d.central);
    fs::write(&note, note_text).unwrap();
    let err = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap_err();
    assert!(matches!(err, Error::StoreLocked { .. }), "{err}");
    assert!(err.to_string().contains("held by process 4242 of user alice on machine adm1"), "{err}");
    // Deleting the note does not break the lock (on Unix); on Windows it cannot be deleted while
    // it is held.
    #[cfg(unix)]
    {
        fs::remove_file(&note).unwrap();
        let err = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap_err();
        assert!(matches!(err, Error::StoreLocked { .. }) && err.to_string().contains("no readable note"), "{err}");
    }
    #[cfg(windows)]
    {
        assert!(fs::remove_file(&note).is_err(), "a held lock file could be deleted");
        let err = new(&mut s, r#"{"Identity":"a.com"}"#).unwrap_err();
        assert!(matches!(err, Error::StoreLocked { .. }), "{err}");
    }
    // Reads take no lock.
    assert!(s.list(None, Source::Central).unwrap().is_empty());
    // Closing the file releases its lock (on both systems).
    drop(holder);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
}

/// A handle keeps the folder it locks open between commits (Unix), and so its lock: while the
/// path names that folder, another holder keeps it waiting as before; once another folder takes
/// the path (a store restored by renaming, a share mounted over it), the lock it takes and the
/// commit it writes are that folder's.
#[cfg(unix)]
#[test]
fn a_handle_locks_the_folder_the_path_names_now() {
    use std::os::unix::fs::DirBuilderExt;
    let d = dirs();
    let mut s = open_waiting(&d, 200);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    new(&mut s, r#"{"Identity":"b.com"}"#).unwrap();
    let holder = support::lock_store_folder(&d.central);
    assert!(matches!(new(&mut s, r#"{"Identity":"c.com"}"#), Err(Error::StoreLocked { .. })));
    drop(holder);
    new(&mut s, r#"{"Identity":"c.com"}"#).unwrap();
    // A copy of the store takes the path; the old folder stays, renamed.
    let old = d.central.with_extension("old");
    fs::rename(&d.central, &old).unwrap();
    fs::DirBuilder::new().mode(0o700).create(&d.central).unwrap();
    for entry in fs::read_dir(&old).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), d.central.join(entry.file_name())).unwrap();
    }
    let holder = support::lock_store_folder(&d.central);
    let outcome = new(&mut s, r#"{"Identity":"d.com"}"#);
    assert!(matches!(outcome, Err(Error::StoreLocked { .. })), "the commit took the lock of the folder that was renamed away: {outcome:?}");
    drop(holder);
    new(&mut s, r#"{"Identity":"d.com"}"#).unwrap();
    let mut fresh = open(&d);
    assert_eq!(identities(&fresh.list(None, Source::Central).unwrap()), ["a.com", "b.com", "c.com", "d.com"]);
    let old_log = fs::read_to_string(current_log(&old)).unwrap();
    assert!(!old_log.contains("d.com"), "the commit was written to the folder that was renamed away");
}

/// The holder's note stays open between commits only while no name in the folder changed: a
/// note deleted between two commits is written again by the next. (The settling time is made
/// short, a hidden test knob, so that the folder's stamp counts at every commit below.)
#[cfg(unix)]
#[test]
fn a_deleted_lock_note_is_written_again_by_the_next_commit() {
    let pause = || std::thread::sleep(std::time::Duration::from_millis(60));
    let d = dirs();
    let mut s = open(&d);
    s.settle_folders_after(std::time::Duration::from_millis(40));
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    pause();
    new(&mut s, r#"{"Identity":"b.com"}"#).unwrap();
    pause();
    let note = d.central.join("partners.lock");
    fs::remove_file(&note).unwrap();
    pause();
    new(&mut s, r#"{"Identity":"c.com"}"#).unwrap();
    let text = fs::read_to_string(&note).expect("the next commit writes the note again");
    assert!(text.contains(&format!(r#""Pid":{}"#, std::process::id())), "{text}");
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    fs::OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[test]
fn a_preview_decides_like_the_write_and_changes_nothing() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"contoso.com","AdditionalDomains":["eu.contoso2.com"]}"#).unwrap();
    let before = fs::read(log_path(&d)).unwrap();
    let create = |json: &str| Write::Create(serde_json::from_str::<NewPartner>(json).unwrap());

    // What would be written, with the revision it would get.
    let would = s.preview(create(r#"{"Identity":"fabrikam.com","TlsNegotiation":"Optional"}"#)).unwrap();
    assert_eq!((would.partner.identity.as_str(), would.partner.revision), ("fabrikam.com", 2));
    // Every refusal the write would give, before anything is asked or written.
    let refusals = [
        s.preview(create(r#"{"Identity":"contoso.com"}"#)).unwrap_err(),
        s.preview(create(r#"{"Identity":"x.com","AdditionalDomains":"EU.contoso2.com"}"#)).unwrap_err(),
        s.preview(create(r#"{"Identity":"bad..com"}"#)).unwrap_err(),
        s.preview(Write::Set { identity: "nothere.com".into(), changes: changes(r#"{"Description":"x"}"#) }).unwrap_err(),
        s.preview(Write::Remove("nothere.com".into())).unwrap_err(),
    ];
    let kinds: Vec<&str> = refusals
        .iter()
        .map(|e| match e {
            Error::AlreadyExists(_) => "exists",
            Error::DomainConflict { .. } => "conflict",
            Error::InvalidDomain { .. } => "domain",
            Error::NotFound(_) => "missing",
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(kinds, ["exists", "conflict", "domain", "missing", "missing"]);
    let removed = s.preview(Write::Remove("CONTOSO.com".into())).unwrap();
    assert_eq!(removed.partner.identity, "contoso.com");
    assert_eq!(fs::read(log_path(&d)).unwrap(), before, "a preview must not write");
    assert_eq!(s.list(None, Source::Central).unwrap().len(), 1);
}

#[test]
fn set_instance_applies_property_changes_to_the_instance_and_keeps_the_stale_check() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"contoso.com","AdditionalDomains":["a.contoso2.com"]}"#).unwrap();
    let mut read = s.get("contoso.com", Source::Central).unwrap();
    read.description = "edited in the object".into();
    let changes_ = changes(r#"{"EnableKeepAlive":false,"AdditionalDomains":{"Add":"b.contoso2.com"}}"#);
    let written = s.write(Write::SetInstance { instance: read.clone(), changes: changes_.clone(), force: false }).unwrap().partner;
    assert_eq!(written.description, "edited in the object");
    assert!(!written.enable_keep_alive);
    assert_eq!(written.additional_domains, ["a.contoso2.com", "b.contoso2.com"]);
    // The same instance again is stale now: the store moved on since it was read.
    let err = s.write(Write::SetInstance { instance: read, changes: changes_, force: false }).unwrap_err();
    assert!(matches!(err, Error::StaleInstance { .. }), "{err}");
}

#[test]
fn an_environment_snapshot_replaces_the_process_environment() {
    let d = dirs();
    let vars = [
        ("XMPPFED_STORE".to_string(), d.central.to_string_lossy().into_owned()),
        ("XMPPFED_REPLICA".to_string(), d.replica.to_string_lossy().into_owned()),
        ("XMPPFED_LOCK_TIMEOUT_MS".to_string(), String::new()),
    ];
    let mut s = Store::open(StoreOptions { environment: Environment::snapshot(vars.into_iter().collect()), ..Default::default() }).unwrap();
    assert_eq!((s.central_dir(), s.replica_dir()), (d.central.as_path(), d.replica.as_path()));
    new(&mut s, r#"{"Identity":"contoso.com"}"#).unwrap();
    assert!(fs::read_to_string(log_path(&d)).unwrap().contains("contoso.com"));

    // A snapshot naming a folder that is not there: an error about that folder, no fallback.
    let missing = d._root.path().join("typo");
    let vars = [("XMPPFED_STORE".to_string(), missing.to_string_lossy().into_owned())];
    let mut s = Store::open(StoreOptions {
        replica: Some(d._root.path().join("r2")),
        environment: Environment::snapshot(vars.into_iter().collect()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(s.central_dir(), missing.as_path());
    assert!(matches!(new(&mut s, r#"{"Identity":"x.com"}"#), Err(Error::StoreUnreachable { .. })));

    let vars = [("XMPPFED_LOCK_TIMEOUT_MS".to_string(), "soon".to_string())];
    let err = Store::open(StoreOptions {
        central: Some(d.central.clone()),
        replica: Some(d.replica.clone()),
        environment: Environment::snapshot(vars.into_iter().collect()),
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("XMPPFED_LOCK_TIMEOUT_MS"), "{err}");
}

#[test]
fn the_replication_status_compares_the_replica_with_the_central_store() {
    let d = dirs();
    let mut s = open(&d);
    let fresh = s.status();
    assert_eq!((fresh.central_revision, fresh.replica_revision, fresh.is_current), (Some(0), None, false));
    assert!(fresh.replica_error.unwrap().contains("Invoke-CsXmppAllowedPartnerReplication"));
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    let after = s.status();
    assert_eq!((after.central_revision, after.replica_revision, after.is_current), (Some(1), Some(1), true));
    assert_eq!(after.store_id.as_deref().map(str::len), Some(32));
    assert!(after.replica_updated.unwrap().ends_with('Z'));
    assert_eq!((after.central_store.as_str(), after.replica.as_str()), (d.central.to_str().unwrap(), d.replica.to_str().unwrap()));

    // Another machine (another replica) commits: this machine's replica is behind until refreshed.
    let mut other = Store::open(StoreOptions { central: Some(d.central.clone()), replica: Some(d._root.path().join("other")), ..Default::default() }).unwrap();
    new(&mut other, r#"{"Identity":"b.com"}"#).unwrap();
    let behind = s.status();
    assert_eq!((behind.central_revision, behind.replica_revision, behind.is_current), (Some(2), Some(1), false));
    s.replicate().unwrap();
    assert!(s.status().is_current);

    // The central store unreachable: reported in the status, the replica still described.
    fs::rename(&d.central, d._root.path().join("away")).unwrap();
    let down = s.status();
    assert_eq!((down.central_revision, down.replica_revision, down.is_current), (None, Some(2), false));
    assert!(down.central_error.unwrap().contains("does not exist or is not reachable"));
}

#[test]
fn identities_are_completed_from_a_prefix_in_order() {
    let d = dirs();
    let mut s = open(&d);
    for id in ["contoso.com", "contoso.net", "cont.example", "fabrikam.com", "contosob.org"] {
        new(&mut s, &format!(r#"{{"Identity":"{id}"}}"#)).unwrap();
    }
    assert_eq!(s.identities_starting_with("CONTOSO", 10, Source::Central).unwrap(), ["contoso.com", "contoso.net", "contosob.org"]);
    assert_eq!(s.identities_starting_with("cont", 2, Source::Central).unwrap(), ["cont.example", "contoso.com"]);
    assert_eq!(s.identities_starting_with("", 100, Source::LocalReplica).unwrap().len(), 5);
    assert!(s.identities_starting_with("zz", 10, Source::Central).unwrap().is_empty());
}

#[test]
fn an_explicit_refresh_never_copies_a_central_file_damaged_since_it_was_read() {
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.com"}"#).unwrap();
    new(&mut s, r#"{"Identity":"b.com"}"#).unwrap();
    let good_replica = fs::read(current_log(&d.replica)).unwrap();
    // A same-size edit inside the last line, after this handle read it.
    let mut bytes = fs::read(log_path(&d)).unwrap();
    let at = bytes.windows(5).rposition(|w| w == b"b.com").unwrap();
    bytes[at] = b'q';
    fs::write(log_path(&d), &bytes).unwrap();
    let err = s.replicate().unwrap_err();
    assert!(matches!(err, Error::StoreCorrupt { .. }), "{err}");
    assert_eq!(fs::read(current_log(&d.replica)).unwrap(), good_replica, "the only good copy must survive");
    assert_eq!(identities(&s.list(None, Source::LocalReplica).unwrap()), ["a.com", "b.com"]);
}

#[test]
fn a_replica_folder_without_a_copy_is_no_replica_yet_not_an_empty_list() {
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.com"}"#).unwrap();
    let empty = d._root.path().join("empty-replica");
    fs::create_dir(&empty).unwrap();
    let mut s = Store::open(StoreOptions { central: Some(d.central.clone()), replica: Some(empty.clone()), ..Default::default() }).unwrap();
    assert!(matches!(s.list(None, Source::LocalReplica), Err(Error::NoReplica { .. })));
    s.replicate().unwrap();
    assert_eq!(identities(&s.list(None, Source::LocalReplica).unwrap()), ["a.com"]);
    // An empty store and an empty replica folder: an empty list, once the store was read.
    let fresh = d._root.path().join("fresh");
    fs::create_dir(&fresh).unwrap();
    let mut e = Store::open(StoreOptions { central: Some(fresh), replica: Some(d._root.path().join("fresh-replica")), ..Default::default() }).unwrap();
    e.replicate().unwrap();
    assert!(e.list(None, Source::LocalReplica).unwrap().is_empty());
}

/// Initialize on a folder store: a missing folder is created (private), only when applied; an
/// existing one is checked as every read checks it; a folder this machine has seen a store in
/// is never created afresh.
#[test]
fn initialize_creates_a_missing_folder_and_checks_an_existing_one() {
    use xmppfed::store::InitializeAction;
    let d = dirs();
    fs::remove_dir(&d.central).unwrap();
    let nested = Dirs { central: d.central.join("nested/store"), replica: d.replica.clone(), _root: tempfile::tempdir().unwrap() };
    let mut s = open(&nested);
    let preview = s.initialize(false).unwrap();
    assert_eq!((preview.kind, preview.action, preview.version), ("Folder", InitializeAction::Created, 3));
    assert!(!d.central.exists(), "a preview created the folder");
    let done = s.initialize(true).unwrap();
    assert_eq!(done.action, InitializeAction::Created);
    assert!(nested.central.is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&nested.central).unwrap().permissions().mode() & 0o777, 0o700);
    }
    assert_eq!(s.initialize(true).unwrap().action, InitializeAction::Current);
    assert_eq!(new(&mut s, r#"{"Identity":"a.example"}"#).unwrap().partner.revision, 1);
    assert_eq!(s.initialize(false).unwrap().action, InitializeAction::Current);
    // A store of a newer format is reported, not initialized over.
    let future = dirs();
    let line = write_future_format(&future);
    for apply in [false, true] {
        let e = open(&future).initialize(apply).unwrap_err();
        assert!(matches!(e, Error::StoreVersion { found: 4, supported: 3, .. }), "{e}");
        assert!(e.to_string().contains("format version 4, written by a newer xmppfed"), "{e}");
    }
    assert_eq!(fs::read(log_path(&future)).unwrap(), line);
    // The folder gone (an unmounted share) while this machine's replica knows the store: refused.
    let moved = d.central.with_extension("moved");
    fs::rename(&d.central, &moved).unwrap();
    let mut again = open(&nested);
    for apply in [false, true] {
        let e = again.initialize(apply).unwrap_err();
        assert!(matches!(e, Error::StoreMismatch { .. }), "{e}");
        assert!(e.to_string().contains("does not exist") && e.to_string().contains("Nothing was created"), "{e}");
    }
    assert!(!nested.central.exists());
}

/// A folder store on a network file system works but warns, naming PostgreSQL, with every commit
/// and from Initialize (the file system type is injected: no NFS can be mounted in a test).
#[test]
fn a_folder_on_a_network_file_system_draws_a_warning_naming_postgresql() {
    let d = dirs();
    let mut s = open(&d);
    // The real file system of the test folder is local: no warning.
    assert!(new(&mut s, r#"{"Identity":"local.example"}"#).unwrap().warnings.is_empty());
    assert!(s.initialize(false).unwrap().warnings.is_empty());
    for (f_type, name) in [(0x6969, "NFS"), (0xFF53_4D42, "CIFS"), (0xFE53_4D42, "SMB2")] {
        s.assume_file_system_type(f_type);
        let outcome = new(&mut s, &format!(r#"{{"Identity":"{}.example"}}"#, name.to_lowercase())).unwrap();
        let warnings: Vec<_> = outcome.warnings.iter().filter(|w| w.id == "NetworkFileSystem").collect();
        assert_eq!(warnings.len(), 1, "{:?}", outcome.warnings);
        let m = &warnings[0].message;
        assert!(m.contains(&format!("({name})")) && m.contains("PostgreSQL") && m.contains(&*d.central.to_string_lossy()), "{m}");
        let removed = s.remove(&format!("{}.example", name.to_lowercase())).unwrap();
        assert!(removed.warnings.iter().any(|w| w.id == "NetworkFileSystem"));
        assert!(s.initialize(true).unwrap().warnings.iter().any(|w| w.id == "NetworkFileSystem"));
    }
    s.assume_file_system_type(0xEF53); // ext4
    assert!(new(&mut s, r#"{"Identity":"ext4.example"}"#).unwrap().warnings.is_empty());
}

#[test]
fn an_explanation_follows_the_store_and_never_writes_it() {
    use xmppfed::explain::Coverage;
    use xmppfed::negotiation::Method;

    let d = dirs();
    let mut a = open(&d);
    let mut b = open(&d);
    new(&mut a, r#"{"Identity":"contoso.com","TlsNegotiation":"Optional","SaslNegotiation":"NotSupported"}"#).unwrap();
    let before = fs::read(log_path(&d)).unwrap();

    // Another handle sees the commit; a subdomain is a near miss until it is added.
    let e = b.explain("chat.contoso.com", Source::Central).unwrap();
    assert!(!e.allowed);
    assert_eq!(e.hints[0].fix.as_deref(), Some("Set-CsXmppAllowedPartner -Identity contoso.com -AdditionalDomains @{Add='chat.contoso.com'}"));
    assert_eq!(fs::read(log_path(&d)).unwrap(), before, "explaining writes nothing");

    a.set("contoso.com", changes(r#"{"AdditionalDomains":{"Add":"chat.contoso.com"}}"#)).unwrap();
    let e = b.explain("Chat.Contoso.com.", Source::Central).unwrap();
    assert_eq!((e.allowed, e.partner.as_deref(), e.covered_as), (true, Some("contoso.com"), Coverage::AdditionalDomain));
    assert_eq!(e.methods, vec![Method::TlsDialback, Method::TcpDialback]);
    assert_eq!(e.store_revision, 2);

    // The replica answers what it holds; after a removal the domain is no longer allowed.
    assert!(a.explain("chat.contoso.com", Source::LocalReplica).unwrap().allowed);
    a.remove("contoso.com").unwrap();
    let e = b.explain("chat.contoso.com", Source::Central).unwrap();
    assert!(!e.allowed && e.hints.is_empty(), "{e:?}");

    // An invalid domain is refused before anything is read, with New -Domain's error.
    assert!(matches!(b.explain("not a domain", Source::Central), Err(Error::InvalidDomain { field: "Domain", .. })));
}

/// The repair of a damaged replica writes a new copy under the next number: no file that another
/// handle holds open is replaced (on Windows a rename over it fails), and a long-lived reader of
/// the replica moves to the new copy.
#[test]
fn a_replica_repair_never_replaces_a_file_another_handle_holds_open() {
    let d = dirs();
    let mut writer = open(&d);
    new(&mut writer, r#"{"Identity":"a.example","Description":"the original text"}"#).unwrap();
    let mut reader = open(&d);
    assert_eq!(reader.get("a.example", Source::LocalReplica).unwrap().description, "the original text");
    let first = current_log(&d.replica);
    let mut bytes = fs::read(&first).unwrap();
    let at = bytes.len() - 30;
    bytes[at] ^= 0x01;
    fs::write(&first, &bytes).unwrap();

    writer.replicate().unwrap();
    let second = current_log(&d.replica);
    assert_ne!(first, second, "the damaged copy was replaced in place");
    assert_eq!(fs::read(&second).unwrap(), fs::read(log_path(&d)).unwrap());
    // The reader, which held the first copy open, reads the new one; later commits follow.
    assert_eq!(reader.get("a.example", Source::LocalReplica).unwrap().description, "the original text");
    new(&mut writer, r#"{"Identity":"b.example"}"#).unwrap();
    assert_eq!(identities(&reader.list(None, Source::LocalReplica).unwrap()), ["a.example", "b.example"]);
    // Older copies are cleared away (on Windows once no handle holds them).
    drop(reader);
    new(&mut writer, r#"{"Identity":"c.example"}"#).unwrap();
    let copies: Vec<_> = fs::read_dir(&d.replica).unwrap().filter_map(|e| e.unwrap().file_name().into_string().ok()).filter(|n| n.ends_with(".log")).collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
}

/// Linux: a reader whose watch vouches for its state asks the file system nothing else, and still
/// sees every change at its very next read, without waiting: appends and compaction by another
/// handle, a file rolled back by renaming, a file or folder whose mode stopped being trusted, the
/// store folder or a folder above it replaced by another store, the folder deleted. Events about
/// other names beside the folders on the path change nothing.
#[cfg(target_os = "linux")]
#[test]
fn a_watched_reader_sees_every_change_at_its_next_read() {
    use std::os::unix::fs::PermissionsExt;
    // A reader on its store, read until its watch vouches for it (the second full check sets it).
    fn watched_reader(d: &Dirs) -> Store {
        let mut reader = open(d);
        for _ in 0..3 {
            reader.list(None, Source::Central).unwrap();
        }
        assert!(reader.central_reads_watched(), "the watch does not vouch for the reader's state");
        reader
    }
    fn limit(reader: &mut Store) -> xmppfed::Result<u32> {
        reader.get("a.example", Source::Central).map(|p| p.connection_limit)
    }
    let d = dirs();
    let mut writer = open(&d);
    new(&mut writer, r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let mut reader = watched_reader(&d);
    assert_eq!(limit(&mut reader).unwrap(), 1);

    // Appended by another handle.
    writer.set("a.example", changes(r#"{"ConnectionLimit":2}"#)).unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 2);
    // Other names created beside the folders on the path: still the same state, still vouched for.
    fs::write(d.central.parent().unwrap().join("unrelated"), b"x").unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 2);
    assert!(reader.central_reads_watched());

    // Compacted by another handle: a new generation.
    let before = log_path(&d);
    for i in 0..1100 {
        writer.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, 10 + i))).unwrap();
    }
    assert_ne!(log_path(&d), before, "the writer compacted");
    assert_eq!(limit(&mut reader).unwrap(), 1109);
    for _ in 0..2 {
        limit(&mut reader).unwrap();
    }
    assert!(reader.central_reads_watched(), "the new generation's file is watched");
    writer.set("a.example", changes(r#"{"ConnectionLimit":7}"#)).unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 7);

    // The log replaced by an identical copy (the newest backup restored, an editor's save) while
    // another process still holds the old file open: the reader reads the copy, and an append to
    // the copy is seen too (the watch is on the file read, not on its name).
    let current = log_path(&d);
    let _held = fs::File::open(&current).unwrap();
    let same = d.central.join("identical-copy");
    fs::copy(&current, &same).unwrap();
    fs::rename(&same, &current).unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 7);
    for _ in 0..2 {
        limit(&mut reader).unwrap();
    }
    assert!(reader.central_reads_watched(), "the copy is watched");
    writer.set("a.example", changes(r#"{"ConnectionLimit":9}"#)).unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 9, "an append to the copy was missed");

    // Rolled back: the current file set aside (still linked) and an older copy renamed into place.
    let copy = d.central.join("older-copy");
    fs::copy(log_path(&d), &copy).unwrap();
    writer.set("a.example", changes(r#"{"ConnectionLimit":8}"#)).unwrap();
    assert_eq!(limit(&mut reader).unwrap(), 8);
    let current = log_path(&d);
    fs::rename(&current, d.central.join("set-aside")).unwrap();
    fs::rename(&copy, &current).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreMismatch { .. })), "a rolled-back file was served as current");

    // A file, then a folder, that became writable by others: refused at once.
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
    let mut reader = watched_reader(&d);
    fs::set_permissions(log_path(&d), fs::Permissions::from_mode(0o602)).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreUntrusted { .. })), "a file writable by others was read");
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
    let mut reader = watched_reader(&d);
    fs::set_permissions(&d.central, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreUntrusted { .. })), "a folder writable by others was read");

    // The store folder, then the folder above it, moved away and another store put in its place.
    let other = dirs();
    new(&mut open(&other), r#"{"Identity":"a.example","ConnectionLimit":5}"#).unwrap();
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let mut reader = watched_reader(&d);
    fs::rename(&d.central, d.central.with_file_name("moved")).unwrap();
    fs::rename(&other.central, &d.central).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreMismatch { .. })), "another store was served as this one");
    let root = tempfile::tempdir().unwrap();
    let above = root.path().join("above");
    let central = above.join("central");
    fs::create_dir_all(&central).unwrap();
    // Each store with its own replica folder.
    let at = |central: &Path, replica: &str| Dirs { central: central.to_owned(), replica: root.path().join(replica), _root: tempfile::tempdir().unwrap() };
    new(&mut open(&at(&central, "replica")), r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let mut reader = watched_reader(&at(&central, "replica"));
    let elsewhere = root.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("central")).unwrap();
    new(&mut open(&at(&elsewhere.join("central"), "other-replica")), r#"{"Identity":"a.example","ConnectionLimit":5}"#).unwrap();
    fs::rename(&above, root.path().join("above-moved")).unwrap();
    fs::rename(&elsewhere, &above).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreMismatch { .. })), "the store under a replaced folder was served");

    // The folder deleted.
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
    let mut reader = watched_reader(&d);
    fs::remove_dir_all(&d.central).unwrap();
    assert!(matches!(limit(&mut reader), Err(Error::StoreUnreachable { .. })), "a deleted store was read");
}

/// Linux: a child of `fork` shares its parent's inotify queue, so its reads must not rely on the
/// watch (and must not drain the parent's events): in the child the watch vouches for nothing.
#[cfg(target_os = "linux")]
#[test]
fn a_child_of_fork_does_not_rely_on_its_parents_watch() {
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
    let mut reader = open(&d);
    for _ in 0..3 {
        reader.list(None, Source::Central).unwrap();
    }
    assert!(reader.central_reads_watched());
    // SAFETY: the child only reads memory and exits without unwinding or running destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = if reader.central_reads_watched() { 1 } else { 0 };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child relied on its parent's watch");
    assert!(reader.central_reads_watched(), "the parent's watch still vouches for it");
}

/// Linux: a watched reader's reads of an unchanged store ask the kernel nothing, on any thread (its
/// poll ring vouches), and a change is still seen at the very next read: made on another thread
/// and read there while the ring's thread waits, or read on the ring's thread once the other has
/// ended. After a change, a thread other than the ring's asks the kernel until the ring's thread
/// reads again, and gets a ring of its own after a few reads.
#[cfg(target_os = "linux")]
#[test]
fn a_watched_reader_asks_nothing_on_any_thread_and_every_thread_sees_each_change() {
    fn limit(reader: &mut Store) -> u32 {
        reader.get("a.example", Source::Central).unwrap().connection_limit
    }
    let d = dirs();
    let mut writer = open(&d);
    new(&mut writer, r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let mut reader = open(&d);
    for _ in 0..3 {
        limit(&mut reader);
    }
    assert!(reader.central_reads_watched());
    let before = reader.central_unasked_reads();
    for _ in 0..100 {
        assert_eq!(limit(&mut reader), 1);
    }
    assert_eq!(reader.central_unasked_reads() - before, 100, "reads of an unchanged store asked the kernel (is io_uring refused here?)");

    for round in 0..300u32 {
        // Changed on another thread, which this one waits for.
        std::thread::scope(|s| {
            s.spawn(|| writer.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, 2 * round + 2))).unwrap());
        });
        assert_eq!(limit(&mut reader), 2 * round + 2, "round {round}: the ring's thread missed a change");
        assert_eq!(limit(&mut reader), 2 * round + 2);
        // Changed and read on another thread while the ring's thread waits.
        std::thread::scope(|s| {
            s.spawn(|| {
                writer.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, 2 * round + 3))).unwrap();
                assert_eq!(limit(&mut reader), 2 * round + 3, "round {round}: another thread missed a change");
            });
        });
        assert_eq!(limit(&mut reader), 2 * round + 3);
    }

    // Unchanged: another thread's reads ask nothing either.
    std::thread::scope(|s| {
        s.spawn(|| {
            let before = reader.central_unasked_reads();
            for _ in 0..100 {
                limit(&mut reader);
            }
            assert_eq!(reader.central_unasked_reads() - before, 100, "another thread's reads of an unchanged store asked the kernel");
        });
    });
    // Changed, and then read on by another thread only: it asks until it has a ring of its own.
    std::thread::scope(|s| {
        s.spawn(|| {
            writer.set("a.example", changes(r#"{"ConnectionLimit":7}"#)).unwrap();
            let before = reader.central_unasked_reads();
            for _ in 0..100 {
                assert_eq!(limit(&mut reader), 7);
            }
            let unasked = reader.central_unasked_reads() - before;
            assert!((80..100).contains(&unasked), "{unasked} of the other thread's 100 reads after a change were vouched for by the ring");
        });
    });
}

/// Linux: a watched reader closed and another opened, again and again, always gets its watch: a
/// closed handle gives its inotify instance back at once (an armed poll of its ring would
/// otherwise hold it until the kernel tears the ring down, later; 128 instances per user).
#[cfg(target_os = "linux")]
#[test]
fn watched_readers_opened_and_closed_in_a_loop_each_get_a_watch() {
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
    for i in 0..3000 {
        let mut reader = open(&d);
        for _ in 0..3 {
            reader.list(None, Source::Central).unwrap();
        }
        assert!(reader.central_reads_watched(), "reader {i} got no watch (inotify instances used up?)");
    }
}

/// Linux: closing a watched reader does not interrupt the thread that read it: its poll ring is
/// kept for that thread's next watch instead of being closed (a closed ring's teardown makes one
/// `epoll_wait` of that thread return EINTR, 5-15 ms later), and the next reader on the thread
/// still sees every change.
#[cfg(target_os = "linux")]
#[test]
fn closing_a_watched_reader_does_not_interrupt_its_thread() {
    let d = dirs();
    let mut writer = open(&d);
    new(&mut writer, r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 0..3u32 {
                let mut reader = open(&d);
                for _ in 0..5 {
                    reader.list(None, Source::Central).unwrap();
                }
                assert!(reader.central_unasked_reads() > 0, "the reader's ring was not used (is io_uring refused here?)");
                drop(reader);
                // SAFETY: plain system calls on a descriptor of our own.
                let (waited, error) = unsafe {
                    let epoll = libc::epoll_create1(libc::EPOLL_CLOEXEC);
                    let mut event = libc::epoll_event { events: 0, u64: 0 };
                    let waited = libc::epoll_wait(epoll, &mut event, 1, 300);
                    let error = std::io::Error::last_os_error();
                    libc::close(epoll);
                    (waited, error)
                };
                assert_eq!(waited, 0, "round {round}: epoll_wait was interrupted after a reader was closed: {error}");
            }
        });
    });
    // A reader on a kept ring sees changes as any other.
    std::thread::scope(|s| {
        s.spawn(|| {
            drop(open(&d));
            let mut reader = open(&d);
            for _ in 0..5 {
                reader.list(None, Source::Central).unwrap();
            }
            writer.set("a.example", changes(r#"{"ConnectionLimit":2}"#)).unwrap();
            assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 2);
        });
    });
}

/// Linux: a store mounted over a watched reader's store folder is seen at the next read, also when
/// the reader's reads had stopped asking the kernel (its poll ring has a mount table of its own).
/// Mounting needs a mount namespace of its own, so the test runs itself again under `unshare`
/// (root, or an unprivileged user namespace), and nothing is mounted outside it.
#[cfg(target_os = "linux")]
#[test]
fn a_store_mounted_over_a_watched_store_is_seen_at_the_next_read() {
    const INSIDE: &str = "XMPPFED_TEST_IN_MOUNT_NAMESPACE";
    if std::env::var_os(INSIDE).is_none() {
        let name = "a_store_mounted_over_a_watched_store_is_seen_at_the_next_read";
        let out = std::process::Command::new("unshare")
            .args(["--mount", "--map-root-user", "--"])
            .arg(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(INSIDE, "1")
            .output()
            .expect("unshare (util-linux) runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "the test in its own mount namespace failed:\n{text}");
        return;
    }
    let d = dirs();
    new(&mut open(&d), r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let other = dirs();
    new(&mut open(&other), r#"{"Identity":"a.example","ConnectionLimit":5}"#).unwrap();
    let mut reader = open(&d);
    for _ in 0..3 {
        reader.list(None, Source::Central).unwrap();
    }
    let before = reader.central_unasked_reads();
    for _ in 0..10 {
        assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 1);
    }
    assert_eq!(reader.central_unasked_reads() - before, 10, "the reads asked the kernel: the ring is not tested (is io_uring refused here?)");

    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let (source, target) = (c(&other.central), c(&d.central));
    // SAFETY: NUL-terminated paths; a bind mount in this process's own mount namespace.
    let mounted = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) };
    assert_eq!(mounted, 0, "bind mount failed: {}", std::io::Error::last_os_error());
    let read = reader.get("a.example", Source::Central);
    assert!(matches!(read, Err(Error::StoreMismatch { .. })), "the store under a mount was not noticed: {read:?}");
}

/// A commit appends to the newest copy in the replica folder, also when the copy it wrote last is
/// still there beside a newer one that other processes of this machine wrote, numbered with a gap
/// (copy 2 written and deleted again): a commit reads its own copy without listing the folder only
/// while the folder's names are as they were, and these moved. The settling time is made short (a
/// hidden test knob) so that the folder's stamp counts at every commit below.
#[test]
fn a_commit_follows_a_newer_replica_copy_even_when_the_older_one_stays() {
    let pause = || std::thread::sleep(std::time::Duration::from_millis(60));
    let d = dirs();
    let mut writer = open(&d);
    writer.settle_folders_after(std::time::Duration::from_millis(40));
    new(&mut writer, r#"{"Identity":"a.example"}"#).unwrap();
    pause();
    new(&mut writer, r#"{"Identity":"b.example"}"#).unwrap();
    pause();
    let first = current_log(&d.replica);
    assert_eq!(first, d.replica.join("partners.1.log"));
    // Other processes wrote copies 2 and 3, deleted 2, and could not clear copy 1 away.
    fs::copy(&first, d.replica.join("partners.3.log")).unwrap();
    pause();
    new(&mut writer, r#"{"Identity":"c.example"}"#).unwrap();
    assert_eq!(fs::read(d.replica.join("partners.3.log")).unwrap(), fs::read(log_path(&d)).unwrap());
    assert!(!first.exists(), "the older copy is cleared away");
    let mut reader = open(&d);
    assert_eq!(identities(&reader.list(None, Source::LocalReplica).unwrap()), ["a.example", "b.example", "c.example"]);
}

/// On Windows a handle that has committed keeps the store's files open for reading only, so that
/// others can still open them sharing reading alone (File.ReadAllBytes, Copy-Item, backup tools).
#[test]
#[cfg(windows)]
fn after_commits_the_files_can_be_opened_by_readers_that_share_only_reading() {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_SHARE_READ: u32 = 0x1;
    let d = dirs();
    let mut s = open(&d);
    new(&mut s, r#"{"Identity":"a.example"}"#).unwrap();
    new(&mut s, r#"{"Identity":"b.example"}"#).unwrap();
    for path in [log_path(&d), current_log(&d.replica)] {
        if let Err(e) = fs::OpenOptions::new().read(true).share_mode(FILE_SHARE_READ).open(&path) {
            panic!("{}: {e}", path.display());
        }
    }
    drop(s);
}

/// A reader whose folder has settled asks only its open file whether something changed (no name
/// in the folder moved, so the file is still the current generation); everything else is still
/// seen at the next read: appends, compaction, a file rolled back by renaming, a file whose mode
/// stopped being trusted. The settling time is made short (a hidden test knob) so that every read
/// below, made after it, may take the cheap path; the readers rely on time stamps alone (another
/// knob turns their watch off; see the next test for the watch).
#[test]
fn a_settled_folder_is_refreshed_from_the_open_file_and_every_change_is_still_seen() {
    use std::time::Duration;
    let settle = Duration::from_millis(40);
    let settled = || std::thread::sleep(settle + Duration::from_millis(20));
    let d = dirs();
    let mut writer = open(&d);
    new(&mut writer, r#"{"Identity":"a.example","ConnectionLimit":1}"#).unwrap();
    let mut reader = open(&d);
    reader.settle_folders_after(settle);
    reader.watch_central_reads(false);
    settled();
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 1);

    // Appended by another handle, nothing renamed: the open file's size shows it.
    settled();
    writer.set("a.example", changes(r#"{"ConnectionLimit":2}"#)).unwrap();
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 2);
    settled();
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 2);

    // Compacted by another handle: a new generation, the old one deleted.
    let before = log_path(&d);
    for i in 0..1100 {
        writer.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, 10 + i))).unwrap();
    }
    assert_ne!(log_path(&d), before, "the writer compacted");
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 1109);
    settled();
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 1109);

    // Rolled back after the reader settled: the current file set aside (still linked, so only
    // the folder's names tell) and an older copy renamed into its place.
    let copy = d.central.join("older-copy");
    fs::copy(log_path(&d), &copy).unwrap();
    writer.set("a.example", changes(r#"{"ConnectionLimit":7}"#)).unwrap();
    settled();
    assert_eq!(reader.get("a.example", Source::Central).unwrap().connection_limit, 7);
    settled();
    let current = log_path(&d);
    fs::rename(&current, d.central.join("set-aside")).unwrap();
    fs::rename(&copy, &current).unwrap();
    settled();
    match reader.get("a.example", Source::Central) {
        Err(Error::StoreMismatch { .. }) => {}
        other => panic!("a rolled-back file was served as current: {other:?}"),
    }
    drop(reader);

    // A file that became writable by others, with the folder untouched: refused at once.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let d = dirs();
        new(&mut open(&d), r#"{"Identity":"a.example"}"#).unwrap();
        let mut reader = open(&d);
        reader.settle_folders_after(settle);
        reader.watch_central_reads(false);
        settled();
        assert!(reader.get("a.example", Source::Central).is_ok());
        settled();
        fs::set_permissions(log_path(&d), fs::Permissions::from_mode(0o602)).unwrap();
        match reader.get("a.example", Source::Central) {
            Err(Error::StoreUntrusted { .. }) => {}
            other => panic!("a file writable by others was read: {other:?}"),
        }
    }
}
