//! A view of one store folder's log that keeps an open handle up to date cheaply: when no name in
//! the folder changed (its time stamps say so, see [`FolderStamp`]), a refresh asks only the open
//! file (`fstat`); when other processes appended, it reads only the new bytes
//! (after checking that what it read before is still there); when a new generation appeared
//! (compaction) or the file was replaced, it reads the newest generation whole.
//!
//! A view remembers which store it has shown and how far (`Known`): reading an older copy of the
//! same store (a restored backup, a rolled-back file) or another store in its place is refused
//! with `StoreMismatch`, for readers and writers alike, so a revision is never handed out twice
//! and a stale list is never served as the current one.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::files::{self, Access};
use super::history;
use super::log::{self, Header, Record};
use super::state::State;
#[cfg(windows)]
use super::sys;
use super::trust::{self, Sharing};
use crate::error::{Error, Result};

/// Tells two files at one path apart (a rename replaces the file, not its contents): device and
/// inode on Unix, volume serial number and file index on Windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

/// The identity of the open file `file` (whose metadata is `meta`).
fn file_id(file: &File, meta: &fs::Metadata, path: &Path) -> Result<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = (file, path);
        Ok(FileId(meta.dev(), meta.ino()))
    }
    #[cfg(windows)]
    {
        let _ = meta;
        super::sys::file_identity(file).map(|(volume, index)| FileId(volume, index)).map_err(|e| Error::io(path, e))
    }
}

