//! Shared by the multi-process durability tests (crash_safety, concurrent_writers): a thin safe
//! wrapper over the C ABI (the workers are C-ABI callers, like the PowerShell layer), a small
//! seeded PRNG, and the re-exec pattern that turns the test binary itself into a worker process.

#![allow(dead_code)]

use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use xmppfed::ffi::{self, xmppfed_result, xmppfed_store};
use xmppfed::Partner;

// Result codes of include/xmppfed.h (XMPPFED_RESULT_*), as the C caller sees them.
pub const OK: i32 = 0;
pub const ALREADY_EXISTS: i32 = 9;
pub const NOT_FOUND: i32 = 10;
pub const DOMAIN_CONFLICT: i32 = 11;
pub const STALE_INSTANCE: i32 = 12;
pub const STORE_IO: i32 = 13;
pub const STORE_CORRUPT: i32 = 14;
pub const STORE_LOCKED: i32 = 16;
pub const STORE_CHANGED: i32 = 21;
pub const IMPORT_REJECTED: i32 = 22;

/// Which worker a re-executed test binary is, and its parameters, travel in the environment.
pub const ROLE_ENV: &str = "XMPPFED_TEST_ROLE";
pub const DIR_ENV: &str = "XMPPFED_TEST_DIR";
pub const SEED_ENV: &str = "XMPPFED_TEST_SEED";
pub const INDEX_ENV: &str = "XMPPFED_TEST_INDEX";
pub const COUNT_ENV: &str = "XMPPFED_TEST_COUNT";

#[derive(Debug, Clone)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = ffi::xmppfed_result_name(self.code);
        let name = if name.is_null() { "?".into() } else { unsafe { CStr::from_ptr(name) }.to_string_lossy() };
        write!(f, "{} ({}): {}", name, self.code, self.message)
    }
}

pub type CallResult = Result<String, Failure>;

fn cstring(s: &str) -> CString {
    CString::new(s).expect("test strings have no NUL")
}

fn last_failure(code: xmppfed_result) -> Failure {
    let msg = ffi::xmppfed_last_error_message();
    let message = if msg.is_null() { String::new() } else { unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned() };
    Failure { code: code as i32, message }
}

/// Turn a call's result and its `*_out` string into the text (freed with xmppfed_string_free).
unsafe fn finish(code: xmppfed_result, out: *mut c_char) -> CallResult {
    if code != xmppfed_result::Ok {
        return Err(last_failure(code));
    }
    assert!(!out.is_null(), "OK with a NULL output");
    let text = CStr::from_ptr(out).to_str().expect("library output is UTF-8").to_owned();
    ffi::xmppfed_string_free(out);
    Ok(text)
}

/// A store handle from `xmppfed_store_open`, closed on drop.
pub struct CStore(*mut xmppfed_store);

impl CStore {
    pub fn open(central: &Path, replica: &Path) -> Result<CStore, Failure> {
        let c = cstring(central.to_str().unwrap());
        let r = cstring(replica.to_str().unwrap());
        let mut out: *mut xmppfed_store = std::ptr::null_mut();
        let code = unsafe { ffi::xmppfed_store_open(c.as_ptr(), r.as_ptr(), &mut out) };
        if code == xmppfed_result::Ok {
            Ok(CStore(out))
        } else {
            Err(last_failure(code))
        }
    }

