//! Cross-process locks with a bounded wait. Writers of one store serialise on a lock file beside
//! the log; a holder that never lets go produces a clear timeout error instead of a hang.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::error::{Error, Result};

/// Held until dropped; the OS releases it too if the process dies, so a crash never wedges a store.
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

pub fn lock_exclusive(path: &Path, timeout: Duration) -> Result<LockGuard> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock_exclusive() {
            Ok(()) => return Ok(LockGuard { file }),
            Err(e) if e.kind() == fs2::lock_contended_error().kind() => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        if start.elapsed() >= timeout {
            return Err(Error::StoreLocked { path: PathBuf::from(path), waited_ms: start.elapsed().as_millis() as u64 });
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