/// Whether the folder holds a generation after `generation` (a compaction happened). On Unix the
/// next one is enough to look for: compaction writes N+1 before it deletes N. On Windows a deleted
/// file that is still open stays in place ("delete pending": SMB shares, FAT, Windows before the
/// POSIX-style delete of NTFS, Wine), so this view's own handle keeps its generation visible while
/// the store may have moved on by several: every generation in the folder is looked at.
fn newer_generation_exists(dir: &Path, generation: u64) -> Result<bool> {
    #[cfg(not(windows))]
    {
        files::exists(&log::generation_path(dir, generation + 1))
    }
    #[cfg(windows)]
    {
        match log::generations(dir) {
            Ok(found) => Ok(found.first().map_or(false, |&newest| newest > generation)),
            Err(Error::StoreIo { source, .. }) if source.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Whether the open file has been deleted though its name is still there: "delete pending" on
/// Windows. On Unix a deleted name is gone at once, and `identify` of the path sees that.
fn delete_pending(file: &File, path: &Path) -> Result<bool> {
    #[cfg(windows)]
    {
        sys::is_delete_pending(file).map_err(|e| Error::io(path, e))
    }
    #[cfg(not(windows))]
    {
        let _ = (file, path);
        Ok(false)
    }
}

/// Whether the open file whose metadata is `meta` no longer has a name anywhere.
fn unlinked(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.nlink() == 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// What `path` names now: its identity and metadata, `None` if nothing does. On Unix a `stat`; on
/// Windows the identity needs a handle, so the file is opened (for reading, sharing everything).
fn identify(path: &Path) -> Result<Option<(FileId, fs::Metadata)>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match fs::symlink_metadata(path) {
            Ok(m) => Ok(Some((FileId(m.dev(), m.ino()), m))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }
    #[cfg(windows)]
    {
        let Some((file, meta)) = files::open_existing(path, Access::Read)? else { return Ok(None) };
        Ok(Some((file_id(&file, &meta, path)?, meta)))
    }
}

/// How long a folder must have been left alone before its time stamps are trusted to show the
/// next change: a change within the same tick of the file system's clock (2 seconds on FAT, a
/// whole second where stamps keep no fraction, the server's clock on a share) could leave them
/// as they were. See [`SETTLE_FINE`] for the file systems where a much shorter wait is enough.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The settle time on local Linux file systems that stamp changes from the kernel's clock to the
/// nanosecond ([`FINE_CLOCK_FILE_SYSTEMS`]), for a stamp that has a fraction of a second: the
/// clock they read moves in ticks of at most 10 ms (HZ=100), and since Linux 6.13 a change after
/// a stamp was looked at always gets a later one. Ten ticks: a reader right after a commit checks
/// the names for a tenth of a second instead of two seconds.
pub const SETTLE_FINE: Duration = Duration::from_millis(100);

/// Linux `statfs` types of local file systems with nanosecond time stamps from the kernel's
/// clock: ext2/3/4, XFS, Btrfs, tmpfs, F2FS, ZFS, overlayfs (which shows its upper folder's).
/// FUSE and network file systems are not among them (their stamps come from elsewhere).
#[cfg(target_os = "linux")]
const FINE_CLOCK_FILE_SYSTEMS: &[u32] = &[0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010, 0x2FC1_2FC1, 0x794C_7630];

/// The `statfs` magic of the file system `dir` is on (`None`: it cannot be told).
#[cfg(target_os = "linux")]
fn file_system_type(dir: &Path) -> Option<u32> {
    super::sys::file_system_type(dir).ok().map(super::sys::statfs_magic)
}

/// A folder's identity and its modification and change times. Creating, renaming or deleting any
/// name in a folder moves them, so a view that checked its file under one stamp and sees the same
/// stamp again knows that no newer generation was published and that the path still names the
/// file it has open: the open file alone tells whether something was appended. Only a settled
/// stamp is taken (the "racy" case git's index knows); Windows always checks the names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FolderStamp {
    dev: u64,
    ino: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FolderStamp {
    /// The stamp of a folder whose metadata is `meta`, if it was last changed `settle` or more
    /// before `asked_at`: a time taken before `meta` was read. A change after the read is stamped
    /// no earlier than a tick before `asked_at`, so later than a settled stamp however long the
    /// thread waited between the two (which a time taken after the read would not show).
    #[cfg(unix)]
    pub(super) fn settled(meta: &fs::Metadata, asked_at: SystemTime, settle: Duration) -> Option<FolderStamp> {
        use std::os::unix::fs::MetadataExt;
        let stamp = FolderStamp { dev: meta.dev(), ino: meta.ino(), modified: (meta.mtime(), meta.mtime_nsec()), changed: (meta.ctime(), meta.ctime_nsec()) };
        let (seconds, nanos) = stamp.modified.max(stamp.changed);
        let last_change = std::time::UNIX_EPOCH.checked_add(Duration::new(u64::try_from(seconds).ok()?, u32::try_from(nanos).ok()?))?;
        // A time in the future (another machine's clock) is not settled either.
        let age = asked_at.duration_since(last_change).ok()?;
        (age >= settle).then_some(stamp)
    }

    #[cfg(not(unix))]
    pub(super) fn settled(_meta: &fs::Metadata, _asked_at: SystemTime, _settle: Duration) -> Option<FolderStamp> {
        None
    }

    /// Whether the stamp has a fraction of a second: one without (in both times) may come from a
    /// file system that keeps whole seconds.
    fn has_fraction(meta: &fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            meta.mtime_nsec() != 0 || meta.ctime_nsec() != 0
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            false
        }
    }
}

/// Whether `dir`, whose metadata is `meta`, is on a file system of [`FINE_CLOCK_FILE_SYSTEMS`],
/// remembered in `known` for the folder's device and inode (a file system mounted over the
/// folder is a new folder); a failed lookup is not remembered.
fn on_fine_clock(dir: &Path, meta: &fs::Metadata, known: &mut Option<((u64, u64), bool)>) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let key = (meta.dev(), meta.ino());
        if let Some((folder, fine)) = *known {
            if folder == key {
                return fine;
            }
        }
        let Some(fine) = file_system_type(dir).map(|f_type| FINE_CLOCK_FILE_SYSTEMS.contains(&f_type)) else { return false };
        *known = Some((key, fine));
        fine
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, meta, known);
        false
    }
}

/// The store a view (or this machine's replica) has seen: a later read must be of the same store
/// and at least this far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// `None` for a version-1 store, which had no identity.
    pub store_id: Option<String>,
    pub generation: u64,
    pub seq: u64,
}

/// The generation file a view has open.
struct Generation {
    /// The number in its name (`partners.<number>.log`; 0 for `partners.log`): the generation in
    /// a central folder, a local counter in a replica folder (see [`crate::store::replica`]).
    number: u64,
    path: PathBuf,
    file: File,
    id: FileId,
    header: Header,
    /// End of the last complete line read.
    offset: u64,
    /// Where the last complete line read starts, and its bytes' checksum: before reading more,
    /// the view checks that what it read is still there.
    last_line: (u64, u32),
    /// Bytes after the last newline (seen at the last refresh).
    torn_tail: bool,
    /// The header line's length and checksum (see `still_there`).
    header_len: u64,
    header_crc: u32,
    /// The folder's settled stamp when this file was last found to be the current generation.
    folder: Option<FolderStamp>,
    /// The same file opened for appending by a commit through this view, kept for the next one
    /// when the store says so (`LogView::append`). It is this generation's, so it goes
    /// when the view moves to another file; the next append checks first that the path still
    /// names it.
    appender: Option<File>,
}

