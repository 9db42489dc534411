//! Crash safety of imports: a writer process imports whole lists of a few thousand partners
//! through the C ABI, again and again (changing some partners' properties, adding some, sometimes
//! making the store equal to the list with RemoveMissing and moving shared domains between
//! partners, now and then rewriting every partner), and is killed with SIGKILL (on Windows:
//! TerminateProcess) at random moments. After every kill a fresh handle must find the store
//! exactly as the last acknowledged import left it, or exactly as the one import in flight would
//! leave it, never a mix; every partner that one import wrote carries that import's revision;
//! the history is readable and holds one Import entry per partner of the last commit; the replica
//! holds one of the states the store went through.
//!
//! The writer logs, fsynced, an "issued" line (the seed its list is generated from) BEFORE each
//! import and an "ack" line (the plan's committed revision and counts) AFTER it returns. The list
//! is a function of the store's content and the seed, so the harness generates it again.
//!
//! Default: 120 kills (20 to 30 s in a release build on Linux: reading the whole history after
//! each kill is most of it; 40 kills in the Windows build, whose processes start slowly under
//! Wine). More: XMPPFED_IMPORT_CRASH_KILLS=1000.
//! Repeat a run: XMPPFED_IMPORT_CRASH_SEED=<the seed printed>.
//!
//!     cargo --config build/debian-crates.toml test --release --test import_crash -- --nocapture

mod support;

use std::collections::{BTreeMap, HashSet};
use std::hash::Hasher;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;
use xmppfed::transfer::{self, Format};
use xmppfed::{Partner, PartnerType, SaslNegotiation, TlsNegotiation};

const CHILD_TEST: &str = "import_writer_child";
const ROLE: &str = "import-writer";
/// The identities the lists draw from; about 2,000 of them are in the store at a time.
const POOL: u64 = 2200;
/// Domains that RemoveMissing imports hand from partner to partner.
const SHARED: u64 = 20;
const SHARED_SUFFIX: &str = ".shared.import.example";

/// The store's partners, by identity.
type Partners = BTreeMap<String, Partner>;

fn identity(i: u64) -> String {
    format!("p{i:04}.import.example")
}

// ---------------------------------------------------------------------------------------------
// The lists (generated alike by the writer and the harness).

/// Negotiation settings the list accepts (dialback on whenever TLS or SASL is NotSupported).
fn negotiation(rng: &mut Rng, p: &mut Partner) {
    p.tls_negotiation = [TlsNegotiation::Required, TlsNegotiation::Optional, TlsNegotiation::NotSupported][rng.below(3) as usize];
    p.sasl_negotiation = [SaslNegotiation::Required, SaslNegotiation::Optional, SaslNegotiation::NotSupported][rng.below(3) as usize];
    p.support_dialback_negotiation = p.tls_negotiation == TlsNegotiation::NotSupported
        || p.sasl_negotiation == SaslNegotiation::NotSupported
        || rng.below(2) == 0;
}

/// The partner's own subdomains (no other partner claims them), keeping the shared ones it holds.
fn own_domains(rng: &mut Rng, p: &mut Partner) {
    let mut domains: Vec<String> = (0..4).filter(|_| rng.below(3) == 0).map(|k| format!("a{k}.{}", p.identity)).collect();
    domains.extend(p.additional_domains.iter().filter(|d| d.ends_with(SHARED_SUFFIX)).cloned());
    p.additional_domains = domains;
}

fn description(rng: &mut Rng, tag: u64) -> String {
    ["import", "\"quoted\", with a comma", "caf\u{e9}; semicolon", "Stra\u{df}e"][rng.below(4) as usize].to_owned() + &format!(" {tag:x}")
}

fn random_partner(rng: &mut Rng, id: String, tag: u64) -> Partner {
    let mut p = Partner::with_defaults(id);
    p.description = description(rng, tag);
    p.partner_type = [PartnerType::Federated, PartnerType::PublicVerified, PartnerType::PublicUnverified][rng.below(3) as usize];
    p.connection_limit = 1 + rng.below(1000) as u32;
    own_domains(rng, &mut p);
    if rng.below(4) == 0 {
        negotiation(rng, &mut p);
    }
    p
}

