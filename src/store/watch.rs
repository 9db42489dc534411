//! Linux: tells a reader with one `poll` that nothing its last full check relied on has changed
//! since, so that a read of an unchanged store asks the file system nothing else. The kernel
//! reports every change that could matter as it is made, before the call that makes it returns:
//!
//! - inotify watches on the open log (appended to, cut, edited, its mode or links changed), on its
//!   folder (any name created, deleted or renamed, its mode or owner changed, the folder moved)
//!   and on every folder above it (the next name on the path replaced, or its permissions);
//! - `/proc/self/mounts`, which polls as changed when anything is mounted or unmounted (a mount
//!   over the path changes where it leads without any inotify event).
//!
//! The trust checks of [`super::trust`] are made at each full check; a change of the folder's or
//! the log's mode or owner is an event, so no read relies on a decision about a file that changed
//! since. (A process that changes its own user id is judged as the user of its last full check.)
//!
//! Anything the watch cannot vouch for sends the reader through the full check: any event on the
//! log or the folder, an event about the path's names, a full event queue, a mount, a log that
//! changed its name since the watch was set (until the next full check with it in place), a child
//! of `fork` (which shares the parent's queue and must not drain it). A watch is set only where the
//! kernel makes every change itself and reports it: an absolute path without links, on a local
//! file system of [`WATCHED_FILE_SYSTEMS`] (not ZFS, whose rollback and receive change files
//! without events, nor overlayfs, whose layers can be changed underneath it). Where it cannot be
//! set (inotify limits, no `/proc`, a folder that appears twice on the path), reads check as before.
//!
//! Where io_uring can be used, the `poll` itself is skipped while nothing is reported:
//! [`super::poll_ring`] tells that neither descriptor became ready with two loads from memory.
//!
//! The log is watched through the handle the view reads it by (`/proc/self/fd/N`), so the watch is
//! on exactly the file that was read, and a full check vouches for the store only if the file it
//! ended up reading is the one watched before it began.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::poll_ring::PollRing;

/// What a watch descriptor watches.
enum Watched {
    /// A folder above the store folder, and the name on the path inside it.
    Above(OsString),
    Folder,
    Log,
}

/// Linux `statfs` types of the file systems a watch is set on: ext2/3/4, XFS, Btrfs, tmpfs, F2FS.
pub const WATCHED_FILE_SYSTEMS: &[u32] = &[0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010];

/// Every watch is new (a folder met twice on the path, through a bind mount, would otherwise share
/// one watch and its events be read for the wrong name) and never follows a link.
const NEW_WATCH: u32 = libc::IN_MASK_CREATE | libc::IN_DONT_FOLLOW;
const ABOVE_MASK: u32 = libc::IN_CREATE | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_MOVED_TO | libc::IN_ATTRIB | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_ONLYDIR;
/// Not IN_MODIFY: the holder's note in the folder is rewritten in place at every commit, which
/// says nothing about the log (whose own watch reports its changes).
const FOLDER_MASK: u32 = ABOVE_MASK;
const LOG_MASK: u32 = libc::IN_MODIFY | libc::IN_ATTRIB | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF;

pub struct Watch {
    /// Polls `inotify` and the mount table without a system call per read, where io_uring allows.
    ring: Option<PollRing>,
    inotify: OwnedFd,
    mounts: File,
    forks: u64,
    watched: Vec<(i32, Watched)>,
    /// The log file watched (its device and inode), and its watch descriptor.
    log: Option<((u64, u64), i32)>,
    /// A full check found the store as it was, with every watch in place before it began, and no
    /// event that matters arrived since.
    clean: bool,
    /// The watches no longer cover the path (a name on it or a mount changed, events were lost):
    /// set up a new watch before the next full check.
    stale: bool,
    /// Reads the ring vouched for, with no system call (tests).
    pub unasked: u64,
}