impl Generation {
    /// Whether the header and the last line read are still what they were: the cheap check that
    /// the file was not edited or replaced in place (a rolled-back or foreign copy of the same size
    /// shows up in one of them).
    fn still_there(&mut self) -> Result<bool> {
        let (start, crc) = self.last_line;
        let last = files::read_at(&mut self.file, &self.path, start, (self.offset - start) as usize)?;
        if crc32fast::hash(&last) != crc {
            return Ok(false);
        }
        let header = files::read_at(&mut self.file, &self.path, 0, self.header_len as usize)?;
        Ok(crc32fast::hash(&header) == self.header_crc)
    }
}

pub struct LogView {
    pub dir: PathBuf,
    current: Option<Generation>,
    pub state: State,
    pub known: Option<Known>,
    /// Lower generations or temporary files left by an interrupted compaction, for the writer to
    /// clear away. A central view starts with it set, so that each handle's first commit also
    /// clears the superseded history files that earlier builds left after every compaction (one
    /// listing of the folder per handle).
    pub leftovers: bool,
    /// How many of the newest commits a compaction keeps in the history.
    pub retained_commits: u64,
    /// Central folder: a file's name is its generation (checked). Replica folder: a local
    /// counter, the newest copy having the highest.
    names_are_generations: bool,
    /// The longest settle time (see [`SETTLE`], [`LogView::settled_stamp`]).
    pub settle: Duration,
    /// Whether the folder (its device and inode) is on a file system of [`FINE_CLOCK_FILE_SYSTEMS`].
    fine_clock: Option<((u64, u64), bool)>,
    /// Whether reads may rely on a [`Watch`](super::watch::Watch) (central views, until one
    /// could not be set).
    pub watch_reads: bool,
    #[cfg(target_os = "linux")]
    watch: Option<super::watch::Watch>,
}

impl LogView {
    /// A view of a central store folder.
    pub fn central(dir: PathBuf) -> LogView {
        LogView {
            dir,
            current: None,
            state: State::default(),
            known: None,
            leftovers: true,
            retained_commits: crate::history::RETAINED_COMMITS,
            names_are_generations: true,
            settle: SETTLE,
            fine_clock: None,
            watch_reads: true,
            #[cfg(target_os = "linux")]
            watch: None,
        }
    }

    /// A view of a replica folder.
    pub fn replica(dir: PathBuf) -> LogView {
        LogView { names_are_generations: false, watch_reads: false, ..LogView::central(dir) }
    }

    /// The file the view reads, for messages.
    pub fn path(&self) -> PathBuf {
        match &self.current {
            Some(g) => g.path.clone(),
            None => log::generation_path(&self.dir, 1),
        }
    }

