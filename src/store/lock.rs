//! The writer lock of a store folder, with a bounded wait. Writers of one store serialise on it;
//! a holder that never lets go produces a clear timeout error that names the holder instead of a
//! hang.
//!
//! On Unix the lock is taken on the store folder itself (`flock` on the folder), so no clean-up
//! tool or admin can break mutual exclusion by deleting a file: a second writer never commits
//! while the first holds the lock. The holder writes a note (`partners.lock`: process, user,
//! machine, since when) that the timeout error quotes; deleting the note changes nothing but the
//! message. On Windows the note file is the lock, opened so that it cannot be deleted while held;
//! the lock covers one byte far beyond the note (`sys::LOCK_BYTE`), so that the note stays
//! readable by the writers that wait (Windows refuses reads of a range another handle locked).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[cfg(unix)]
use fs2::FileExt;
use serde::{Deserialize, Serialize};

use super::files::{self, Access};
use super::view::FolderStamp;
use crate::error::{Error, Result};

/// The holder's note, beside the logs.
pub const NOTE_FILE: &str = "partners.lock";

/// One folder's writer lock, as a store handle keeps it between commits. On Unix the folder's
/// open handle (which is the lock) and the holder's note stay open while the folder is the one
/// the path names: a commit then takes the lock and leaves its note without opening anything
/// (four fewer system calls each, which a commit of a few hundred microseconds feels). On
/// Windows nothing stays open between commits: an open lock file would keep the folder from
/// being deleted or renamed.
#[derive(Default)]
pub struct FolderLock {
    /// The folder's handle (Unix) or the lock file (Windows, only while held).
    target: Option<File>,
    /// The device and inode of the folder `target` is (Unix).
    folder: Option<(u64, u64)>,
    /// The count of forks (`sys::forks`) under which what is kept was opened. A child of `fork`
    /// shares its parent's open handles, and with them the parent's lock (a `flock` belongs to
    /// the open file, not to the process): it must open its own.
    forks: Option<u64>,
    /// This process's id, for the note; asked again after a fork.
    pid: u32,
    /// The note, open, and the folder's settled stamp under which it was last found by its name:
    /// while the folder shows that stamp, no name in it changed, so the name still names this
    /// file (Unix).
    note: Option<(File, FolderStamp)>,
    /// The note's text and the second it names: commits in the same second write the same
    /// text, which is built (environment lookups and JSON) once per second, not per commit.
    note_text: Option<(u64, Vec<u8>)>,
}

