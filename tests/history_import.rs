//! The change history and the whole-list import and export, through the public Rust API, on
//! both kinds of central store: a folder, and PostgreSQL (the throwaway cluster of
//! scripts/postgres.sh, as in tests/postgres_store.rs).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use xmppfed::history::{HistoryQuery, HistoryView, Operation};
use xmppfed::store::Source;
use xmppfed::transfer::{Format, ImportOptions};
use xmppfed::{Environment, Error, NewPartner, PartnerChanges, Store, StoreOptions};

/// A central store for one test, and where its handles keep their replicas.
struct Central {
    location: PathBuf,
    root: tempfile::TempDir,
    replicas: std::cell::Cell<u32>,
}

impl Central {
    fn folder() -> Central {
        let root = tempfile::tempdir().unwrap();
        let location = root.path().join("central");
        fs::create_dir(&location).unwrap();
        Central { location, root, replicas: Default::default() }
    }

    #[cfg(feature = "postgres")]
    fn postgres(prefix: &str) -> Central {
        Central { location: PathBuf::from(support::fresh_postgres_database(prefix)), root: tempfile::tempdir().unwrap(), replicas: Default::default() }
    }

    /// A new handle, as another process or machine would open the store (its own replica).
    fn open(&self) -> Store {
        self.replicas.set(self.replicas.get() + 1);
        Store::open(StoreOptions {
            central: Some(self.location.clone()),
            replica: Some(self.root.path().join(format!("replica-{}", self.replicas.get()))),
            lock_timeout: None,
            environment: Environment::snapshot(Default::default()),
        })
        .unwrap()
    }

    fn is_folder(&self) -> bool {
        self.location.is_dir()
    }
}

fn new(json: &str) -> NewPartner {
    serde_json::from_str(json).unwrap()
}

fn changes(json: &str) -> PartnerChanges {
    serde_json::from_str(json).unwrap()
}

fn query(json: &str) -> HistoryQuery {
    serde_json::from_str(json).unwrap()
}