    /// xmppfed_partner_new (stored): the outcome JSON.
    pub fn create(&self, partner_json: &str) -> CallResult {
        let j = cstring(partner_json);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_new(self.0, j.as_ptr(), false, &mut out), out) }
    }

    pub fn set(&self, identity: &str, changes_json: &str) -> CallResult {
        let i = cstring(identity);
        let j = cstring(changes_json);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_set(self.0, i.as_ptr(), j.as_ptr(), &mut out), out) }
    }

    pub fn set_instance(&self, instance_json: &str, force: bool) -> CallResult {
        let j = cstring(instance_json);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_set_instance(self.0, j.as_ptr(), std::ptr::null(), force, &mut out), out) }
    }

    /// The outcome's JSON: the removed partner and any warnings.
    pub fn remove(&self, identity: &str) -> CallResult {
        let i = cstring(identity);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_remove(self.0, i.as_ptr(), &mut out), out) }
    }

    pub fn get(&self, identity: &str, local_store: bool) -> CallResult {
        let i = cstring(identity);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_get(self.0, i.as_ptr(), local_store, &mut out), out) }
    }

    pub fn list(&self, local_store: bool) -> CallResult {
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_partner_list(self.0, std::ptr::null(), local_store, &mut out), out) }
    }

    /// xmppfed_store_import (or its preview): the plan's JSON. `options_json` may be None.
    pub fn import(&self, input: &str, options_json: Option<&str>, preview: bool) -> CallResult {
        let i = cstring(input);
        let o = options_json.map(cstring);
        let o = o.as_ref().map_or(std::ptr::null(), |o| o.as_ptr());
        let mut out = std::ptr::null_mut();
        let f = if preview { ffi::xmppfed_store_import_preview } else { ffi::xmppfed_store_import };
        unsafe { finish(f(self.0, i.as_ptr(), o, &mut out), out) }
    }

    /// xmppfed_store_export: the list as text ("Json" or "Csv").
    pub fn export(&self, format: &str, local_store: bool) -> CallResult {
        let f = cstring(format);
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_store_export(self.0, f.as_ptr(), std::ptr::null(), local_store, &mut out), out) }
    }

    /// xmppfed_store_history: the entries' JSON array. `query_json` may be None.
    pub fn history(&self, query_json: Option<&str>) -> CallResult {
        let q = query_json.map(cstring);
        let q = q.as_ref().map_or(std::ptr::null(), |q| q.as_ptr());
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_store_history(self.0, q, &mut out), out) }
    }

    /// xmppfed_store_status: the replication status JSON.
    pub fn status(&self) -> CallResult {
        let mut out = std::ptr::null_mut();
        unsafe { finish(ffi::xmppfed_store_status(self.0, &mut out), out) }
    }

    pub fn replicate(&self) -> Result<(), Failure> {
        let code = unsafe { ffi::xmppfed_store_replicate(self.0) };
        if code == xmppfed_result::Ok {
            Ok(())
        } else {
            Err(last_failure(code))
        }
    }
}

impl Drop for CStore {
    fn drop(&mut self) {
        unsafe { ffi::xmppfed_store_close(self.0) }
    }
}

/// xmppfed_partner_new with in_memory (store NULL): the validated object, revision 0.
pub fn build_in_memory(partner_json: &str) -> CallResult {
    let j = cstring(partner_json);
    let mut out = std::ptr::null_mut();
    unsafe { finish(ffi::xmppfed_partner_new(std::ptr::null_mut(), j.as_ptr(), true, &mut out), out) }
}

/// The `Partner` of an outcome `{"Partner":{...},"Warnings":[...]}`.
pub fn outcome_partner(outcome_json: &str) -> Partner {
    let v: serde_json::Value = serde_json::from_str(outcome_json).expect("outcome is JSON");
    serde_json::from_value(v["Partner"].clone()).expect("outcome has a valid Partner")
}

pub fn parse_partner(json: &str) -> Result<Partner, String> {
    serde_json::from_str(json).map_err(|e| format!("not a partner ({e}): {json}"))
}

pub fn parse_list(json: &str) -> Result<Vec<Partner>, String> {
    serde_json::from_str(json).map_err(|e| format!("not a partner list ({e})"))
}

/// A partner as the store hands it out must be valid and already canonical.
pub fn check_valid(p: &Partner) -> Result<(), String> {
    let mut q = p.clone();
    q.normalize().map_err(|e| format!("partner '{}' is not valid: {e}", p.identity))?;
    if &q != p {
        return Err(format!("partner '{}' is not in canonical form: {p:?}", p.identity));
    }
    if p.revision == 0 {
        return Err(format!("stored partner '{}' has revision 0", p.identity));
    }
    Ok(())
}

/// Equal in every property except Revision.
pub fn same_content(a: &Partner, b: &Partner) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.revision = 0;
    b.revision = 0;
    a == b
}