    /// When the file the view reads was last written.
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        self.current.as_ref().and_then(|g| g.file.metadata().ok()).and_then(|m| m.modified().ok())
    }

    pub fn header(&self) -> Option<&Header> {
        self.current.as_ref().map(|g| &g.header)
    }

    /// The open generation file and how much of it has been read (for the replica mirror).
    pub fn source(&mut self) -> Option<(&mut File, &Path, u64)> {
        self.current.as_mut().map(|g| (&mut g.file, g.path.as_path(), g.offset))
    }

    /// The folder's settled stamp (see [`FolderStamp`]) from its metadata `meta`, read after
    /// `asked_at`: settled after [`SETTLE_FINE`] where the file system's stamps allow it, else after
    /// `settle` ([`SETTLE`] unless a test shortened it).
    pub(super) fn settled_stamp(&mut self, meta: &fs::Metadata, asked_at: SystemTime) -> Option<FolderStamp> {
        let settle = if FolderStamp::has_fraction(meta) && on_fine_clock(&self.dir, meta, &mut self.fine_clock) {
            self.settle.min(SETTLE_FINE)
        } else {
            self.settle
        };
        FolderStamp::settled(meta, asked_at, settle)
    }

    /// Whether the view's watch vouches that nothing its last full check relied on changed since
    /// (see [`super::watch`]): then the state is current without asking the file system.
    pub fn unchanged(&mut self) -> bool {
        #[cfg(target_os = "linux")]
        if self.watch_reads && self.current.is_some() {
            return self.watch.as_mut().map_or(false, super::watch::Watch::quiet);
        }
        false
    }

    /// Before a full check of the folder (the caller's `stat` and trust check, then `refresh`):
    /// set the watch up for it. It is set at the second full check, so that a handle read once
    /// never takes an inotify instance (a per-user resource), and given up for good where it
    /// cannot be set.
    pub fn before_check(&mut self) {
        #[cfg(target_os = "linux")]
        {
            if !self.watch_reads || self.current.is_none() {
                return;
            }
            if !self.watch.as_ref().map_or(false, super::watch::Watch::usable) {
                self.watch = match file_system_type(&self.dir) {
                    Some(f_type) if super::watch::WATCHED_FILE_SYSTEMS.contains(&f_type) => super::watch::Watch::new(&self.dir),
                    _ => None,
                };
                if self.watch.is_none() {
                    self.watch_reads = false;
                    return;
                }
            }
            if let (Some(w), Some(g)) = (&mut self.watch, &self.current) {
                w.before_check(&g.file, (g.id.0, g.id.1));
            }
        }
    }

    /// Whether a watch vouches for the state now (tests).
    pub fn watched(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.watch.as_ref().map_or(false, super::watch::Watch::vouches);
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// How many reads the watch's poll ring vouched for with no system call (tests).
    pub fn unasked_reads(&self) -> u64 {
        #[cfg(target_os = "linux")]
        return self.watch.as_ref().map_or(0, |w| w.unasked);
        #[cfg(not(target_os = "linux"))]
        0
    }

    /// After a full check that succeeded (see [`LogView::before_check`]).
    pub fn after_check(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(w) = &mut self.watch {
            w.after_check(self.current.as_ref().map(|g| (g.id.0, g.id.1)));
        }
    }

    /// Bring the state up to date with the folder, under the folder's trust rule. `folder`: the
    /// folder's settled stamp, taken before this call (`None`: look at the names whatever it
    /// says). After a failure the view forgets the file it had open (not what it knew): the next
    /// refresh reads the folder whole again, so a refused file is never served from the state
    /// read before it.
    pub fn refresh(&mut self, sharing: Sharing, folder: Option<FolderStamp>) -> Result<()> {
        let result = self.catch_up(sharing, folder);
        match &result {
            Err(_) => self.forget(),
            // Taken before the names were looked at: a change after that moves the stamp.
            Ok(()) => {
                if let Some(g) = &mut self.current {
                    g.folder = folder;
                }
            }
        }
        result
    }

    /// Drop the open file and the state read from it (not what is known): the next refresh
    /// reads the folder whole.
    pub fn forget(&mut self) {
        self.current = None;
        self.state = State::default();
    }

    fn catch_up(&mut self, sharing: Sharing, folder: Option<FolderStamp>) -> Result<()> {
        let Some(g) = &mut self.current else {
            return self.reload(sharing);
        };
        let meta = if folder.is_some() && g.folder == folder {
            // No name in the folder changed since the file was found current: only the open
            // file can have changed (appended to, or cut, or deleted through a link elsewhere).
            let meta = g.file.metadata().map_err(|e| Error::io(&g.path, e))?;
            if unlinked(&meta) {
                return self.reload(sharing);
            }
            meta
        } else {
            if newer_generation_exists(&self.dir, g.number)? {
                return self.reload(sharing);
            }
            // Deleted under this handle: on Windows its name can stay (and even open) until the
            // last handle closes, so the path alone would not tell.
            if delete_pending(&g.file, &g.path)? {
                return self.reload(sharing);
            }
            let Some((id, meta)) = identify(&g.path)? else { return self.reload(sharing) };
            if id != g.id {
                return self.reload(sharing);
            }
            meta
        };
        if meta.len() < g.offset {
            return self.reload(sharing);
        }
        // Modes and owners can change under an open handle: nothing is read from a file that has
        // stopped being trusted.
        trust::check_file(&g.path, &meta, sharing)?;
        if meta.len() == g.offset {
            g.torn_tail = false;
            return Ok(());
        }
        // Something was appended. Apply it only on top of what is still there: a file edited or
        // restored in place is read again whole (and checked against what was known).
        if !g.still_there()? {
            return self.reload(sharing);
        }
        let bytes = files::read_from(&mut g.file, &g.path, g.offset)?;
        self.consume(&bytes)
    }

    /// Read the newest generation whole.
    fn reload(&mut self, sharing: Sharing) -> Result<()> {
        let generations = match log::generations(&self.dir) {
            Ok(g) => g,
            Err(Error::StoreIo { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Err(Error::StoreUnreachable { path: self.dir.clone() })
            }
            Err(e) => return Err(e),
        };
        for &generation in &generations {
            let path = log::numbered_path(&self.dir, generation);
            // Gone between the listing and the open: a writer moved on; take the next one.
            let Some((file, meta)) = files::open_existing(&path, Access::Read)? else { continue };
            // A deleted file still open elsewhere ("delete pending" on Windows) is gone as well.
            if delete_pending(&file, &path)? {
                continue;
            }
            self.leftovers = generations.len() > 1 || self.leftovers;
            return self.load(file, &meta, path, generation, sharing);
        }
        if let Some(known) = &self.known {
            return Err(Error::StoreMismatch {
                path: self.dir.clone(),
                problem: format!(
                    "holds no store files, but {} was seen at revision {} (by this handle, or in this machine's replica folder)",
                    describe(&known.store_id),
                    known.seq
                ),
                fix: "Mount the share or restore the files if they are gone; if this is a new store that shares its replica folder with another store, give it its own (XMPPFED_REPLICA). Nothing was written.".into(),
            });
        }
        self.current = None;
        self.state = State::default();
        Ok(())
    }

    fn load(&mut self, mut file: File, meta: &fs::Metadata, path: PathBuf, number: u64, sharing: Sharing) -> Result<()> {
        trust::check_file(&path, meta, sharing)?;
        // The identity of the file actually read, not of whatever the path names a moment later.
        // Holding `file` open also keeps its inode from being reused while the view remembers it.
        let id = file_id(&file, meta, &path)?;
        let bytes = files::read_from(&mut file, &path, 0)?;
        if bytes.is_empty() {
            return Err(Error::corrupt(&path, "the file is empty (a store file always starts with a header)"));
        }
        let chunk = log::split_lines(&path, 0, &bytes)?;
        let Some(first) = chunk.lines.first() else {
            return Err(Error::corrupt(&path, "the file ends before its header is complete"));
        };
        let header = log::parse_header(&path, first)?;
        if self.names_are_generations && header.generation != number {
            return Err(Error::corrupt(&path, format!("the header says generation {}, the file name {number}", header.generation)));
        }
        let mut state = State::default();
        state.seq = header.seq;
        for payload in &chunk.lines[1..] {
            state.apply(log::parse_record(&path, payload)?);
        }
        self.check_known(&path, &header, state.seq)?;
        let last_start = last_line_start(&bytes[..chunk.consumed as usize]);
        let header_len = first_line_len(&bytes);
        self.current = Some(Generation {
            last_line: (last_start, crc32fast::hash(&bytes[last_start as usize..chunk.consumed as usize])),
            header_len,
            header_crc: crc32fast::hash(&bytes[..header_len as usize]),
            number,
            path,
            file,
            id,
            offset: chunk.consumed,
            torn_tail: chunk.torn_tail,
            header,
            folder: None,
            appender: None,
        });
        self.state = state;
        self.remember();
        Ok(())
    }

    fn consume(&mut self, bytes: &[u8]) -> Result<()> {
        let g = self.current.as_mut().expect("consume follows a load");
        let chunk = log::split_lines(&g.path, g.offset, bytes)?;
        let records = chunk.lines.iter().map(|p| log::parse_record(&g.path, p)).collect::<Result<Vec<Record>>>()?;
        // Only now, with every new record readable, change the state: a reader never half-applies.
        for r in records {
            self.state.apply(r);
        }
        if chunk.consumed > 0 {
            let start = last_line_start(&bytes[..chunk.consumed as usize]);
            g.last_line = (g.offset + start, crc32fast::hash(&bytes[start as usize..chunk.consumed as usize]));
        }
        g.offset += chunk.consumed;
        g.torn_tail = chunk.torn_tail;
        self.remember();
        Ok(())
    }

    /// Refuse a store that is not the one seen before, or is behind it.
    fn check_known(&self, path: &Path, header: &Header, seq: u64) -> Result<()> {
        let Some(known) = &self.known else { return Ok(()) };
        let replaced = match (&known.store_id, &header.store_id) {
            (Some(a), Some(b)) => a != b,
            (Some(_), None) => true,
            // A version-1 store gets its identity when it is first rewritten.
            (None, _) => false,
        };
        let fix = "If this is intended (a restored backup, a store moved here on purpose), delete this machine's replica folder so that the store is accepted as it is now; otherwise restore the newer files. Nothing was written.";
        if replaced {
            return Err(Error::StoreMismatch {
                path: path.to_owned(),
                problem: format!(
                    "holds {}, but {} was seen here before: the store was replaced, or two stores share one replica folder (give each its own XMPPFED_REPLICA)",
                    describe(&header.store_id),
                    describe(&known.store_id)
                ),
                fix: fix.into(),
            });
        }
        if header.generation < known.generation || seq < known.seq {
            return Err(Error::StoreMismatch {
                path: path.to_owned(),
                problem: format!(
                    "was rolled back: it is at revision {seq} (generation {}), but revision {} (generation {}) was already seen",
                    header.generation, known.seq, known.generation
                ),
                fix: fix.into(),
            });
        }
        Ok(())
    }

    fn remember(&mut self) {
        if let Some(g) = &self.current {
            self.known = Some(Known { store_id: g.header.store_id.clone(), generation: g.header.generation, seq: self.state.seq });
        }
    }

    /// For the writer holding the store lock: refresh, then cut off what a crashed writer left
    /// half-written, and create the first generation if the store is new. `folder`: the folder's
    /// settled stamp read under the lock (`None`: look at the names whatever it says).
    pub fn prepare_for_append(&mut self, sharing: Sharing, folder: Option<FolderStamp>) -> Result<()> {
        self.refresh(sharing, folder)?;
        // A refresh with nothing appended trusts the file's size and identity; a writer also
        // checks the header and the last line it read, so that it never appends to a log that was
        // edited or copied over in place (same size) since it read it.
        if let Some(g) = &mut self.current {
            if !g.still_there()? {
                if let Err(e) = self.reload(sharing) {
                    self.forget();
                    return Err(e);
                }
            }
        }
        let Some(g) = &mut self.current else {
            let header = Header { version: log::FORMAT_VERSION, store_id: Some(log::new_store_id()?), generation: 1, seq: 0 };
            let path = log::generation_path(&self.dir, 1);
            files::publish_new(&path, &log::header_line(&header), sharing.file_mode(), None)?;
            return self.refresh(sharing, None);
        };
        if g.torn_tail {
            let (f, _) = files::open_existing(&g.path, Access::Write)?.ok_or_else(|| Error::corrupt(&g.path, "the file disappeared while the store was locked"))?;
            f.set_len(g.offset).map_err(|e| Error::io(&g.path, e))?;
            f.sync_all().map_err(|e| Error::io(&g.path, e))?;
            g.torn_tail = false;
        }
        if self.leftovers {
            self.clear_leftovers();
        }
        // A log of an older format is rewritten in the current one before the first commit
        // appends to it (version 1 gets a store identity and becomes generation 1).
        if self.current.as_ref().map_or(false, |g| g.header.version < log::FORMAT_VERSION) {
            self.compact(sharing)?;
        }
        Ok(())
    }

    /// Append one record durably (write + fdatasync) and apply it. Call after `prepare_for_append`
    /// under the store lock. The handle is kept for the next commit only where the store allows
    /// it (`keep_handle`): not on Windows, where a handle open for writing keeps out the readers
    /// that share only reading (File.ReadAllBytes, Copy-Item, backup tools), and not on a network
    /// file system.
    pub fn append(&mut self, record: Record, keep_handle: bool) -> Result<()> {
        use std::io::Write;
        let g = self.current.as_mut().expect("prepare_for_append creates the store");
        let line = log::encode_line(&record);
        let changed = || Error::corrupt(&g.path, "the file was changed by something other than this library while the store was locked");
        let (mut f, len) = match g.appender.take() {
            Some(f) => {
                // The path must still name this file: something other than this library may have
                // renamed another file over it while the commit was being decided.
                if !matches!(identify(&g.path)?, Some((id, _)) if id == g.id) {
                    return Err(changed());
                }
                let len = f.metadata().map_err(|e| Error::io(&g.path, e))?.len();
                (f, len)
            }
            None => {
                let (f, meta) = files::open_existing(&g.path, Access::Append)?
                    .ok_or_else(|| Error::corrupt(&g.path, "the file disappeared while the store was locked"))?;
                if file_id(&f, &meta, &g.path)? != g.id {
                    return Err(changed());
                }
                (f, meta.len())
            }
        };
        if len != g.offset {
            return Err(changed());
        }
        if let Err(e) = f.write_all(&line).and_then(|_| f.sync_data()) {
            // Leave no partial line behind (a full disk): cut back to the last commit.
            let _ = f.set_len(g.offset);
            return Err(Error::io(&g.path, e));
        }
        // Kept only after a commit that went through: every failure above closes the handle.
        if keep_handle {
            g.appender = Some(f);
        }
        g.last_line = (g.offset, crc32fast::hash(&line));
        g.offset += line.len() as u64;
        self.state.apply(record);
        self.remember();
        Ok(())
    }

    /// Compaction: write the state as the next generation (header plus one record per partner)
    /// under a new name, then delete the current one. No file that another handle may hold open is
    /// replaced; readers move to the new generation at their next refresh.
    pub fn compact(&mut self, sharing: Sharing) -> Result<()> {
        let g = self.current.as_ref().expect("compaction follows a commit");
        let header = Header {
            version: log::FORMAT_VERSION,
            store_id: match &g.header.store_id {
                Some(id) => Some(id.clone()),
                None => Some(log::new_store_id()?),
            },
            generation: g.header.generation + 1,
            seq: self.state.seq,
        };
        let mut bytes = log::header_line(&header);
        for p in self.state.partners.values() {
            log::encode_line_into(&mut bytes, &Record::put(p.revision, p.clone()));
        }
        let old_meta = g.file.metadata().map_err(|e| Error::io(&g.path, e))?;
        // The history first: a generation is never published without the history it carries.
        let history = self.retained_history(&header, sharing)?;
        let history_path = history::file_path(&self.dir, header.generation);
        // Left by a compaction that stopped before it published its generation (under the lock,
        // so no one else is writing it).
        let _ = fs::remove_file(&history_path);
        files::publish_new(&history_path, &history, mode_of(&old_meta, sharing), Some(&old_meta))?;
        let g = self.current.as_ref().expect("compaction follows a commit");
        let path = log::generation_path(&self.dir, header.generation);
        // The new file keeps the old one's mode and group, so a group-shared store stays shared.
        files::publish_new(&path, &bytes, mode_of(&old_meta, sharing), Some(&old_meta))?;
        let old_path = g.path.clone();
        let (file, meta) = files::open_existing(&path, Access::Read)?.ok_or_else(|| Error::corrupt(&path, "the new generation disappeared"))?;
        let id = file_id(&file, &meta, &path)?;
        let last_start = last_line_start(&bytes);
        let header_len = first_line_len(&bytes);
        self.current = Some(Generation {
            last_line: (last_start, crc32fast::hash(&bytes[last_start as usize..])),
            header_len,
            header_crc: crc32fast::hash(&bytes[..header_len as usize]),
            number: header.generation,
            path,
            file,
            id,
            header,
            offset: bytes.len() as u64,
            torn_tail: false,
            folder: None,
            appender: None,
        });
        self.state.records = self.state.partners.len() as u64;
        self.remember();
        // The new generation is durable; the old one is now only a leftover.
        if fs::remove_file(&old_path).is_err() {
            self.leftovers = true;
        }
        // The new history file holds everything retained, so the older ones are superseded; the
        // old generation's own stays until the next compaction (see `clear_leftovers`).
        let generation = self.current.as_ref().map_or(0, |g| g.number);
        if let Some(older) = generation.checked_sub(2).filter(|&g| g > 0) {
            match fs::remove_file(history::file_path(&self.dir, older)) {
                Err(e) if e.kind() != ErrorKind::NotFound => self.leftovers = true,
                _ => {}
            }
        }
        let _ = files::sync_dir(&self.dir);
        Ok(())
    }

    /// The history a compaction carries into generation `next`: the entries of the newest
    /// `retained_commits` commits, from the current
    /// generation's history file and its own commits, as the new history file's bytes.
    fn retained_history(&mut self, next: &Header, sharing: Sharing) -> Result<Vec<u8>> {
        let cutoff = self.state.seq.saturating_sub(self.retained_commits);
        let g = self.current.as_mut().expect("compaction follows a commit");
        let mut bytes = log::header_line(next);
        if let Some(carried) = history::read_file(&self.dir, &g.header, sharing)? {
            // Entries are in revision order (each history file is what the one before it
            // retained, then a generation's commits), so once one is retained every later one
            // is: those are copied as they are, without being parsed or framed again. Only the
            // dropped ones are read (an entry whose revision cannot be read is kept, as ever).
            // With 10,000 retained commits and a small list this was most of a compaction.
            for i in 0..carried.len() {
                match history::revision_of(carried.payload(i)) {
                    Some(r) if r > cutoff => {
                        bytes.extend_from_slice(carried.framed_from(i));
                        break;
                    }
                    Some(_) => {}
                    None => log::frame_into(&mut bytes, carried.payload(i)),
                }
            }
        }
        for entry in generation_history(g)? {
            if entry.revision > cutoff {
                log::encode_line_into(&mut bytes, &entry);
            }
        }
        Ok(bytes)
    }

    /// Every change the store still holds, oldest first: the current generation's history file,
    /// then the commits in the generation itself. Call after a refresh.
    pub fn history(&mut self, sharing: Sharing) -> Result<Vec<crate::history::HistoryEntry>> {
        let Some(g) = self.current.as_mut() else { return Ok(Vec::new()) };
        let mut entries = Vec::new();
        let path = history::file_path(&self.dir, g.header.generation);
        if let Some(carried) = history::read_file(&self.dir, &g.header, sharing)? {
            for i in 0..carried.len() {
                entries.push(serde_json::from_slice(carried.payload(i)).map_err(|e| Error::corrupt(&path, format!("a history entry cannot be read ({e})")))?);
            }
        }
        entries.extend(generation_history(g)?);
        Ok(entries)
    }

    /// Delete lower generations and temporary files of an interrupted compaction (under the lock).
    /// The history file of the generation just below the current one stays: a reader that moved
    /// to that generation just before the last compaction may be about to open it (readers take
    /// no lock), and would otherwise find no history. The one before it is superseded twice over.
    fn clear_leftovers(&mut self) {
        let Some(current) = self.current.as_ref().map(|g| g.header.generation) else { return };
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = match (log::generation_of(name), history::generation_of(name)) {
                (Some(g), _) => g < current,
                (None, Some(g)) => g + 1 < current,
                (None, None) => (name.starts_with("partners.") || name.starts_with(history::PREFIX)) && name.contains(".log.tmp-"),
            };
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
        self.leftovers = false;
    }
}

/// The history entries of the commits in generation `g` (its snapshot lines hold none).
fn generation_history(g: &mut Generation) -> Result<Vec<crate::history::HistoryEntry>> {
    let bytes = files::read_at(&mut g.file, &g.path, 0, g.offset as usize)?;
    let chunk = log::split_lines(&g.path, 0, &bytes)?;
    let mut entries = Vec::new();
    for payload in chunk.lines.iter().skip(1) {
        entries.extend(log::parse_history(&g.path, payload)?);
    }
    Ok(entries)
}

/// The mode of a rewritten file: the old file's, without write access for others.
fn mode_of(meta: &fs::Metadata, sharing: Sharing) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = sharing;
        meta.mode() & 0o660
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        sharing.file_mode()
    }
}

