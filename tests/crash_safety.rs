//! Crash safety: a writer process drives the store through the C ABI and is killed with SIGKILL
//! (on Windows: TerminateProcess) at random moments, again and again; after every kill a fresh handle must find every
//! acknowledged change, nothing half-applied, and a readable, prefix-consistent replica.
//!
//! The writer logs, fsynced, an "issued" line (with the state the change should produce) BEFORE
//! each call and an "ack" line (the state the library returned) AFTER it returns. So after a kill,
//! for every identity the store must hold the last acknowledged state, or the state of the one
//! change that was in flight (issued, not acknowledged).
//!
//! Default: 400 kills (well under a minute in a release build). Long mode: XMPPFED_CRASH_KILLS=5000.
//! Repeat a run: XMPPFED_CRASH_SEED=<the seed printed>.
//!
//!     cargo --config build/debian-crates.toml test --release --test crash_safety -- --nocapture

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;
use xmppfed::Partner;

const CHILD_TEST: &str = "crash_writer_child";
const ROLE: &str = "crash-writer";
const IDENTITIES: u64 = 6;

fn identity(i: u64) -> String {
    format!("p{i}.crash.example")
}

// ---------------------------------------------------------------------------------------------
// The writer (a child process).

enum Action {
    Create(String),
    /// A partner built in memory, created by Set -Instance.
    CreateInstance(String),
    Set(String, String),
    SetInstance(String),
    Remove(String),
}

struct Planned {
    op: &'static str,
    id: String,
    action: Action,
    /// The state the change should leave (revision 0), or None for a removal.
    intended: Option<Partner>,
    /// The result code the writer expects (OK, or STALE_INSTANCE for a deliberately stale write).
    expect: i32,
}

fn random_domains(rng: &mut Rng, id: &str) -> Vec<String> {
    let n = rng.below(3);
    let mut v: Vec<String> = Vec::new();
    for _ in 0..n {
        let d = format!("a{}.{}", rng.below(4), id);
        if !v.contains(&d) {
            v.push(d);
        }
    }
    v
}

fn partner_type(rng: &mut Rng) -> &'static str {
    ["Federated", "PublicVerified", "PublicUnverified"][rng.below(3) as usize]
}

fn plan(rng: &mut Rng, id: &str, current: Option<&Partner>, older: Option<u64>, tag: &str) -> Planned {
    let Some(p) = current else {
        let request = json!({
            "Identity": id,
            "Description": format!("created {tag}"),
            "ConnectionLimit": 1 + rng.below(500),
            "PartnerType": partner_type(rng),
            "AdditionalDomains": random_domains(rng, id),
        })
        .to_string();
        let built = outcome_partner(&build_in_memory(&request).expect("in-memory build"));
        return if rng.below(3) == 0 {
            let instance = serde_json::to_string(&built).unwrap();
            Planned { op: "create-instance", id: id.into(), action: Action::CreateInstance(instance), intended: Some(built), expect: OK }
        } else {
            Planned { op: "create", id: id.into(), action: Action::Create(request), intended: Some(built), expect: OK }
        };
    };
    let roll = rng.percent();
    if roll < 45 {
        let changes = random_changes(rng, &format!("set {tag}"), |rng| random_domains(rng, id));
        let intended = merged(p, &changes);
        Planned { op: "set", id: id.into(), action: Action::Set(id.into(), changes.to_string()), intended: Some(intended), expect: OK }
    } else if roll < 65 {
        let mut instance = p.clone();
        instance.description = format!("instance {tag}");
        instance.connection_limit = 1 + rng.below(500) as u32;
        let json = serde_json::to_string(&instance).unwrap();
        Planned { op: "set-instance", id: id.into(), action: Action::SetInstance(json), intended: Some(without_revision(&instance)), expect: OK }
    } else if roll < 75 && older.is_some() {
        // An object read before the store's last change of it: must be refused, nothing written.
        let mut instance = p.clone();
        instance.revision = older.unwrap();
        instance.description = format!("stale instance {tag}");
        let json = serde_json::to_string(&instance).unwrap();
        Planned { op: "stale-instance", id: id.into(), action: Action::SetInstance(json), intended: Some(without_revision(p)), expect: STALE_INSTANCE }
    } else {
        Planned { op: "remove", id: id.into(), action: Action::Remove(id.into()), intended: None, expect: OK }
    }
}