pub fn without_revision(p: &Partner) -> Partner {
    Partner { revision: 0, ..p.clone() }
}

/// `p` with the properties of a change set whose values are already canonical (no list
/// modifiers) written over it, revision 0: what Set should produce.
pub fn merged(p: &Partner, changes: &serde_json::Value) -> Partner {
    let mut v = serde_json::to_value(without_revision(p)).unwrap();
    for (k, val) in changes.as_object().expect("changes are an object") {
        v[k.as_str()] = val.clone();
    }
    serde_json::from_value(v).expect("merged partner")
}

/// xorshift64: small, seedable, good enough to pick operations and delays.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // One splitmix64 step, so that nearby seeds give unrelated streams (and 0 is usable).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn percent(&mut self) -> u64 {
        self.below(100)
    }
}

pub fn time_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    nanos ^ ((std::process::id() as u64) << 32)
}

/// A seed from `var` if set (to repeat a run), else from the clock.
pub fn seed_from_env(var: &str) -> u64 {
    std::env::var(var).ok().and_then(|v| v.trim().parse().ok()).unwrap_or_else(time_seed)
}

/// A count from the environment (the long modes), else `default`.
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// A monotonic clock in ns that is one clock for every process on the machine (CLOCK_MONOTONIC;
/// on Windows the performance counter), so the acknowledgement logs of different processes can be
/// ordered in real time.
#[cfg(unix)]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(windows)]
pub fn monotonic_ns() -> u64 {
    #[link(name = "kernel32")]
    extern "system" {
        fn QueryPerformanceCounter(count: *mut i64) -> i32;
        fn QueryPerformanceFrequency(frequency: *mut i64) -> i32;
    }
    let (mut count, mut frequency) = (0i64, 0i64);
    // SAFETY: both write one i64 through a valid pointer; they cannot fail on XP and later.
    unsafe {
        QueryPerformanceCounter(&mut count);
        QueryPerformanceFrequency(&mut frequency);
    }
    (count as u128 * 1_000_000_000 / frequency as u128) as u64
}

/// Kill a worker at once, as a crash would: SIGKILL on Unix, TerminateProcess on Windows (what
/// `Child::kill` does on each).
pub fn kill_now(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// Whether a worker ended by `kill_now`, not by itself: SIGKILL on Unix; on Windows the exit code
/// 1 that `Child::kill` gives TerminateProcess (a Rust test that fails exits with 101).
pub fn was_killed(status: &std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(libc::SIGKILL)
    }
    #[cfg(windows)]
    {
        status.code() == Some(1)
    }
}

/// Take the writer lock of a store folder the way the library does, for a test that plays another
/// writer: the folder itself (flock) on Unix; on Windows its `partners.lock` file (no
/// FILE_SHARE_DELETE, so the file cannot be deleted while held), locked at the byte the library
/// locks (1 GiB, beyond the holder's note). Released when the returned file is closed.
pub fn lock_store_folder(dir: &Path) -> std::fs::File {
    #[cfg(unix)]
    {
        use fs2::FileExt;
        let file = std::fs::File::open(dir).expect("open the store folder");
        file.lock_exclusive().expect("lock the store folder");
        file
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        use std::os::windows::io::AsRawHandle;
        const FILE_SHARE_READ: u32 = 1;
        const FILE_SHARE_WRITE: u32 = 2;
        const LOCKFILE_EXCLUSIVE_LOCK: u32 = 2;
        const LOCK_BYTE: u64 = 1 << 30;
        #[repr(C)]
        struct Overlapped {
            internal: usize,
            internal_high: usize,
            offset: u32,
            offset_high: u32,
            event: *mut std::ffi::c_void,
        }
        #[link(name = "kernel32")]
        extern "system" {
            fn LockFileEx(file: *mut std::ffi::c_void, flags: u32, reserved: u32, low: u32, high: u32, at: *mut Overlapped) -> i32;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .open(dir.join("partners.lock"))
            .expect("open the store's lock file");
        let mut at = Overlapped { internal: 0, internal_high: 0, offset: LOCK_BYTE as u32, offset_high: (LOCK_BYTE >> 32) as u32, event: std::ptr::null_mut() };
        // SAFETY: a synchronous handle, open for the call; it waits until the byte is locked.
        let ok = unsafe { LockFileEx(file.as_raw_handle(), LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &mut at) };
        assert!(ok != 0, "lock the store's lock file: {}", std::io::Error::last_os_error());
        file
    }
}

/// This test binary again, running only the hidden (`#[ignore]`d) worker test `test_name`.
pub fn worker_command(test_name: &str, role: &str, envs: &[(&str, String)]) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("current_exe"));
    c.args(["--exact", test_name, "--nocapture", "--ignored", "--test-threads=1"]);
    c.env(ROLE_ENV, role);
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