/// Held until dropped; the OS releases it too if the process dies, so a crash never wedges a store.
pub struct LockGuard<'a> {
    lock: &'a mut FolderLock,
    /// The folder's metadata, read through the lock's handle once it was held, and a time taken
    /// before it was read (Unix; see `FolderStamp::settled`).
    meta: Option<(std::fs::Metadata, SystemTime)>,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Closing the file releases the lock too; this is only the early, explicit release.
        #[cfg(unix)]
        if let Some(target) = &self.lock.target {
            let _ = target.unlock();
        }
        #[cfg(windows)]
        if let Some(target) = self.lock.target.take() {
            let _ = super::sys::unlock_range(&target, super::sys::LOCK_BYTE, 1);
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Note {
    pid: u32,
    user: String,
    host: String,
    /// Seconds since the Unix epoch.
    since: u64,
}

impl FolderLock {
    /// Take the writer lock of `dir`, waiting at most `timeout`. `folder` is the folder's
    /// metadata, read by path just before (the kept handle is used only if it is that folder);
    /// `mode` is the mode of the lock file where the lock is a file (Windows).
    pub fn lock(&mut self, dir: &Path, folder: &std::fs::Metadata, timeout: Duration, mode: u32) -> Result<LockGuard<'_>> {
        let forks = super::sys::forks();
        if self.folder != folder_id(folder) || self.forks != Some(forks) {
            self.forget();
            self.forks = Some(forks);
            self.pid = std::process::id();
        }
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        let target = match self.target.take() {
            Some(target) => target,
            None => loop {
                match lock_target(dir, mode) {
                    Ok(file) => break file,
                    // Windows: someone is deleting the lock file this moment (a clean-up tool, an
                    // admin), which blocks opening it for a while; wait as for a held lock, then
                    // report the error.
                    Err(e) if lock_target_busy(&e) && start.elapsed() < timeout => {
                        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                        pause = (pause * 2).min(Duration::from_millis(20));
                    }
                    Err(e) => return Err(e),
                }
            },
        };
        loop {
            match try_lock(&target) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => return Err(Error::io(dir, e)),
            }
            if start.elapsed() >= timeout {
                return Err(Error::StoreLocked {
                    path: PathBuf::from(dir),
                    waited_ms: start.elapsed().as_millis() as u64,
                    holder: holder(dir),
                });
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        // Read through the handle once it is held: what it says about the folder's names cannot
        // be changed by this library's writers until the lock is released. The handle is kept
        // only with the identity read through it.
        #[cfg(unix)]
        let meta = {
            let asked_at = SystemTime::now();
            let meta = target.metadata().map_err(|e| Error::io(dir, e))?;
            self.folder = folder_id(&meta);
            Some((meta, asked_at))
        };
        #[cfg(not(unix))]
        let meta = None;
        self.target = Some(target);
        Ok(LockGuard { lock: self, meta })
    }

    /// Close what is kept (the next lock opens the folder again).
    pub fn forget(&mut self) {
        *self = FolderLock::default();
    }
}

#[cfg(unix)]
fn folder_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn folder_id(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl LockGuard<'_> {
    /// The locked folder's metadata, read through the lock's own handle once it was held (Unix,
    /// where the lock is the folder): what it says about the folder's names cannot change by
    /// this library's writers until the lock is released; with a time taken before it was read
    /// (see `FolderStamp::settled`). `None` on Windows.
    pub fn folder_metadata(&self) -> Option<(&std::fs::Metadata, SystemTime)> {
        self.meta.as_ref().map(|(meta, asked_at)| (meta, *asked_at))
    }

    /// Leave the note that a waiting writer's timeout error quotes. Written once the holder has
    /// checked the folder holds its store (nothing is created in a folder that lost its files).
    /// The note only informs; a failure to write it must not fail the commit. `stamp`: the
    /// folder's settled stamp under this lock (see [`FolderStamp`]), with which the note is kept
    /// open (none on Windows, which has no metadata through the lock, so nothing is kept there).
    pub fn leave_note(&mut self, dir: &Path, mode: u32, stamp: Option<FolderStamp>) {
        let lock = &mut *self.lock;
        let since = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let text = match &mut lock.note_text {
            Some((second, text)) if *second == since => text,
            cached => &cached.insert((since, note_text(lock.pid, since))).1,
        };
        if let (Some((note, seen)), Some(stamp)) = (&mut lock.note, stamp) {
            if *seen == stamp && files::write_at(note, 0, text).is_ok() {
                return;
            }
        }
        lock.note = None;
        if let Ok(mut note) = open_note(dir, mode, text.len() as u64) {
            if files::write_at(&mut note, 0, text).is_ok() {
                if let Some(stamp) = stamp {
                    lock.note = Some((note, stamp));
                }
            }
        }
    }
}

#[cfg(unix)]
fn lock_target(dir: &Path, _mode: u32) -> Result<File> {
    File::open(dir).map_err(|e| Error::io(dir, e))
}

/// Take the lock without waiting: `Ok(false)` while another holds it.
#[cfg(unix)]
fn try_lock(locked: &File) -> std::io::Result<bool> {
    match locked.try_lock_exclusive() {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == fs2::lock_contended_error().kind() => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(windows)]
fn try_lock(locked: &File) -> std::io::Result<bool> {
    super::sys::try_lock_range(locked, super::sys::LOCK_BYTE, 1)
}

#[cfg(unix)]
fn lock_target_busy(_: &Error) -> bool {
    false
}

/// Whether opening the lock file failed only because another process is deleting it: a sharing
/// violation (it has the file open for deletion), or access denied (the file is "delete pending"
/// until that process closes it). Access denied can also be a real permission problem, which is
/// reported when the wait ends.
#[cfg(windows)]
fn lock_target_busy(e: &Error) -> bool {
    const ERROR_ACCESS_DENIED: i32 = 5;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    matches!(e, Error::StoreIo { source, .. } if matches!(source.raw_os_error(), Some(ERROR_SHARING_VIOLATION | ERROR_ACCESS_DENIED)))
}

#[cfg(windows)]
fn lock_target(dir: &Path, _mode: u32) -> Result<File> {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_SHARE_READ: u32 = 1;
    const FILE_SHARE_WRITE: u32 = 2;
    let path = dir.join(NOTE_FILE);
    // No FILE_SHARE_DELETE: the lock file cannot be deleted or replaced while anyone has it open.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(&path)
        .map_err(|e| Error::io(&path, e))
}

/// The note as written: always the same length, written over the same bytes, so that it causes
/// no truncation and no new block (and, on ext4, no ordered data write in the commit's fsync).
/// JSON allows the trailing spaces.
fn note_text(pid: u32, since: u64) -> Vec<u8> {
    let note = Note { pid, user: super::sys::user_name(), host: super::sys::host_name(), since };
    let mut text = serde_json::to_vec(&note).expect("a note always serializes");
    text.resize(text.len().max(NOTE_LEN), b' ');
    text
}

/// Open the note (creating it if needed), `len` bytes long.
fn open_note(dir: &Path, mode: u32, len: u64) -> Result<File> {
    let path = dir.join(NOTE_FILE);
    let (file, had) = match files::open_existing(&path, Access::Write)? {
        Some((f, meta)) => (f, meta.len()),
        None => (files::create_new(&path, mode)?, 0),
    };
    if had != len {
        file.set_len(len).map_err(|e| Error::io(&path, e))?;
    }
    Ok(file)
}

/// The note's length: room for any pid, user and machine name we write.
const NOTE_LEN: usize = 512;

/// Who holds the lock, from its note, for the timeout message.
fn holder(dir: &Path) -> String {
    let path = dir.join(NOTE_FILE);
    let note = (|| -> Option<Note> {
        let (file, _) = files::open_existing(&path, Access::Read).ok()??;
        let mut text = Vec::new();
        file.take(4096).read_to_end(&mut text).ok()?;
        serde_json::from_slice(&text).ok()
    })();
    match note {
        Some(n) => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            format!(
                "it is held by process {} of user {} on machine {}, for {} s",
                n.pid,
                n.user,
                n.host,
                now.saturating_sub(n.since)
            )
        }
        None => "its holder left no readable note".into(),
    }
}

#[cfg(all(test, windows))]
mod tests {
    use super::*;

    /// The holder's note must stay readable and writable through other handles while the lock is
    /// held: Windows refuses reads and writes of a range another handle has locked, so the lock
    /// must not cover the note's bytes. (Wine does not refuse such reads, so this is checked by
    /// locking the note's bytes from another handle, which Wine refuses like Windows.)
    #[test]
    fn the_lock_does_not_cover_the_holders_note() {
        let dir = tempfile::tempdir().unwrap();
        let folder = std::fs::metadata(dir.path()).unwrap();
        let mut lock = FolderLock::default();
        let mut guard = lock.lock(dir.path(), &folder, Duration::from_secs(1), 0o600).unwrap();
        guard.leave_note(dir.path(), 0o600, None);
        let note = dir.path().join(NOTE_FILE);
        let len = std::fs::metadata(&note).unwrap().len();
        assert!(len > 0, "no note was written");
        let other = std::fs::OpenOptions::new().read(true).write(true).open(&note).unwrap();
        assert!(super::super::sys::try_lock_range(&other, 0, len).unwrap(), "the note's bytes are locked by the holder");
        super::super::sys::unlock_range(&other, 0, len).unwrap();
        // The lock itself holds: a second writer times out, and is told who holds it.
        let err = FolderLock::default().lock(dir.path(), &folder, Duration::from_millis(50), 0o600).err().expect("a second lock while the first is held");
        assert!(err.to_string().contains(&format!("held by process {}", std::process::id())), "{err}");
        drop(guard);
        FolderLock::default().lock(dir.path(), &folder, Duration::from_millis(50), 0o600).expect("the lock after its release");
    }
}