impl Watch {
    /// A watch of the store folder `dir` and every folder above it, or `None` where it cannot be
    /// set (see the module's documentation).
    pub fn new(dir: &Path) -> Option<Watch> {
        if !dir.is_absolute() {
            return None;
        }
        // A watch set under another count of forks belongs to the parent.
        let forks = super::sys::forks();
        // SAFETY: plain system call; the descriptor it returns is owned below.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor nothing else owns.
        let inotify = unsafe { OwnedFd::from_raw_fd(fd) };
        let mounts = File::open("/proc/self/mounts").ok()?;
        // Its mount table counts from here, before the full check that the watch will vouch for.
        let ring = PollRing::new(inotify.as_raw_fd());
        let mut watch = Watch { ring, inotify, mounts, forks, watched: Vec::new(), log: None, clean: false, stale: false, unasked: 0 };
        // From the root down: a name replaced after its folder's watch was set is an event there.
        let mut folder = PathBuf::from("/");
        for component in dir.components() {
            let Component::Normal(name) = component else { continue };
            let wd = watch.add(&folder, ABOVE_MASK | NEW_WATCH)?;
            watch.watched.push((wd, Watched::Above(name.to_owned())));
            folder.push(name);
        }
        let wd = watch.add(dir, FOLDER_MASK | NEW_WATCH)?;
        watch.watched.push((wd, Watched::Folder));
        // Checked once the watches are set: a link put on the path after this is an event.
        if std::fs::canonicalize(dir).ok()?.as_path() != dir {
            return None;
        }
        Some(watch)
    }

    fn add(&self, path: &Path, mask: u32) -> Option<i32> {
        let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: a NUL-terminated path and our own inotify descriptor.
        let wd = unsafe { libc::inotify_add_watch(self.inotify.as_raw_fd(), c_path.as_ptr(), mask) };
        (wd >= 0).then_some(wd)
    }

    /// Whether this watch can still be used by this process for the path it was set for.
    pub fn usable(&self) -> bool {
        !self.stale && self.forks == super::sys::forks()
    }

    /// Whether the last full check was made with every watch in place and nothing has been
    /// reported since (as far as read: `quiet` reads what is queued).
    pub fn vouches(&self) -> bool {
        self.clean && self.usable()
    }

    /// Whether nothing the last full check relied on can have changed: no system call where the
    /// ring vouches; otherwise one `poll`, and a `read` of the events when there are any (events
    /// about other names above the folder do not count).
    pub fn quiet(&mut self) -> bool {
        if !self.vouches() {
            return false;
        }
        if self.ring.as_mut().map_or(false, PollRing::quiet) {
            self.unasked += 1;
            return true;
        }
        // Before the poll below, which covers what happened before a new ring's mount table.
        if self.ring.as_mut().map_or(false, PollRing::should_move) {
            self.ring = PollRing::new(self.inotify.as_raw_fd());
        }
        let mut fds = [
            libc::pollfd { fd: self.inotify.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.mounts.as_raw_fd(), events: libc::POLLPRI, revents: 0 },
        ];
        // SAFETY: two valid pollfd structures and their count; no waiting.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
        if ready == 0 {
            self.rearm_ring();
            return true;
        }
        if ready < 0 || fds[1].revents != 0 {
            self.clean = false;
            self.stale = true;
            return false;
        }
        if !self.drain() {
            self.clean = false;
        }
        self.rearm_ring();
        self.clean
    }

    /// After the events were taken: take the ring's completions and arm its polls again (what
    /// became ready since shows at once), or give the ring up if the kernel refuses.
    fn rearm_ring(&mut self) {
        if self.ring.as_mut().map_or(false, |ring| !(ring.take() && ring.arm())) {
            self.ring = None;
        }
    }