/// Start a worker. Under Wine, CreateProcess now and then fails with ERROR_INTERNAL_ERROR (1359)
/// before the child runs any code (seen in a fresh-clone CI run); only such a failed *start* is
/// tried again, up to three times, never a worker that ran.
pub fn spawn_worker(command: &mut Command) -> Child {
    let mut attempt = 1;
    loop {
        match command.spawn() {
            Ok(child) => return child,
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(1359) && attempt < 3 => attempt += 1,
            Err(e) => panic!("start the worker {command:?}: {e}"),
        }
    }
}

/// Run a worker to its end, its output captured; its start is retried as in [`spawn_worker`].
pub fn run_worker_to_end(command: &mut Command) -> Output {
    spawn_worker(command.stdout(Stdio::piped()).stderr(Stdio::piped())).wait_with_output().expect("wait for the worker")
}

/// A worker's acknowledgement: one JSON line appended to `f` and synced before the worker goes
/// on, so that what it acknowledged survives its kill.
pub fn append_synced(f: &mut std::fs::File, line: &serde_json::Value) {
    use std::io::Write;
    let mut bytes = line.to_string().into_bytes();
    bytes.push(b'\n');
    f.write_all(&bytes).expect("write ack file");
    f.sync_data().expect("fsync ack file");
}

/// How one round of a kill test went (see [`kill_worker_at_random`]).
pub enum KillRound {
    /// Killed while it worked, as meant.
    Killed,
    /// It never said READY within the time allowed: killed, and the test cannot go on.
    NotReady(std::process::ExitStatus),
    /// It ended before the kill: the round killed nothing.
    EndedByItself(std::process::ExitStatus),
}

/// One round of a kill test: start the worker (which prints READY once its store is open), and
/// kill it `0..max_delay_ms` ms after its READY, or, one round in eight, after its start (to also
/// kill it while it opens the store).
pub fn kill_worker_at_random(command: &mut Command, rng: &mut Rng, max_delay_ms: u64, ready_within: std::time::Duration) -> KillRound {
    let mut child = spawn_worker(command.stdout(Stdio::piped()).stderr(Stdio::inherit()));
    let ready = ready_signal(child.stdout.take().unwrap());
    let from_spawn = rng.below(8) == 0;
    let delay = std::time::Duration::from_millis(rng.below(max_delay_ms));
    if !from_spawn && ready.recv_timeout(ready_within).is_err() {
        kill_now(&mut child);
        return KillRound::NotReady(child.wait().unwrap());
    }
    std::thread::sleep(delay);
    kill_now(&mut child);
    let status = child.wait().unwrap();
    if was_killed(&status) {
        KillRound::Killed
    } else {
        KillRound::EndedByItself(status)
    }
}

/// Whether this process was started as the worker `role` (otherwise a worker test does nothing,
/// e.g. under `cargo test -- --ignored`).
pub fn is_role(role: &str) -> bool {
    std::env::var(ROLE_ENV).map_or(false, |r| r == role)
}

pub fn env_path(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} not set")))
}

pub fn env_u64(var: &str) -> u64 {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} not set")).parse().expect("a number")
}

/// A scratch folder on the build's file system (a real disk, so fdatasync costs what it costs),
/// not /tmp (often tmpfs).
pub fn scratch(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch folder")
}

/// The bytes of `data` up to and including its last newline.
pub fn complete_lines(data: &[u8]) -> &[u8] {
    match data.iter().rposition(|&b| b == b'\n') {
        Some(i) => &data[..=i],
        None => &[],
    }
}

