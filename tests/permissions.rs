//! Store files the caller may not read or write: a clear error that names the file and the
//! problem, and nothing is changed. Root bypasses file permissions, so when the tests run as root
//! (as in CI) the checks run in a child process that has switched to the `nobody` account.
//!
//! Unix only: the files are made unreadable with Unix modes and the checks switch to another uid
//! with setuid; a Windows process can do neither (access there is decided by ACLs and the account
//! a process was started with).
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use xmppfed::store::Source;
use xmppfed::{Error, NewPartner, Store, StoreOptions};

const CHILD_ENV: &str = "XMPPFED_PERMISSIONS_CENTRAL";
const NOBODY: libc::uid_t = 65534;

#[test]
fn unreadable_store_files_are_reported_by_name_and_left_alone() {
    let root = tempfile::tempdir().unwrap();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let central = root.path().join("central");
    fs::create_dir(&central).unwrap();
    fs::set_permissions(&central, fs::Permissions::from_mode(0o755)).unwrap();
    let mut store = Store::open(StoreOptions { central: Some(central.clone()), replica: Some(root.path().join("replica")), lock_timeout: None, ..Default::default() }).unwrap();
    store.create(serde_json::from_str::<NewPartner>(r#"{"Identity":"contoso.com"}"#).unwrap()).unwrap();
    drop(store);
    let log = xmppfed::store::log::current_file(&central).unwrap().unwrap();
    let before = fs::read(&log).unwrap();

    if unsafe { libc::geteuid() } == 0 {
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "checks_as_nobody", "--ignored", "--nocapture"])
            .env(CHILD_ENV, &central)
            .status()
            .unwrap();
        assert!(status.success(), "the checks failed in the child running as nobody");
    } else {
        let files = [log.clone(), central.join("partners.lock")];
        for f in &files {
            fs::set_permissions(f, fs::Permissions::from_mode(0o000)).unwrap();
        }
        let result = std::panic::catch_unwind(|| checks(&central));
        for f in &files {
            fs::set_permissions(f, fs::Permissions::from_mode(0o600)).unwrap();
        }
        result.unwrap();
    }
    assert_eq!(fs::read(&log).unwrap(), before, "the store file must be left exactly as it was");
}

#[test]
#[ignore = "the child process of unreadable_store_files_are_reported_by_name_and_left_alone"]
fn checks_as_nobody() {
    let central = PathBuf::from(std::env::var_os(CHILD_ENV).expect("run by the parent test"));
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        assert_eq!(libc::setgid(NOBODY), 0);
        assert_eq!(libc::setuid(NOBODY), 0);
    }
    checks(&central);
}

/// The store files belong to another account (or allow nobody): reads and writes fail with
/// StoreIo naming the file and the OS's reason; opening still works, for the replica's sake.
fn checks(central: &Path) {
    let replica = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreOptions { central: Some(central.to_owned()), replica: Some(replica.path().join("r")), lock_timeout: None, ..Default::default() })
        .expect("an unreadable central store must not prevent opening");

    let err = store.list(None, Source::Central).unwrap_err();
    assert!(matches!(err, Error::StoreIo { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("partners.1.log") && text.contains("Permission denied"), "{text}");

    let err = store.create(serde_json::from_str::<NewPartner>(r#"{"Identity":"fabrikam.com"}"#).unwrap()).unwrap_err();
    assert!(matches!(err, Error::StoreIo { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("partners.") && text.contains("Permission denied"), "{text}");
}
