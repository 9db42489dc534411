//! Where stores live. The central folder: an explicit path, else `$XMPPFED_STORE`, else a per-user
//! data folder (the embedded default, created on first use). An explicit or configured folder is
//! never created: that would silently start an empty list where an admin expected a share.
//! The replica: an explicit path, else `$XMPPFED_REPLICA`, else a per-user local folder named after
//! the central path, so one machine can replicate several central stores.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

pub const ENV_STORE: &str = "XMPPFED_STORE";
pub const ENV_REPLICA: &str = "XMPPFED_REPLICA";
pub const ENV_LOCK_TIMEOUT_MS: &str = "XMPPFED_LOCK_TIMEOUT_MS";
/// Every variable the library reads from an [`Environment`]: all a host that passes its own
/// environment (`xmppfed_store_open_with_environment`) has to collect, and to watch for changes.
pub const ENV_NAMES: [&str; 3] = [ENV_STORE, ENV_REPLICA, ENV_LOCK_TIMEOUT_MS];

pub fn default_central_dir() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("xmppfed").join("store"))
        .ok_or_else(|| Error::NoStoreLocation(format!("no per-user data folder is known on this system; set {ENV_STORE}")))
}

pub fn default_replica_dir(central: &Path) -> Result<PathBuf> {
    let base = dirs::data_local_dir()
        .ok_or_else(|| Error::NoStoreLocation(format!("no per-user local data folder is known on this system; set {ENV_REPLICA}")))?;
    Ok(base.join("xmppfed").join("replicas").join(format!("{:016x}", fnv1a(central.to_string_lossy().as_bytes()))))
}

/// Where the `XMPPFED_*` settings are read: the process environment, or a snapshot that a host
/// passes in. PowerShell on Linux keeps `$env:` in a managed copy that native code never sees, so
/// the module hands the session's values over explicitly; with a snapshot, the process
/// environment is not consulted at all (a variable absent from it is unset).
#[derive(Debug, Clone, Default)]
pub struct Environment(Option<HashMap<String, String>>);

impl Environment {
    /// The process environment.
    pub fn process() -> Environment {
        Environment(None)
    }

    /// Exactly these variables.
    pub fn snapshot(vars: HashMap<String, String>) -> Environment {
        Environment(Some(vars))
    }

    fn var_os(&self, name: &str) -> Option<OsString> {
        match &self.0 {
            None => std::env::var_os(name),
            Some(vars) => vars.get(name).map(OsString::from),
        }
    }

    /// A variable's value; an empty value counts as unset, as shells make it easy to leave one so.
    fn non_empty(&self, name: &str) -> Option<OsString> {
        self.var_os(name).filter(|v| !v.is_empty())
    }
}

pub fn central_dir(explicit: Option<PathBuf>, env: &Environment) -> Result<PathBuf> {
    let dir = match explicit.or_else(|| env.non_empty(ENV_STORE).map(PathBuf::from)) {
        // Not created and not required to exist now: an unreachable share is reported by the
        // operations that need it, while the local replica still answers.
        Some(dir) => dir,
        None => {
            let dir = default_central_dir()?;
            ensure_dir(&dir)?;
            dir
        }
    };
    // An absolute path keys the default replica folder the same way from any working directory
    // (without resolving links, so it works while the folder is unreachable).
    std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))
}

/// What a central store location names: a folder, or a PostgreSQL database (a connection string,
/// kept as given: it may hold a password, so it is shown only through `pq::Conninfo::display`).
pub enum Location {
    Folder(PathBuf),
    /// Without the `postgres` feature only recognised, to be refused with a clear message.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Database(String),
}

pub fn central_location(explicit: Option<PathBuf>, env: &Environment) -> Result<Location> {
    let given = explicit.or_else(|| env.non_empty(ENV_STORE).map(PathBuf::from));
    if let Some(text) = given.as_ref().and_then(|p| p.to_str()) {
        if is_connection_string(text) {
            return Ok(Location::Database(text.to_owned()));
        }
    }
    central_dir(given, env).map(Location::Folder)
}

pub fn replica_dir(explicit: Option<PathBuf>, central: &Path, env: &Environment) -> Result<PathBuf> {
    match explicit.or_else(|| env.non_empty(ENV_REPLICA).map(PathBuf::from)) {
        // Absolute like the central folder, so that every path in messages has one form (on
        // Windows also one separator: `C:/stores/replica` becomes `C:\stores\replica`).
        Some(dir) => std::path::absolute(&dir).map_err(|e| Error::io(&dir, e)),
        None => default_replica_dir(central),
    }
}

/// Whether `location` is a PostgreSQL connection string rather than a folder: a `postgresql://`
/// or `postgres://` URI, or libpq's `keyword=value` form (its first word is a keyword and `=`).
pub fn is_connection_string(location: &str) -> bool {
    let t = location.trim_start();
    let lower = t.get(..13).unwrap_or(t).to_ascii_lowercase();
    if lower.starts_with("postgresql://") || lower.starts_with("postgres://") {
        return true;
    }
    let word: String = t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    !word.is_empty() && t[word.len()..].trim_start().starts_with('=')
}

pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    super::files::create_dir_private(dir)
}

pub fn lock_timeout_from_env(env: &Environment) -> Result<Option<Duration>> {
    let Some(value) = env.non_empty(ENV_LOCK_TIMEOUT_MS) else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<u64>()
        .map(|ms| Some(Duration::from_millis(ms)))
        .map_err(|_| Error::value("XMPPFED_LOCK_TIMEOUT_MS", format!("'{text}' is not a number of milliseconds")))
}

/// A stable, dependency-free hash for folder names (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_are_told_from_folders() {
        for s in ["postgresql://h/db", "POSTGRES://x", "host=h dbname=d", " service = fed", "dbname=x"] {
            assert!(is_connection_string(s), "{s}");
        }
        for s in ["/srv/store", "C:\\stores\\a=b", "stores/host=x", "relative", ""] {
            assert!(!is_connection_string(s), "{s}");
        }
    }

    #[test]
    fn configured_folders_are_made_absolute() {
        let env = Environment::snapshot(HashMap::new());
        let central = central_dir(Some(PathBuf::from("stores/central")), &env).unwrap();
        let replica = replica_dir(Some(PathBuf::from("stores/replica")), &central, &env).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(central, cwd.join("stores").join("central"));
        assert_eq!(replica, cwd.join("stores").join("replica"));
    }

    /// Windows: a path given with forward slashes (as PowerShell users often write them) comes
    /// back, and is named in messages, with one separator.
    #[cfg(windows)]
    #[test]
    fn forward_slashes_become_backslashes_on_windows() {
        let env = Environment::snapshot(HashMap::new());
        let central = central_dir(Some(PathBuf::from("C:/stores/central")), &env).unwrap();
        let replica = replica_dir(Some(PathBuf::from("C:/stores\\replica/")), &central, &env).unwrap();
        assert_eq!(central.join("partners.1.log").to_str().unwrap(), r"C:\stores\central\partners.1.log");
        assert_eq!(replica.join("partners.1.log").to_str().unwrap(), r"C:\stores\replica\partners.1.log");
    }
}