pub fn first_line(data: &[u8]) -> &[u8] {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => &data[..=i],
        None => &[],
    }
}

/// A thread that reads a worker's stdout to its end and signals once when a line says READY
/// (libtest prints its own text first, possibly on the same line). The pipe stays open as long
/// as the worker lives, so its prints never meet a closed pipe.
pub fn ready_signal(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<()> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && line.trim() == "READY" {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    rx
}

/// A random, non-empty change set for Set (its JSON object). `description` is written when the
/// Description is changed; `domains` makes an AdditionalDomains list that no other partner claims.
pub fn random_changes(rng: &mut Rng, description: &str, domains: impl Fn(&mut Rng) -> Vec<String>) -> serde_json::Value {
    use serde_json::json;
    let mut c = serde_json::Map::new();
    while c.is_empty() {
        if rng.below(2) == 0 {
            c.insert("Description".into(), json!(description));
        }
        if rng.below(2) == 0 {
            c.insert("ConnectionLimit".into(), json!(1 + rng.below(1000)));
        }
        if rng.below(3) == 0 {
            c.insert("PartnerType".into(), json!(["Federated", "PublicVerified", "PublicUnverified"][rng.below(3) as usize]));
        }
        if rng.below(3) == 0 {
            c.insert("EnableKeepAlive".into(), json!(rng.below(2) == 0));
        }
        if rng.below(3) == 0 {
            c.insert("AdditionalDomains".into(), json!(domains(rng)));
        }
    }
    serde_json::Value::Object(c)
}

/// The current generation file of a store or replica folder, if there is one.
pub fn current_log(dir: &Path) -> Option<PathBuf> {
    xmppfed::store::log::current_file(dir).ok().flatten()
}

/// The throwaway PostgreSQL cluster's connection string (scripts/test.sh starts one and exports
/// it). A test that needs it fails, never skips, when it is missing.
pub fn test_postgres() -> String {
    std::env::var("XMPPFED_TEST_POSTGRES").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        panic!(
            "XMPPFED_TEST_POSTGRES is not set: this test needs a PostgreSQL server. Run it through scripts/test.sh, \
             or start a throwaway cluster with `source scripts/lib.sh; source scripts/postgres.sh; pg_start` \
             (as root; it exports XMPPFED_TEST_POSTGRES) and stop it with `pg_stop`"
        )
    })
}

/// A new, empty database on the test cluster, as a connection string (the cluster's, with its
/// `dbname` replaced: in libpq's keyword form the last value of a keyword wins).
pub fn fresh_postgres_database(prefix: &str) -> String {
    let server = test_postgres();
    let name = format!("{prefix}_{}_{}", std::process::id(), monotonic_ns() % 1_000_000_000_000);
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &server, "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("run psql (apt-get install postgresql-client; scripts/setup.sh does)");
    assert!(out.status.success(), "psql: CREATE DATABASE {name}: {}", String::from_utf8_lossy(&out.stderr));
    format!("{server} dbname={name}")
}

/// Run one SQL statement on a database of the test cluster (as the cluster's owner).
pub fn psql(conninfo: &str, sql: &str) -> String {
    let out = Command::new("psql").args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql]).output().expect("run psql");
    assert!(out.status.success(), "psql: {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stop (`"stop"`) or start (`"start"`) the test cluster (scripts/postgres-ctl.sh).
pub fn postgres_ctl(action: &str) {
    let script = std::env::var("XMPPFED_TEST_POSTGRES_CTL").expect("XMPPFED_TEST_POSTGRES_CTL (set by scripts/postgres.sh)");
    let dir = std::env::var("PG_TEST_DIR").expect("PG_TEST_DIR (set by scripts/postgres.sh)");
    let port = std::env::var("PG_TEST_PORT").expect("PG_TEST_PORT (set by scripts/postgres.sh)");
    let status = Command::new("bash").args([&script, action, &dir, &port]).status().expect("run postgres-ctl.sh");
    assert!(status.success(), "postgres-ctl.sh {action} failed");
}