/// Hidden worker: started by `crash_safety_under_sigkill`; does nothing when run by hand.
#[test]
#[ignore = "worker process of crash_safety_under_sigkill (re-executed with XMPPFED_TEST_ROLE)"]
fn crash_writer_child() {
    if !is_role(ROLE) {
        return;
    }
    let dir = env_path(DIR_ENV);
    let round = env_u64(INDEX_ENV);
    let mut rng = Rng::new(env_u64(SEED_ENV));
    let store = CStore::open(&dir.join("central"), &dir.join("replica")).unwrap_or_else(|f| panic!("writer: open failed: {f}"));
    let mut model: BTreeMap<String, Partner> = parse_list(&store.list(false).unwrap_or_else(|f| panic!("writer: list failed: {f}")))
        .unwrap()
        .into_iter()
        .map(|p| (p.identity.clone(), p))
        .collect();
    // A revision each identity had before its current one: the material for stale writes.
    let mut older: HashMap<String, u64> = HashMap::new();
    let mut acks = OpenOptions::new().create(true).append(true).open(dir.join(format!("acks-{round}.log"))).unwrap();
    // On a line of its own: libtest has already printed "test crash_writer_child ... ".
    println!("\nREADY");
    std::io::stdout().flush().unwrap();

    // Never outlive a parent that failed to kill us.
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 0.. {
        if Instant::now() > deadline {
            panic!("writer: not killed within 30 s");
        }
        let id = identity(rng.below(IDENTITIES));
        let planned = plan(&mut rng, &id, model.get(&id), older.get(&id).copied(), &format!("r{round} n{n}"));
        append_synced(
            &mut acks,
            &json!({"Kind":"issued","N":n,"Op":planned.op,"Id":planned.id,"Intended":planned.intended,"Expect":planned.expect}),
        );
        let result = match &planned.action {
            Action::Create(j) => store.create(j).map(|o| Some(outcome_partner(&o))),
            Action::CreateInstance(j) | Action::SetInstance(j) => store.set_instance(j, false).map(|o| Some(outcome_partner(&o))),
            Action::Set(i, c) => store.set(i, c).map(|o| Some(outcome_partner(&o))),
            Action::Remove(i) => store.remove(i).map(|_| None),
        };
        let (code, message, state) = match &result {
            Ok(state) => (OK, String::new(), state.clone()),
            Err(f) => (f.code, f.message.clone(), None),
        };
        append_synced(&mut acks, &json!({"Kind":"ack","N":n,"Code":code,"Message":message,"State":state}));
        if let Ok(state) = result {
            if let Some(old) = model.get(&id) {
                older.insert(id.clone(), old.revision);
            }
            match state {
                Some(p) => model.insert(id, p),
                None => model.remove(&id),
            };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The harness (the parent).

#[derive(Default)]
struct Figures {
    kills: usize,
    commits_acknowledged: usize,
    commits_lost: usize,
    in_flight: usize,
    in_flight_applied: usize,
    stale_refusals: usize,
    unexpected_results: usize,
    corrupt: usize,
    torn_tails: usize,
    compactions: usize,
    replica_behind: usize,
    replica_other_generation: usize,
    replica_torn: usize,
}

struct Harness {
    central: std::path::PathBuf,
    replica: std::path::PathBuf,
    /// The store as observed after the previous kill (the writer's starting point).
    baseline: BTreeMap<String, Partner>,
    /// Every state any commit is known to have written, by revision.
    history: HashMap<u64, Partner>,
    max_revision: u64,
    last_header: Vec<u8>,
    figures: Figures,
    failures: Vec<String>,
}

struct InFlight {
    n: u64,
    op: String,
    id: String,
    intended: Option<Partner>,
    expect: i32,
}

impl Harness {
    fn fail(&mut self, round: usize, what: String) {
        eprintln!("crash safety: round {round}: {what}");
        self.failures.push(format!("round {round}: {what}"));
    }

    /// Read the acknowledgement file of one writer: the expected state per identity, and the
    /// change that was in flight when it was killed.
    fn replay_acks(&mut self, round: usize, path: &Path) -> (BTreeMap<String, Partner>, Option<InFlight>) {
        let mut expected = self.baseline.clone();
        let mut pending: Option<InFlight> = None;
        let bytes = fs::read(path).unwrap_or_default();
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
            if rec["Kind"] == "issued" {
                if let Some(p) = &pending {
                    let msg = format!("harness: change {} issued while change {} was not acknowledged", n, p.n);
                    self.fail(round, msg);
                }
                pending = Some(InFlight {
                    n,
                    op: rec["Op"].as_str().unwrap().to_owned(),
                    id: rec["Id"].as_str().unwrap().to_owned(),
                    intended: serde_json::from_value(rec["Intended"].clone()).unwrap(),
                    expect: rec["Expect"].as_i64().unwrap() as i32,
                });
                continue;
            }
            let Some(p) = pending.take().filter(|p| p.n == n) else {
                self.fail(round, format!("harness: ack {n} without its issued line"));
                continue;
            };
            let code = rec["Code"].as_i64().unwrap() as i32;
            if code != p.expect {
                self.figures.unexpected_results += 1;
                let msg = format!("{} {} returned {} ({}), expected {}", p.op, p.id, code, rec["Message"], p.expect);
                self.fail(round, msg);
                continue;
            }
            if code == STALE_INSTANCE {
                self.figures.stale_refusals += 1;
                continue;
            }
            self.figures.commits_acknowledged += 1;
            let state: Option<Partner> = serde_json::from_value(rec["State"].clone()).unwrap();
            match (&p.intended, state) {
                (Some(intended), Some(state)) => {
                    if !same_content(intended, &state) {
                        self.fail(round, format!("{} {} acknowledged {state:?}, but the request was {intended:?}", p.op, p.id));
                    }
                    if state.revision <= self.max_revision {
                        let msg = format!("{} {} got revision {}, not above the previous {}", p.op, p.id, state.revision, self.max_revision);
                        self.fail(round, msg);
                    }
                    self.max_revision = self.max_revision.max(state.revision);
                    self.history.insert(state.revision, state.clone());
                    expected.insert(p.id.clone(), state);
                }
                (None, None) => {
                    expected.remove(&p.id);
                }
                (i, s) => self.fail(round, format!("harness: {} {}: intended {i:?}, acknowledged {s:?}", p.op, p.id)),
            }
        }
        (expected, pending)
    }

    fn verify(&mut self, round: usize) {
        let (expected, pending) = self.replay_acks(round, &self.central.parent().unwrap().join(format!("acks-{round}.log")));
        self.figures.in_flight += pending.is_some() as usize;

        let central_bytes = current_log(&self.central).map(|p| fs::read(p).unwrap_or_default()).unwrap_or_default();
        if !central_bytes.is_empty() && central_bytes.last() != Some(&b'\n') {
            self.figures.torn_tails += 1;
        }
        let header = first_line(&central_bytes).to_vec();
        if !self.last_header.is_empty() && header != self.last_header {
            self.figures.compactions += 1;
        }
        self.last_header = header;

        // A fresh handle: the store must open (a torn tail is fine, damage is not).
        let store = match CStore::open(&self.central, &self.replica) {
            Ok(s) => s,
            Err(f) => {
                self.figures.corrupt += 1;
                return self.fail(round, format!("the store does not open after the kill: {f}"));
            }
        };
        let observed = match store.list(false).map_err(|f| f.to_string()).and_then(|j| parse_list(&j)) {
            Ok(list) => list,
            Err(e) => {
                self.figures.corrupt += 1;
                return self.fail(round, format!("the store cannot be listed after the kill: {e}"));
            }
        };
        for p in &observed {
            if let Err(e) = check_valid(p) {
                self.figures.corrupt += 1;
                self.fail(round, e);
            }
        }
        let observed: BTreeMap<String, Partner> = observed.into_iter().map(|p| (p.identity.clone(), p)).collect();

        let ids: BTreeSet<&String> = expected.keys().chain(observed.keys()).chain(pending.as_ref().map(|p| &p.id)).collect();
        for id in ids {
            let (exp, obs) = (expected.get(id), observed.get(id));
            if exp == obs {
                continue;
            }
            let in_flight_here = pending.as_ref().filter(|p| &p.id == id && p.expect == OK);
            let applied = in_flight_here.map_or(false, |p| match (&p.intended, obs) {
                (None, None) => true,
                (Some(i), Some(o)) => same_content(i, o) && o.revision > self.max_revision,
                _ => false,
            });
            if applied {
                self.figures.in_flight_applied += 1;
                if let Some(o) = obs {
                    self.max_revision = o.revision;
                    self.history.insert(o.revision, o.clone());
                }
            } else {
                self.figures.commits_lost += 1;
                let in_flight = pending.as_ref().map(|p| format!("{} {} -> {:?}", p.op, p.id, p.intended));
                self.fail(
                    round,
                    format!("LOST: {id}: last acknowledged {exp:?}, store has {obs:?} (in flight: {in_flight:?})"),
                );
            }
        }

        self.check_replica(round, &store, &central_bytes);
        self.baseline = observed;
    }

    /// The replica, if there is one, must open and hold a state the central store went through;
    /// an explicit refresh must then make it equal to the central store.
    fn check_replica(&mut self, round: usize, store: &CStore, central_bytes: &[u8]) {
        if let Some(replica_log) = current_log(&self.replica) {
            match store.list(true).map_err(|f| f.to_string()).and_then(|j| parse_list(&j)) {
                Err(e) => self.fail(round, format!("the replica cannot be read with local_store=true: {e}")),
                Ok(list) => {
                    for p in list {
                        if let Err(e) = check_valid(&p) {
                            self.fail(round, format!("replica: {e}"));
                        }
                        match self.history.get(&p.revision) {
                            Some(h) if h == &p => {}
                            h => {
                                let msg = format!("replica holds {p:?}, a state no commit wrote (commit {} wrote {h:?})", p.revision);
                                self.fail(round, msg);
                            }
                        }
                    }
                }
            }
            let replica_bytes = fs::read(&replica_log).unwrap_or_default();
            if !replica_bytes.is_empty() && replica_bytes.last() != Some(&b'\n') {
                self.figures.replica_torn += 1;
            }
            let replica_complete = complete_lines(&replica_bytes);
            if first_line(&replica_bytes) == first_line(central_bytes) {
                // The same generation: byte for byte a prefix of the central log's whole lines.
                if !complete_lines(central_bytes).starts_with(replica_complete) {
                    self.fail(round, "the replica is not a prefix of the central log of the same generation".into());
                } else if replica_complete.len() < complete_lines(central_bytes).len() {
                    self.figures.replica_behind += 1;
                }
            } else {
                self.figures.replica_other_generation += 1;
            }
        }
        if let Err(f) = store.replicate() {
            return self.fail(round, format!("xmppfed_store_replicate failed: {f}"));
        }
        let local = store.list(true).map_err(|f| f.to_string());
        let central = store.list(false).map_err(|f| f.to_string());
        if local != central {
            self.fail(round, format!("after a refresh the replica differs from the central store:\n  replica {local:?}\n  central {central:?}"));
        }
    }
}

#[test]
fn crash_safety_under_sigkill() {
    let kills = env_count("XMPPFED_CRASH_KILLS", 400);
    let seed = seed_from_env("XMPPFED_CRASH_SEED");
    println!("crash safety: seed={seed} (repeat with XMPPFED_CRASH_SEED={seed}) kills={kills}");
    let root = scratch("crash-safety-");
    let central = root.path().join("central");
    fs::create_dir(&central).unwrap();
    let mut h = Harness {
        replica: root.path().join("replica"),
        central,
        baseline: BTreeMap::new(),
        history: HashMap::new(),
        max_revision: 0,
        last_header: Vec::new(),
        figures: Figures::default(),
        failures: Vec::new(),
    };
    let mut rng = Rng::new(seed);
    let started = Instant::now();

    for round in 0..kills {
        let envs = [(DIR_ENV, root.path().to_str().unwrap().to_owned()), (INDEX_ENV, round.to_string()), (SEED_ENV, rng.next_u64().to_string())];
        match kill_worker_at_random(&mut worker_command(CHILD_TEST, ROLE, &envs), &mut rng, 31, Duration::from_secs(20)) {
            KillRound::Killed => {}
            KillRound::NotReady(status) => {
                h.fail(round, format!("the writer did not get ready within 20 s ({status})"));
                break;
            }
            KillRound::EndedByItself(status) => h.fail(round, format!("the writer ended by itself ({status}), not by the kill")),
        }
        h.figures.kills += 1;
        h.verify(round);
        if h.failures.len() >= 20 {
            break;
        }
    }

    let f = &h.figures;
    println!(
        "crash safety: kills={} commits_acknowledged={} commits_lost={} in_flight_applied={} (of {} in flight) \
         stale_refusals={} unexpected_results={} corrupt={} torn_tails={} compactions={} \
         replica_behind={} replica_other_generation={} replica_torn={} seed={} elapsed={:.1}s",
        f.kills,
        f.commits_acknowledged,
        f.commits_lost,
        f.in_flight_applied,
        f.in_flight,
        f.stale_refusals,
        f.unexpected_results,
        f.corrupt,
        f.torn_tails,
        f.compactions,
        f.replica_behind,
        f.replica_other_generation,
        f.replica_torn,
        seed,
        started.elapsed().as_secs_f64()
    );
    if !h.failures.is_empty() {
        let kept = root.into_path();
        panic!(
            "crash safety failed (seed {seed}; store kept in {}):\n{}",
            kept.display(),
            h.failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    assert_eq!(h.figures.commits_lost, 0);
    assert_eq!(h.figures.corrupt, 0);
    assert!(h.figures.commits_acknowledged > 0, "the writers never got a change acknowledged");
}