/// The OS account the tests run as, from the system (not `$USER`).
fn account() -> String {
    #[cfg(unix)]
    {
        let out = std::process::Command::new("id").arg("-un").output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
    #[cfg(windows)]
    {
        std::env::var("USERNAME").unwrap()
    }
}

fn summary(h: &[HistoryView]) -> Vec<(u64, Operation, &str)> {
    h.iter().map(|v| (v.entry.revision, v.entry.details.operation, v.entry.identity.as_str())).collect()
}

fn history_says_who_changed_what_and_when(c: &Central) {
    let started = std::time::SystemTime::now();
    let mut s = c.open();
    s.create(new(r#"{"Identity":"a.example","Description":"first"}"#)).unwrap();
    s.create(new(r#"{"Identity":"b.example"}"#)).unwrap();
    s.set("a.example", changes(r#"{"ConnectionLimit":40,"AdditionalDomains":{"Add":"x.example"}}"#)).unwrap();
    s.remove("b.example").unwrap();

    // Read by another handle: the history is the store's, not this process's memory.
    let h = c.open().history(&HistoryQuery::default()).unwrap();
    assert_eq!(summary(&h), [(4, Operation::Remove, "b.example"), (3, Operation::Set, "a.example"), (2, Operation::Create, "b.example"), (1, Operation::Create, "a.example")]);
    let me = account();
    let machine = hostname();
    for v in &h {
        assert_eq!((v.entry.details.user.as_str(), v.entry.details.machine.as_str()), (me.as_str(), machine.as_str()));
        let at = xmppfed::history::parse_time(&v.entry.details.at).expect("At is RFC 3339");
        let since = started.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!(at >= since - 1 && at <= since + 120, "{} is not the time of the commit", v.entry.details.at);
    }
    // What changed, property by property; a creation and a removal name every property.
    let set = &h[1];
    let changed: Vec<_> = set.changes.iter().map(|c| (c.property, c.old.as_deref(), c.new.as_deref())).collect();
    assert_eq!(changed, [("AdditionalDomains", Some(""), Some("x.example")), ("ConnectionLimit", Some("20"), Some("40"))]);
    assert_eq!(set.entry.before.as_ref().unwrap().revision, 1);
    assert_eq!(set.entry.after.as_ref().unwrap().revision, 3);
    assert!(h[0].entry.after.is_none() && h[0].entry.before.as_ref().unwrap().identity == "b.example");
    assert!(h[0].changes.iter().all(|c| c.new.is_none()) && h[0].changes.len() == 10);
    assert!(h[3].entry.before.is_none() && h[3].changes.iter().any(|c| c.property == "Description" && c.new.as_deref() == Some("first")));

    // Filters: identity (a wildcard, any case), time, and the newest n.
    assert_eq!(summary(&s.history(&query(r#"{"Identity":"A.*"}"#)).unwrap()), [(3, Operation::Set, "a.example"), (1, Operation::Create, "a.example")]);
    assert_eq!(s.history(&query(r#"{"First":1}"#)).unwrap().len(), 1);
    assert!(s.history(&query(r#"{"After":"2999-01-01T00:00:00Z"}"#)).unwrap().is_empty());
    assert_eq!(s.history(&query(r#"{"Before":"2999-01-01T00:00:00+02:00","After":"2000-01-01T00:00:00Z"}"#)).unwrap().len(), 4);
    match s.history(&query(r#"{"After":"yesterday"}"#)) {
        Err(Error::InvalidValue { field: "After", problem }) => assert!(problem.contains("'yesterday'"), "{problem}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.history(&query(r#"{"Identity":"[a"}"#)), Err(Error::InvalidFilter { .. })));
}

fn hostname() -> String {
    #[cfg(unix)]
    {
        let out = std::process::Command::new("hostname").output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
    #[cfg(windows)]
    {
        std::env::var("COMPUTERNAME").unwrap()
    }
}

/// History outlives compaction (folder) and old log rows (PostgreSQL) for the newest commits it
/// keeps, and no further; a handle that fell behind the kept rows still catches up.
fn history_keeps_the_newest_commits_across_compaction_and_reopening(c: &Central) {
    const KEEP: u64 = 300;
    let mut s = c.open();
    s.retain_history_commits(KEEP);
    let mut behind = c.open();
    s.create(new(r#"{"Identity":"a.example"}"#)).unwrap();
    assert_eq!(behind.list(None, Source::Central).unwrap().len(), 1);
    // Enough commits for a folder to compact twice (more changes than 2 × partners + 1000
    // each time), so that the second compaction cuts the history the first one carried.
    let total = 2500u64;
    for i in 2..=total {
        s.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, i % 500 + 1))).unwrap();
    }
    if c.is_folder() {
        let names: Vec<String> = fs::read_dir(&c.location).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(names.iter().any(|n| n == "history.3.log") && names.iter().any(|n| n == "partners.3.log"), "no second compaction: {names:?}");
    }
    let mut reopened = c.open();
    let h = reopened.history(&HistoryQuery::default()).unwrap();
    let revisions: Vec<u64> = h.iter().map(|v| v.entry.revision).collect();
    assert_eq!(revisions.first(), Some(&total));
    // Everything after the cut is there, once, in order; the folder may keep more (it cuts only
    // at compaction), never less.
    let oldest = *revisions.last().unwrap();
    assert!(oldest <= total - KEEP + 1, "kept only back to {oldest}");
    assert!(revisions.windows(2).all(|w| w[0] == w[1] + 1), "gaps or repeats in the history");
    if c.is_folder() {
        // Cut at the last compaction, at most 1,001 commits ago: to its revision less KEEP.
        assert!(oldest > total - 1001 - KEEP, "kept back to {oldest}: the carried history was not cut");
    } else {
        assert_eq!(oldest, total - KEEP + 1);
        assert_eq!(support::psql(c.location.to_str().unwrap(), "SELECT count(*) FROM xmppfed_log"), KEEP.to_string());
    }
    // The handle that read revision 1 only catches up over the dropped history.
    assert_eq!(behind.get("a.example", Source::Central).unwrap().revision, total);
    behind.set("a.example", changes(r#"{"Description":"caught up"}"#)).unwrap();
    assert_eq!(s.get("a.example", Source::Central).unwrap().description, "caught up");
}

fn export_text(s: &mut Store, format: Format) -> String {
    s.export(None, format, Source::Central).unwrap()
}

fn options(json: &str) -> ImportOptions {
    serde_json::from_str(json).unwrap()
}

/// Import is the difference applied as one commit, or nothing.
fn an_import_is_one_commit_all_or_nothing(c: &Central) {
    let mut s = c.open();
    s.create(new(r#"{"Identity":"keep.example","AdditionalDomains":["k.example"]}"#)).unwrap();
    s.create(new(r#"{"Identity":"change.example"}"#)).unwrap();
    s.create(new(r#"{"Identity":"gone.example"}"#)).unwrap();
    let before = export_text(&mut s, Format::Json);

    let input = r#"[
      {"Identity":"keep.example","AdditionalDomains":"k.example"},
      {"Identity":"change.example","Description":"changed","ConnectionLimit":"5"},
      {"Identity":"new1.example"},
      {"Identity":"new2.example","TlsNegotiation":"Optional"}
    ]"#;
    // The preview writes nothing and says what would happen.
    let preview = s.import(input, options(r#"{"RemoveMissing":true}"#), false).unwrap();
    assert_eq!(preview.base_revision, 3);
    assert_eq!((preview.added.len(), preview.changed.len(), preview.removed.len(), preview.unchanged.len()), (2, 1, 1, 1));
    assert_eq!(preview.committed_revision, None);
    assert_eq!(export_text(&mut s, Format::Json), before);

    // A rejected item: nothing is imported, and the store is as it was.
    let bad = input.replace("new1.example", "bad domain!");
    match s.import(&bad, options(r#"{"RemoveMissing":true}"#), true) {
        Err(Error::ImportRejected { count: 1, first }) => assert!(first.contains("position 3") && first.contains("bad domain!"), "{first}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(export_text(&mut s, Format::Json), before);
    // The store moved on since the preview: refused, nothing imported.
    c.open().set("keep.example", changes(r#"{"Description":"meanwhile"}"#)).unwrap();
    let stale = options(&format!(r#"{{"RemoveMissing":true,"ExpectedRevision":{}}}"#, preview.base_revision));
    assert!(matches!(s.import(input, stale, true), Err(Error::StoreChanged { expected: 3, actual: 4 })));
    assert_eq!(s.get("change.example", Source::Central).unwrap().description, "");

    // Applied: one commit, every written partner at its revision, one history entry each.
    let done = s.import(input, options(r#"{"RemoveMissing":true,"ExpectedRevision":4}"#), true).unwrap();
    assert_eq!(done.committed_revision, Some(5));
    let list = c.open().list(None, Source::Central).unwrap();
    let got: Vec<(&str, u64)> = list.iter().map(|p| (p.identity.as_str(), p.revision)).collect();
    assert_eq!(got, [("change.example", 5), ("keep.example", 5), ("new1.example", 5), ("new2.example", 5)], "keep.example's description is reset to the input's");
    let h = s.history(&query(r#"{"After":"2000-01-01T00:00:00Z"}"#)).unwrap();
    let import: Vec<_> = h.iter().filter(|v| v.entry.revision == 5).map(|v| (v.entry.details.operation, v.entry.identity.as_str())).collect();
    assert_eq!(import.len(), 5, "{import:?}");
    assert!(import.iter().all(|(op, _)| *op == Operation::Import));
    assert!(import.iter().any(|(_, id)| *id == "gone.example"));
    // Importing the store's own export changes nothing and commits nothing.
    for format in [Format::Json, Format::Csv] {
        let text = export_text(&mut s, format);
        let again = s.import(&text, ImportOptions { format, remove_missing: true, expected_revision: None }, true).unwrap();
        assert_eq!((again.change_count(), again.unchanged.len(), again.committed_revision), (0, 4, None), "{format:?}");
    }
    assert_eq!(s.status().central_revision, Some(5));
    // A domain moves from one partner to another within one import.
    let moved = r#"[{"Identity":"keep.example"},{"Identity":"change.example","AdditionalDomains":["k.example"]}]"#;
    s.import(moved, ImportOptions::default(), true).unwrap();
    assert_eq!(s.explain("k.example", Source::Central).unwrap().partner.as_deref(), Some("change.example"));
    assert_eq!(s.list(None, Source::LocalReplica).unwrap().len(), 4, "the importing handle's replica follows");
}

/// 20,000 partners are one commit: one line in a folder's log.
fn a_large_import_is_one_commit(c: &Central) {
    let mut s = c.open();
    let items: Vec<String> = (0..20_000).map(|i| format!(r#"{{"Identity":"p{i}.example","AdditionalDomains":["x{i}.example"]}}"#)).collect();
    let input = format!("[{}]", items.join(","));
    let started = std::time::Instant::now();
    let plan = s.import(&input, ImportOptions::default(), true).unwrap();
    eprintln!("imported 20,000 partners in {:?}", started.elapsed());
    assert_eq!((plan.added.len(), plan.committed_revision), (20_000, Some(1)));
    assert_eq!(c.open().list(None, Source::Central).unwrap().len(), 20_000);
    if c.is_folder() {
        let log = fs::read(xmppfed::store::log::current_file(&c.location).unwrap().unwrap()).unwrap();
        assert_eq!(log.iter().filter(|&&b| b == b'\n').count(), 2, "a header and one commit line");
    }
    assert_eq!(s.history(&query(r#"{"Identity":"p1999*"}"#)).unwrap().len(), 1 + 10);
}

#[test]
fn folder_history_says_who_changed_what_and_when() {
    history_says_who_changed_what_and_when(&Central::folder());
}

#[test]
fn folder_history_keeps_the_newest_commits_across_compaction_and_reopening() {
    history_keeps_the_newest_commits_across_compaction_and_reopening(&Central::folder());
}

#[test]
fn folder_import_is_one_commit_all_or_nothing() {
    an_import_is_one_commit_all_or_nothing(&Central::folder());
}

#[test]
fn folder_large_import_is_one_commit() {
    a_large_import_is_one_commit(&Central::folder());
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_history_says_who_changed_what_and_when() {
    history_says_who_changed_what_and_when(&Central::postgres("xt_hist"));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_history_keeps_the_newest_commits_and_trims_the_log() {
    history_keeps_the_newest_commits_across_compaction_and_reopening(&Central::postgres("xt_histkeep"));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_import_is_one_commit_all_or_nothing() {
    an_import_is_one_commit_all_or_nothing(&Central::postgres("xt_import"));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_large_import_is_one_commit() {
    a_large_import_is_one_commit(&Central::postgres("xt_bigimport"));
}

/// A store written by format 2 (no commit details) is read as it is; its first commit moves it to
/// format 3 by compaction, and history starts there.
#[test]
fn a_format_2_store_is_read_and_its_first_commit_moves_it_to_format_3() {
    use xmppfed::store::log;
    let c = Central::folder();
    let gen1 = log::generation_path(&c.location, 1);
    let line = |json: &str| log::frame(json.as_bytes());
    let mut bytes = line(r#"{"Format":"xmppfed-log","Version":2,"StoreId":"0123456789abcdef0123456789abcdef","Generation":1,"Seq":0}"#);
    let partner = |id: &str, rev: u64| serde_json::json!({"Identity":id,"Domain":id,"AdditionalDomains":[],"Description":"","ProxyFqdn":"","PartnerType":"PublicUnverified","TlsNegotiation":"Required","SaslNegotiation":"Required","SupportDialbackNegotiation":true,"EnableKeepAlive":true,"ConnectionLimit":20,"Revision":rev});
    bytes.extend(line(&serde_json::json!({"Seq":1,"Put":partner("old.example",1)}).to_string()));
    bytes.extend(line(&serde_json::json!({"Seq":2,"Put":partner("older.example",2)}).to_string()));
    bytes.extend(line(r#"{"Seq":3,"Remove":"older.example"}"#));
    write_private(&gen1, &bytes);
    let mut s = c.open();
    assert_eq!(s.list(None, Source::Central).unwrap().iter().map(|p| p.identity.as_str()).collect::<Vec<_>>(), ["old.example"]);
    assert!(s.history(&HistoryQuery::default()).unwrap().is_empty(), "format 2 recorded no history");
    s.create(new(r#"{"Identity":"new.example"}"#)).unwrap();
    let gen2 = fs::read(log::generation_path(&c.location, 2)).unwrap();
    assert!(String::from_utf8_lossy(&gen2).contains(r#""Version":3"#));
    assert!(!gen1.exists(), "the format 2 file is cleared away");
    assert_eq!(summary(&s.history(&HistoryQuery::default()).unwrap()), [(4, Operation::Create, "new.example")]);
}

fn write_private(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A damaged history file is reported by the history, and costs the list nothing.
#[test]
fn a_damaged_history_file_is_reported_and_the_list_still_served() {
    let c = Central::folder();
    let mut s = c.open();
    s.create(new(r#"{"Identity":"a.example"}"#)).unwrap();
    for i in 0..1100 {
        s.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, i % 100 + 1))).unwrap();
    }
    let history = c.location.join("history.2.log");
    let mut bytes = fs::read(&history).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    write_private(&history, &bytes);
    let mut fresh = c.open();
    assert!(matches!(fresh.history(&HistoryQuery::default()), Err(Error::StoreCorrupt { ref path, .. }) if path.ends_with("history.2.log")));
    assert_eq!(fresh.list(None, Source::Central).unwrap().len(), 1);
    assert!(fresh.set("a.example", changes(r#"{"Description":"still writable"}"#)).is_ok());
}

/// The `history.<generation>.log` files in a central folder, by generation.
fn history_files(dir: &Path) -> Vec<u64> {
    let mut generations: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().unwrap().strip_prefix("history.")?.strip_suffix(".log")?.parse().ok())
        .collect();
    generations.sort();
    generations
}

/// Commits on one partner until the folder has compacted into `generation`.
fn churn_until_generation(s: &mut Store, dir: &Path, generation: u64) {
    let newest = dir.join(format!("partners.{generation}.log"));
    let mut i = 0;
    while !newest.exists() {
        i += 1;
        assert!(i < 5000, "no compaction into generation {generation}");
        s.set("a.example", changes(&format!(r#"{{"ConnectionLimit":{}}}"#, i % 100 + 1))).unwrap();
    }
}

/// Each compaction writes a history file holding everything retained, which supersedes the
/// earlier ones: only the current generation's and the one before it (a reader may have just
/// moved to it) stay, so a store that is changed forever does not fill its disk, and the
/// history stays whole.
#[test]
fn compaction_keeps_two_history_files_and_the_history_whole() {
    let c = Central::folder();
    let mut s = c.open();
    s.create(new(r#"{"Identity":"a.example"}"#)).unwrap();
    churn_until_generation(&mut s, &c.location, 2);
    assert_eq!(history_files(&c.location), [2]);
    churn_until_generation(&mut s, &c.location, 3);
    assert_eq!(history_files(&c.location), [2, 3]);
    churn_until_generation(&mut s, &c.location, 4);
    assert_eq!(history_files(&c.location), [3, 4], "the superseded history file of generation 2 is still there");
    let top = s.get("a.example", Source::Central).unwrap().revision;
    let h = c.open().history(&HistoryQuery::default()).unwrap();
    let revisions: Vec<u64> = h.iter().map(|v| v.entry.revision).collect();
    assert_eq!(revisions, (1..=top).rev().collect::<Vec<_>>(), "the history lost or repeated commits");
}

/// Superseded history files that earlier builds left after each compaction are deleted by the
/// first commit of a handle; the current generation's and the one before it are kept, and so
/// is the history.
#[test]
fn the_first_commit_clears_history_files_earlier_builds_left() {
    let c = Central::folder();
    let mut s = c.open();
    s.create(new(r#"{"Identity":"a.example"}"#)).unwrap();
    churn_until_generation(&mut s, &c.location, 4);
    // What an earlier build left: the history files of generations 2 and 3 beside 4's.
    let kept = fs::read(c.location.join("history.3.log")).unwrap();
    write_private(&c.location.join("history.2.log"), &kept);
    drop(s);
    assert_eq!(history_files(&c.location), [2, 3, 4]);
    let before = c.open().history(&HistoryQuery::default()).unwrap().len();

    let mut reader = c.open();
    assert_eq!(reader.list(None, Source::Central).unwrap().len(), 1);
    assert_eq!(history_files(&c.location), [2, 3, 4], "a read deleted files");
    let mut writer = c.open();
    writer.set("a.example", changes(r#"{"Description":"first commit of this handle"}"#)).unwrap();
    assert_eq!(history_files(&c.location), [3, 4]);
    assert_eq!(c.open().history(&HistoryQuery::default()).unwrap().len(), before + 1);
}

/// A schema-1 database (log rows without commit details) is marked version 2 by Initialize, or
/// by its first commit; its old rows are no history, its new ones are.
#[cfg(feature = "postgres")]
#[test]
fn postgres_schema_1_is_upgraded_by_initialize_or_the_first_commit() {
    use xmppfed::store::InitializeAction;
    for by_initialize in [true, false] {
        let c = Central::postgres("xt_upgrade");
        let db = c.location.to_str().unwrap().to_owned();
        let mut s = c.open();
        s.create(new(r#"{"Identity":"a.example"}"#)).unwrap();
        // As a version-1 library left it: the row as format 2 wrote it, the schema marked 1.
        support::psql(&db, r#"UPDATE xmppfed_log SET change = jsonb_build_object('Seq', 1, 'Put', change->'Changes'->0->'Put')"#);
        support::psql(&db, "UPDATE xmppfed_meta SET schema_version = 1");
        let mut old = c.open();
        assert_eq!(old.list(None, Source::Central).unwrap().len(), 1);
        assert!(old.history(&HistoryQuery::default()).unwrap().is_empty());
        if by_initialize {
            let preview = old.initialize(false).unwrap();
            assert_eq!((preview.action, preview.version), (InitializeAction::Upgraded, 2));
            assert_eq!(support::psql(&db, "SELECT schema_version FROM xmppfed_meta"), "1", "a preview changed the schema");
            assert_eq!(old.initialize(true).unwrap().action, InitializeAction::Upgraded);
            assert_eq!(support::psql(&db, "SELECT schema_version FROM xmppfed_meta"), "2");
            assert_eq!(old.initialize(true).unwrap().action, InitializeAction::Current);
        }
        old.set("a.example", changes(r#"{"Description":"now with history"}"#)).unwrap();
        assert_eq!(support::psql(&db, "SELECT schema_version FROM xmppfed_meta"), "2");
        assert_eq!(summary(&c.open().history(&HistoryQuery::default()).unwrap()), [(2, Operation::Set, "a.example")]);
    }
}