/// One property (or, one time in four, several) changed.
fn mutate(rng: &mut Rng, p: &mut Partner, tag: u64) {
    loop {
        match rng.below(7) {
            0 => p.description = description(rng, tag),
            1 => p.connection_limit = 1 + rng.below(1000) as u32,
            2 => p.partner_type = [PartnerType::Federated, PartnerType::PublicVerified, PartnerType::PublicUnverified][rng.below(3) as usize],
            3 => p.enable_keep_alive = !p.enable_keep_alive,
            4 => own_domains(rng, p),
            5 => p.proxy_fqdn = if p.proxy_fqdn.is_empty() { format!("proxy.{}", p.identity) } else { String::new() },
            _ => negotiation(rng, p),
        }
        if rng.below(4) != 0 {
            return;
        }
    }
}

/// One import: its input text, options, and the store's content after it (revisions 0).
struct Planned {
    text: String,
    format: Format,
    remove_missing: bool,
    after: Partners,
}

/// The import of seed `seed` against the store's `content`: most partners as they are, some
/// changed (every one, one import in twenty-four), some added; RemoveMissing one import in four, which
/// also leaves some partners out (removed) and deals out the shared domains afresh.
fn plan_import(content: &Partners, seed: u64) -> Planned {
    let mut rng = Rng::new(seed);
    let remove_missing = rng.below(4) == 0;
    let everything = rng.below(24) == 0;
    let format = if rng.below(3) == 0 { Format::Csv } else { Format::Json };
    let mut items = Partners::new();
    for i in 0..POOL {
        let id = identity(i);
        match content.get(&id) {
            Some(p) => {
                // Not in the list: removed with RemoveMissing, else left as it is.
                if rng.below(100) < 4 {
                    continue;
                }
                let mut q = Partner { revision: 0, ..p.clone() };
                if everything || rng.below(100) < 4 {
                    mutate(&mut rng, &mut q, seed);
                }
                items.insert(id, q);
            }
            None if rng.below(100) < 8 => {
                items.insert(id.clone(), random_partner(&mut rng, id, seed));
            }
            None => {}
        }
    }
    if remove_missing {
        // The list alone is the store: its shared domains, each to one partner, may move.
        for q in items.values_mut() {
            q.additional_domains.retain(|d| !d.ends_with(SHARED_SUFFIX));
        }
        let ids: Vec<String> = items.keys().cloned().collect();
        for j in 0..SHARED {
            if !ids.is_empty() && rng.below(2) == 0 {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                items.get_mut(id).unwrap().additional_domains.push(format!("s{j}{SHARED_SUFFIX}"));
            }
        }
    }
    let text = transfer::export(items.values(), format);
    let after = if remove_missing {
        items
    } else {
        let mut after = content.clone();
        after.extend(items);
        after
    };
    Planned { text, format, remove_missing, after }
}

fn content_of(partners: &Partners) -> Partners {
    partners.iter().map(|(id, p)| (id.clone(), without_revision(p))).collect()
}

fn central_revision(store: &CStore) -> Result<u64, String> {
    let status: Value = serde_json::from_str(&store.status().map_err(|f| f.to_string())?).map_err(|e| e.to_string())?;
    status["CentralRevision"].as_u64().ok_or_else(|| format!("no central revision in the status: {status}"))
}

fn read_partners(store: &CStore, local_store: bool) -> Result<Partners, String> {
    let list = parse_list(&store.list(local_store).map_err(|f| f.to_string())?)?;
    Ok(list.into_iter().map(|p| (p.identity.clone(), p)).collect())
}

// ---------------------------------------------------------------------------------------------
// The writer (a child process).