/// The length of the first line of `bytes`, newline included (the header of a loaded file).
fn first_line_len(bytes: &[u8]) -> u64 {
    bytes.iter().position(|&b| b == b'\n').map_or(bytes.len() as u64, |i| i as u64 + 1)
}

/// Where the last line of `bytes` (which end with a newline, or are empty) starts.
fn last_line_start(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        return 0;
    }
    bytes[..bytes.len() - 1].iter().rposition(|&b| b == b'\n').map_or(0, |i| i as u64 + 1)
}

fn describe(store_id: &Option<String>) -> String {
    match store_id {
        Some(id) => format!("store {id}"),
        None => "a store of format version 1".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder's metadata and a time taken before it was read.
    #[cfg(unix)]
    fn look(dir: &Path) -> (fs::Metadata, SystemTime) {
        let asked_at = SystemTime::now();
        (fs::metadata(dir).unwrap(), asked_at)
    }

    /// On the local file systems that stamp from the kernel's clock, a folder left alone for a
    /// tenth of a second counts as settled, where elsewhere it takes the full two seconds.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_folder_on_a_local_file_system_settles_after_a_tenth_of_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let mut view = LogView::central(dir.path().to_owned());
        fs::write(dir.path().join("partners.1.log"), b"").unwrap();
        let (meta, asked_at) = look(dir.path());
        assert_eq!(view.settled_stamp(&meta, asked_at), None, "a folder changed just now");
        std::thread::sleep(SETTLE_FINE + Duration::from_millis(20));
        let (meta, asked_at) = look(dir.path());
        // The test machines keep their temporary folder on a local disk or tmpfs.
        assert!(view.settled_stamp(&meta, asked_at).is_some(), "not settled {SETTLE_FINE:?} after the last change");
        // The same folder on a file system not known for fine stamps waits the full time.
        use std::os::unix::fs::MetadataExt;
        view.fine_clock = Some(((meta.dev(), meta.ino()), false));
        assert_eq!(view.settled_stamp(&meta, asked_at), None);
    }

    /// What counts is a time taken before the metadata was read: a change after the read is
    /// stamped no earlier than that time, whereas a time taken later (after the thread waited)
    /// would let a stamp count as settled that a change in between could repeat.
    #[test]
    #[cfg(unix)]
    fn a_stamp_is_settled_against_the_time_asked_before_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let before_change = SystemTime::now();
        fs::write(dir.path().join("partners.1.log"), b"").unwrap();
        let (meta, _) = look(dir.path());
        let settle = Duration::from_millis(30);
        assert_eq!(FolderStamp::settled(&meta, before_change, settle), None);
        assert_eq!(FolderStamp::settled(&meta, before_change + settle * 10, settle).map(|s| s.ino), Some(std::os::unix::fs::MetadataExt::ino(&meta)));
    }
}