    /// Before a full check: take every event queued so far (a change after this shows as a new
    /// one) and watch the log the view has open, `log`: the open file and its device and inode.
    pub fn before_check(&mut self, log: &File, id: (u64, u64)) {
        self.drain();
        self.rearm_ring();
        self.clean = false;
        if self.log.map(|(watched, _)| watched) == Some(id) {
            return;
        }
        if let Some((_, wd)) = self.log.take() {
            // SAFETY: our own descriptors; a descriptor the kernel already dropped fails harmlessly.
            unsafe { libc::inotify_rm_watch(self.inotify.as_raw_fd(), wd) };
            self.watched.retain(|(w, _)| *w != wd);
        }
        // Through the open handle: exactly the file read, whatever its name leads to now.
        match self.add(Path::new(&format!("/proc/self/fd/{}", log.as_raw_fd())), LOG_MASK | libc::IN_MASK_CREATE) {
            Some(wd) => {
                self.log = Some((id, wd));
                self.watched.push((wd, Watched::Log));
            }
            None => self.stale = true,
        }
    }

    /// After a full check that succeeded reading the log with device and inode `log`: the watch
    /// vouches for the store from now on if that file was watched before the check began;
    /// otherwise the next read checks again, with the file it read watched (`before_check`).
    pub fn after_check(&mut self, log: Option<(u64, u64)>) {
        self.clean = log.is_some() && self.log.map(|(watched, _)| watched) == log && self.usable();
    }

    /// Read every queued event; false if one of them matters.
    fn drain(&mut self) -> bool {
        let mut quiet = true;
        // Aligned for inotify_event; room for many events with names.
        let mut buf = [0u64; 1024];
        loop {
            // SAFETY: reads into our own buffer of the length given.
            let n = unsafe { libc::read(self.inotify.as_raw_fd(), buf.as_mut_ptr().cast(), std::mem::size_of_val(&buf)) };
            if n <= 0 {
                // EAGAIN: nothing more queued. Any other failure: the queue cannot be trusted.
                if n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock {
                    self.stale = true;
                    quiet = false;
                }
                return quiet;
            }
            let bytes = &as_bytes(&buf)[..n as usize];
            let mut at = 0;
            while at + EVENT_HEADER <= bytes.len() {
                let wd = i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
                let mask = u32::from_ne_bytes(bytes[at + 4..at + 8].try_into().unwrap());
                let len = u32::from_ne_bytes(bytes[at + 12..at + 16].try_into().unwrap()) as usize;
                let name = bytes.get(at + EVENT_HEADER..at + EVENT_HEADER + len).unwrap_or(&[]);
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if !self.irrelevant(wd, mask, name) {
                    quiet = false;
                }
                at += EVENT_HEADER + len;
            }
            // Room was left for the largest event: the queue was empty (no second read to hear so).
            if (n as usize) <= std::mem::size_of_val(&buf) - (EVENT_HEADER + NAME_MAX + 1) {
                return quiet;
            }
        }
    }

    /// Whether an event cannot have changed what the store's path leads to or what the open log
    /// holds: only events about other names in the folders above the store folder.
    fn irrelevant(&mut self, wd: i32, mask: u32, name: &[u8]) -> bool {
        if mask & libc::IN_Q_OVERFLOW != 0 {
            self.stale = true;
            return false;
        }
        let Some(what) = self.watched.iter().find(|(w, _)| *w == wd).map(|(_, what)| what) else {
            // A log watch removed since (its last events, and the IN_IGNORED that ends it).
            return true;
        };
        if mask & (libc::IN_IGNORED | libc::IN_UNMOUNT) != 0 {
            self.stale = true;
            return false;
        }
        match what {
            Watched::Above(next) => {
                if name == next.as_bytes() || mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF) != 0 || name.is_empty() {
                    self.stale = true;
                    return false;
                }
                true
            }
            Watched::Folder => {
                if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF) != 0 {
                    self.stale = true;
                }
                false
            }
            Watched::Log => false,
        }
    }
}

/// The fixed part of `struct inotify_event` (wd, mask, cookie, len).
const EVENT_HEADER: usize = 16;
/// The longest name an event carries (Linux `NAME_MAX`), before its NUL.
const NAME_MAX: usize = 255;

fn as_bytes(buf: &[u64]) -> &[u8] {
    // SAFETY: u64 has no padding; the byte view covers exactly the same memory.
    unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), std::mem::size_of_val(buf)) }
}