/// Hidden worker: started by `imports_are_all_or_nothing_under_kill`; does nothing when run by hand.
#[test]
#[ignore = "worker process of imports_are_all_or_nothing_under_kill (re-executed with XMPPFED_TEST_ROLE)"]
fn import_writer_child() {
    if !is_role(ROLE) {
        return;
    }
    let dir = env_path(DIR_ENV);
    let round = env_u64(INDEX_ENV);
    let mut rng = Rng::new(env_u64(SEED_ENV));
    let store = CStore::open(&dir.join("central"), &dir.join("replica")).unwrap_or_else(|f| panic!("writer: open failed: {f}"));
    let mut content = content_of(&read_partners(&store, false).unwrap_or_else(|e| panic!("writer: list failed: {e}")));
    let mut seq = central_revision(&store).unwrap_or_else(|e| panic!("writer: status failed: {e}"));
    let mut acks = OpenOptions::new().create(true).append(true).open(dir.join(format!("acks-{round}.log"))).unwrap();
    // On a line of its own: libtest has already printed "test import_writer_child ... ".
    println!("\nREADY");
    std::io::stdout().flush().unwrap();

    // Never outlive a parent that failed to kill us.
    let deadline = Instant::now() + Duration::from_secs(60);
    for n in 0.. {
        assert!(Instant::now() < deadline, "writer: not killed within 60 s");
        let seed = rng.next_u64();
        let planned = plan_import(&content, seed);
        append_synced(&mut acks, &json!({"Kind":"issued","N":n,"Seed":seed,"Base":seq}));
        // The revision the list was generated against: an import computed against another state
        // must be refused, not applied.
        let options = json!({"Format":planned.format,"RemoveMissing":planned.remove_missing,"ExpectedRevision":seq}).to_string();
        match store.import(&planned.text, Some(&options), false) {
            Ok(plan) => {
                let plan: Value = serde_json::from_str(&plan).expect("the plan is JSON");
                let count = |key: &str| plan[key].as_array().map_or(0, Vec::len);
                let committed = plan["CommittedRevision"].as_u64();
                append_synced(
                    &mut acks,
                    &json!({"Kind":"ack","N":n,"Code":OK,"Committed":committed,"Added":count("Added"),"Changed":count("Changed"),
                            "Removed":count("Removed"),"Rejected":count("Rejected")}),
                );
                content = planned.after;
                seq = committed.unwrap_or(seq);
            }
            Err(f) => {
                append_synced(&mut acks, &json!({"Kind":"ack","N":n,"Code":f.code,"Message":f.message}));
                // The harness reports it; wait for the kill rather than write on from a state
                // that is not known.
                while Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The harness (the parent).

#[derive(Default)]
struct Figures {
    kills: usize,
    imports_acknowledged: usize,
    partners_written: usize,
    in_flight: usize,
    in_flight_applied: usize,
    remove_missing: usize,
    nothing_to_change: usize,
    torn_tails: usize,
    compactions: usize,
    replica_behind: usize,
    largest_line: usize,
}

/// A state of the store: its partners (with revisions), its last commit, and how many partner
/// changes that commit held (`None`: not known, after a failed check).
#[derive(Clone, PartialEq)]
struct StoreState {
    partners: Partners,
    seq: u64,
    last_commit_changes: Option<usize>,
}

struct Harness {
    central: PathBuf,
    replica: PathBuf,
    /// The store as observed after the previous kill (where the next writer starts).
    state: StoreState,
    last_header: Vec<u8>,
    /// Every state the store went through (fingerprints): what the replica may hold.
    seen: HashSet<u64>,
    figures: Figures,
    failures: Vec<String>,
}

fn fingerprint(partners: &Partners) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hasher.write(&serde_json::to_vec(partners).expect("partners serialize"));
    hasher.finish()
}

/// `before` after an import that leaves `after` (content): the written partners at `before.seq + 1`.
fn applied(before: &StoreState, after: &Partners) -> (StoreState, [usize; 3]) {
    let seq = before.seq + 1;
    let (mut added, mut changed) = (0, 0);
    let mut partners = Partners::new();
    for (id, p) in after {
        let kept = match before.partners.get(id) {
            Some(old) if same_content(old, p) => old.clone(),
            Some(_) => {
                changed += 1;
                Partner { revision: seq, ..p.clone() }
            }
            None => {
                added += 1;
                Partner { revision: seq, ..p.clone() }
            }
        };
        partners.insert(id.clone(), kept);
    }
    let removed = before.partners.keys().filter(|id| !after.contains_key(*id)).count();
    let changes = added + changed + removed;
    let state = if changes == 0 { before.clone() } else { StoreState { partners, seq, last_commit_changes: Some(changes) } };
    (state, [added, changed, removed])
}

/// How two states differ, in a few words.
fn difference(a: &Partners, b: &Partners) -> String {
    let differing: Vec<&String> = a.keys().chain(b.keys()).filter(|id| a.get(*id) != b.get(*id)).collect();
    let shown: Vec<String> = differing.iter().take(3).map(|id| format!("{id}: {:?} / {:?}", a.get(*id), b.get(*id))).collect();
    format!("{} identities differ, e.g. {}", differing.len(), shown.join("; "))
}

impl Harness {
    fn fail(&mut self, round: usize, what: String) {
        eprintln!("import crash: round {round}: {what}");
        self.failures.push(format!("round {round}: {what}"));
    }

    /// The states the store went through in this round (from the acknowledgements), and the
    /// state of the import in flight when the writer was killed, if any.
    fn replay_acks(&mut self, round: usize) -> (Vec<StoreState>, Option<StoreState>) {
        let mut states = vec![self.state.clone()];
        let mut pending: Option<(u64, StoreState, [usize; 3])> = None;
        let bytes = fs::read(self.central.parent().unwrap().join(format!("acks-{round}.log"))).unwrap_or_default();
        // A line cut short by the kill was never fsynced as a whole: ignore it.
        for line in complete_lines(&bytes).split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let rec: Value = match serde_json::from_slice(line) {
                Ok(v) => v,
                Err(e) => {
                    self.fail(round, format!("ack file has an unreadable complete line ({e})"));
                    continue;
                }
            };
            let n = rec["N"].as_u64().unwrap();
            let current = states.last().unwrap().clone();
            if rec["Kind"] == "issued" {
                if rec["Base"].as_u64() != Some(current.seq) {
                    self.fail(round, format!("harness: import {n} issued at revision {}, expected {}", rec["Base"], current.seq));
                }
                let planned = plan_import(&content_of(&current.partners), rec["Seed"].as_u64().unwrap());
                self.figures.remove_missing += planned.remove_missing as usize;
                let (after, counts) = applied(&current, &planned.after);
                pending = Some((n, after, counts));
                continue;
            }
            let Some((_, after, counts)) = pending.take().filter(|(pn, ..)| *pn == n) else {
                self.fail(round, format!("harness: ack {n} without its issued line"));
                continue;
            };
            if rec["Code"].as_i64() != Some(OK as i64) {
                self.fail(round, format!("import {n} failed: code {} ({})", rec["Code"], rec["Message"]));
                continue;
            }
            self.figures.imports_acknowledged += 1;
            let changes: usize = counts.iter().sum();
            let expected_commit = (changes > 0).then_some(current.seq + 1);
            if rec["Committed"].as_u64() != expected_commit {
                self.fail(round, format!("import {n}: CommittedRevision {}, expected {expected_commit:?}", rec["Committed"]));
            }
            let reported = [rec["Added"].as_u64(), rec["Changed"].as_u64(), rec["Removed"].as_u64()].map(|c| c.unwrap_or(u64::MAX) as usize);
            if reported != counts || rec["Rejected"].as_u64() != Some(0) {
                self.fail(round, format!("import {n}: the plan added/changed/removed {reported:?} (rejected {}), expected {counts:?}", rec["Rejected"]));
            }
            if changes == 0 {
                self.figures.nothing_to_change += 1;
            }
            self.figures.partners_written += counts[0] + counts[1];
            states.push(after);
        }
        (states, pending.map(|(_, after, _)| after))
    }

    fn verify(&mut self, round: usize) {
        let (states, pending) = self.replay_acks(round);
        self.figures.in_flight += pending.is_some() as usize;
        let acknowledged = states.last().unwrap().clone();

        let central_bytes = current_log(&self.central).map(|p| fs::read(p).unwrap_or_default()).unwrap_or_default();
        if !central_bytes.is_empty() && central_bytes.last() != Some(&b'\n') {
            self.figures.torn_tails += 1;
        }
        let longest = complete_lines(&central_bytes).split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap_or(0);
        self.figures.largest_line = self.figures.largest_line.max(longest);
        let header = first_line(&central_bytes).to_vec();
        if !self.last_header.is_empty() && header != self.last_header {
            self.figures.compactions += 1;
        }
        self.last_header = header;

        // A fresh handle: the store must open and read (a torn tail is fine, damage is not).
        let store = match CStore::open(&self.central, &self.replica) {
            Ok(s) => s,
            Err(f) => return self.fail(round, format!("the store does not open after the kill: {f}")),
        };
        let observed = match read_partners(&store, false).and_then(|p| Ok(StoreState { seq: central_revision(&store)?, partners: p, last_commit_changes: None })) {
            Ok(o) => o,
            Err(e) => return self.fail(round, format!("the store cannot be read after the kill: {e}")),
        };
        for p in observed.partners.values() {
            if let Err(e) = check_valid(p) {
                self.fail(round, e);
            }
        }

        // All or nothing: exactly the last acknowledged state, or exactly the one in flight.
        let same = |a: &StoreState, b: &StoreState| a.partners == b.partners && a.seq == b.seq;
        let now = if same(&observed, &acknowledged) {
            acknowledged.clone()
        } else if let Some(p) = pending.as_ref().filter(|p| same(&observed, p)) {
            self.figures.in_flight_applied += 1;
            p.clone()
        } else {
            let in_flight = pending.as_ref().map_or("no import was in flight".to_owned(), |p| {
                format!("against the import in flight (revision {}): {}", p.seq, difference(&p.partners, &observed.partners))
            });
            let msg = format!(
                "MIXED OR LOST: the store is at revision {} with {} partners; against the last acknowledged import (revision {}): {}; {in_flight}",
                observed.seq,
                observed.partners.len(),
                acknowledged.seq,
                difference(&acknowledged.partners, &observed.partners),
            );
            self.fail(round, msg);
            // The next writer starts from what is there: each round is checked on its own.
            self.seen.insert(fingerprint(&observed.partners));
            self.state = observed;
            return;
        };

        // The history is readable, and its newest commit is that import, one entry per partner.
        let k = now.last_commit_changes.unwrap_or(0);
        match store.history(Some(&json!({"First": k + 1}).to_string())).map_err(|f| f.to_string()).and_then(|h| serde_json::from_str::<Vec<Value>>(&h).map_err(|e| e.to_string())) {
            Err(e) => self.fail(round, format!("the history cannot be read: {e}")),
            Ok(entries) => {
                let of_last = entries.iter().filter(|e| e["Revision"].as_u64() == Some(now.seq)).count();
                let imports = entries.iter().take(k).all(|e| e["Operation"] == "Import" && e["Revision"].as_u64() == Some(now.seq));
                let older = entries.get(k).map_or(true, |e| e["Revision"].as_u64().map_or(false, |r| r < now.seq));
                if now.seq > 0 && now.last_commit_changes.is_some() && (of_last != k || !imports || !older) {
                    self.fail(round, format!("the history's newest commit {} has {of_last} entries (all Import, newest first: {}), expected {k}", now.seq, imports && older));
                }
            }
        }

        // The replica holds one of the states the store went through, whole (it is refreshed
        // after each commit; a kill between the two leaves it behind until the next commit).
        for state in states.iter().chain(pending.iter()) {
            self.seen.insert(fingerprint(&state.partners));
        }
        if current_log(&self.replica).is_some() {
            match read_partners(&store, true) {
                Err(e) => self.fail(round, format!("the replica cannot be read: {e}")),
                Ok(local) if local == now.partners => {}
                Ok(local) if self.seen.contains(&fingerprint(&local)) => self.figures.replica_behind += 1,
                Ok(local) => {
                    let msg = format!("the replica holds a state the store never had: {}", difference(&now.partners, &local));
                    self.fail(round, msg);
                }
            }
        }
        self.state = now;
    }
}

#[test]
fn imports_are_all_or_nothing_under_kill() {
    let kills = env_count("XMPPFED_IMPORT_CRASH_KILLS", if cfg!(windows) { 40 } else { 120 });
    let seed = seed_from_env("XMPPFED_IMPORT_CRASH_SEED");
    println!("import crash: seed={seed} (repeat with XMPPFED_IMPORT_CRASH_SEED={seed}) kills={kills}");
    let root = scratch("import-crash-");
    let central = root.path().join("central");
    fs::create_dir(&central).unwrap();
    let mut h = Harness {
        replica: root.path().join("replica"),
        central,
        state: StoreState { partners: Partners::new(), seq: 0, last_commit_changes: Some(0) },
        last_header: Vec::new(),
        seen: HashSet::from([fingerprint(&Partners::new())]),
        figures: Figures::default(),
        failures: Vec::new(),
    };
    let mut rng = Rng::new(seed);
    let started = Instant::now();

    for round in 0..kills {
        let envs = [(DIR_ENV, root.path().to_str().unwrap().to_owned()), (INDEX_ENV, round.to_string()), (SEED_ENV, rng.next_u64().to_string())];
        // An import takes tens of milliseconds (more under Wine): kills spread over that.
        let max_delay_ms = if cfg!(windows) { 400 } else { 150 };
        match kill_worker_at_random(&mut worker_command(CHILD_TEST, ROLE, &envs), &mut rng, max_delay_ms, Duration::from_secs(30)) {
            KillRound::Killed => {}
            KillRound::NotReady(status) => {
                h.fail(round, format!("the writer did not get ready within 30 s ({status})"));
                break;
            }
            KillRound::EndedByItself(status) => h.fail(round, format!("the writer ended by itself ({status}), not by the kill")),
        }
        h.figures.kills += 1;
        h.verify(round);
        if h.failures.len() >= 10 {
            break;
        }
    }

    // At the end, an explicit refresh makes the replica the central store's copy.
    if let Ok(store) = CStore::open(&h.central, &h.replica) {
        if let Err(f) = store.replicate() {
            h.failures.push(format!("xmppfed_store_replicate failed at the end: {f}"));
        } else if read_partners(&store, true) != read_partners(&store, false) {
            h.failures.push("after a refresh the replica differs from the central store".into());
        }
    }
    let f = &h.figures;
    println!(
        "import crash: kills={} imports_acknowledged={} partners_written={} remove_missing={} nothing_to_change={} \
         in_flight_applied={} (of {} in flight) torn_tails={} compactions={} replica_behind={} largest_line={} B \
         partners_now={} revision_now={} seed={} elapsed={:.1}s",
        f.kills,
        f.imports_acknowledged,
        f.partners_written,
        f.remove_missing,
        f.nothing_to_change,
        f.in_flight_applied,
        f.in_flight,
        f.torn_tails,
        f.compactions,
        f.replica_behind,
        f.largest_line,
        h.state.partners.len(),
        h.state.seq,
        seed,
        started.elapsed().as_secs_f64()
    );
    if !h.failures.is_empty() {
        let kept = root.into_path();
        panic!("import crash safety failed (seed {seed}; store kept in {}):\n{}", kept.display(), h.failures.join("\n"));
    }
    assert!(h.figures.imports_acknowledged > 0, "the writers never got an import acknowledged");
    assert!(h.figures.in_flight > 0, "no writer was ever killed during an import");
}
