//! The store's file-system toolkit: every file the store opens or creates goes through here, so
//! that the rules against other local users hold everywhere (see README "Threat model"):
//! - nothing is opened through a symbolic link (`O_NOFOLLOW`), and a store file must be a regular
//!   file: a FIFO or device where one belongs is refused, never waited on (`O_NONBLOCK`);
//! - new files are created exclusively (`O_EXCL`) under unpredictable names, so a name planted in
//!   advance is never written through;
//! - what the store creates is readable by its owner only, or by the store's group in a
//!   group-shared folder (see `trust`).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a store file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Read and append (the log, by the writer holding the lock).
    Append,
    /// Read and write anywhere (cutting a torn tail, rewriting the lock holder's note).
    Write,
}

/// Open an existing store file without following a symbolic link, and refuse anything that is not
/// a regular file. `Ok(None)` when there is no file by that name. With the file comes the metadata
/// its check read (one `fstat` per open: callers need its size or identity anyway).
pub fn open_existing(path: &Path, access: Access) -> Result<Option<(File, fs::Metadata)>> {
    let mut options = OpenOptions::new();
    match access {
        Access::Read => options.read(true),
        Access::Append => options.read(true).append(true),
        Access::Write => options.read(true).write(true),
    };
    no_follow(&mut options);
    match options.open(path) {
        Ok(file) => {
            let meta = require_regular(&file, path)?;
            Ok(Some((file, meta)))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(refused_or_io(path, e)),
    }
}

/// Create a file that must not exist yet (nothing planted in advance is written through), with
/// `mode` on Unix.
pub fn create_new(path: &Path, mode: u32) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    no_follow(&mut options);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let file = options.open(path).map_err(|e| refused_or_io(path, e))?;
    // The umask may have removed bits the store needs (group access in a group-shared folder).
    set_mode(&file, path, mode)?;
    Ok(file)
}

/// A new temporary file beside `final_path`, named unpredictably and created exclusively.
pub fn create_temp(final_path: &Path, mode: u32) -> Result<(File, PathBuf)> {
    let name = final_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for _ in 0..16 {
        let tmp = final_path.with_file_name(format!("{name}.tmp-{}", random_hex(8)?));
        match create_new(&tmp, mode) {
            Ok(f) => return Ok((f, tmp)),
            Err(Error::StoreIo { ref source, .. }) if source.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::io(final_path, std::io::Error::new(ErrorKind::AlreadyExists, "could not find a free temporary file name")))
}

/// Write `contents` to a new file at `path`, which must not exist: a temporary file, fsync, then
/// a link under the final name that fails if the name is taken (never replacing a file another
/// handle may hold open), and an fsync of the folder.
pub fn publish_new(path: &Path, contents: &[u8], mode: u32, group_of: Option<&fs::Metadata>) -> Result<()> {
    let (mut file, tmp) = create_temp(path, mode)?;
    let result = (|| {
        if let Some(meta) = group_of {
            copy_group(&file, &tmp, meta)?;
        }
        file.write_all(contents).map_err(|e| Error::io(&tmp, e))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(file);
        link_new(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Give `path` a second name `new`, failing if `new` exists.
fn link_new(from: &Path, to: &Path) -> Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        // File systems without hard links (FAT): a rename, after checking the name is free. The
        // writer holds the store lock, so only a foreign process could take the name in between,
        // and a rename never writes through what it replaces.
        Err(e) if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::PermissionDenied) && !exists(to)? => {
            fs::rename(from, to).map_err(|e| Error::io(to, e))
        }
        Err(e) => Err(Error::io(to, e)),
    }
}

/// Whether anything (a file, a link, a folder) has this name.
pub fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Read `file` from `offset` to its current end.
pub fn read_from(file: &mut File, path: &Path, offset: u64) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// Read exactly `len` bytes at `offset` (one `pread` on Unix; the file position is left
/// anywhere, so callers that read on from it seek first).
pub fn read_at(file: &mut File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    #[cfg(unix)]
    let read = std::os::unix::fs::FileExt::read_exact_at(&*file, &mut bytes, offset);
    #[cfg(not(unix))]
    let read = file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(&mut bytes));
    read.map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// Write all of `bytes` at `offset` (one `pwrite` on Unix; the file position is left anywhere).
pub fn write_at(file: &mut File, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::write_all_at(&*file, bytes, offset);
    #[cfg(not(unix))]
    {
        use std::io::Write;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)
    }
}

/// Make a rename, link or unlink durable. Only meaningful (and only possible) on Unix.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    let _ = dir;
    Ok(())
}

/// The folders the store creates: private to their owner.
pub fn create_dir_private(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::io(dir, e))
}

/// `bytes` random bytes as hex, from the operating system's generator.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)
        .map_err(|e| Error::io(Path::new("(random source)"), std::io::Error::new(ErrorKind::Other, e.to_string())))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn no_follow(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
}

fn require_regular(file: &File, path: &Path) -> Result<fs::Metadata> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(meta);
    }
    let kind = if meta.file_type().is_symlink() {
        "a symbolic link"
    } else if meta.is_dir() {
        "a folder"
    } else {
        "a special file (FIFO, socket or device)"
    };
    Err(Error::untrusted(path, format!("it is {kind}, where a store file belongs"), "remove it; the store creates its files itself"))
}

/// An open refused because the name is a symbolic link is an attack or a mistake, not an I/O error.
fn refused_or_io(path: &Path, e: std::io::Error) -> Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return Error::untrusted(path, "it is a symbolic link, where a store file belongs", "remove the link; the store creates its files itself");
    }
    Error::io(path, e)
}

fn set_mode(file: &File, path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))?;
    }
    let _ = (file, path, mode);
    Ok(())
}

/// Give a new file the group of `like` (group-shared stores keep their group across rewrites).
fn copy_group(file: &File, path: &Path, like: &fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let current = file.metadata().map_err(|e| Error::io(path, e))?;
        if current.gid() != like.gid() {
            std::os::unix::fs::fchown(file, None, Some(like.gid())).map_err(|e| Error::io(path, e))?;
        }
    }
    let _ = (file, path, like);
    Ok(())
}

/// The folder must exist: a missing one is reported as unreachable, by its own name (an unmounted
/// share, a deleted or mistyped folder), never created behind the admin's back. Returns its
/// metadata, so that the trust check and the view's refresh need no second `stat`.
pub fn require_folder(dir: &Path) -> Result<fs::Metadata> {
    folder_metadata(dir).ok_or_else(|| Error::StoreUnreachable { path: dir.to_owned() })
}

/// The metadata of `dir` if it is a folder (following links, as opening files in it does).
pub fn folder_metadata(dir: &Path) -> Option<fs::Metadata> {
    fs::metadata(dir).ok().filter(fs::Metadata::is_dir)
}
