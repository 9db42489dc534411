//! Who may have written what the store reads. The allow-list decides who may talk to an
//! organisation's users, so a store is read only from folders and files that nobody but trusted
//! accounts can write (README "Threat model"):
//! - a **private** store folder is owned by the caller or root and writable by nobody else; its
//!   files likewise;
//! - a **group-shared** store folder is group-writable with the setgid bit (so every file the
//!   store creates gets the folder's group) and not writable by others; its files may belong to
//!   any member of that group, and group-writable files must carry the folder's group;
//! - a local replica folder is always private;
//! - anything writable by every user is refused.
//!
//! A violation is reported with the path, what is wrong and the command that fixes it. On Windows
//! files inherit the folder's ACL and these checks do not apply (see README).

use std::fs;
use std::path::Path;

#[cfg(unix)]
use crate::error::Error;
use crate::error::Result;

/// How a store folder is shared, which decides whose files are trusted and the mode of new files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Private to the account this process runs as (its user id on Unix, asked once per folder
    /// check and carried here so that the checks of the folder's files need not ask again; 0 on
    /// Windows, where these checks do not apply).
    Private(u32),
    /// Shared with the members of this group (a Unix group: never on Windows).
    #[cfg_attr(not(unix), allow(dead_code))]
    Group(u32),
}

impl Sharing {
    /// The mode of the files the store creates.
    pub fn file_mode(self) -> u32 {
        match self {
            Sharing::Private(_) => 0o600,
            Sharing::Group(_) => 0o660,
        }
    }
}

/// Which folder is checked: a replica is this machine's private cache and is never shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Central,
    Replica,
}

/// Check a store folder before anything in it is read or written: how it is shared, or why it
/// cannot be trusted.
pub fn check_folder(dir: &Path, role: Role) -> Result<Sharing> {
    #[cfg(unix)]
    {
        let meta = fs::metadata(dir).map_err(|e| crate::error::Error::io(dir, e))?;
        check_folder_metadata(dir, &meta, role)
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, role);
        Ok(Sharing::Private(0))
    }
}

/// [`check_folder`] from metadata the caller already has (one `stat` for the whole refresh).
#[cfg(unix)]
pub fn check_folder_metadata(dir: &Path, meta: &fs::Metadata, role: Role) -> Result<Sharing> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    let me = super::sys::effective_uid();
    let shown = dir.display();
    if mode & 0o002 != 0 {
        return Err(Error::untrusted(
            dir,
            format!("the folder is writable by every user (mode {:o}): anyone could forge or replace the allow-list", mode & 0o7777),
            format!("chmod o-w '{shown}' (and make sure its files are yours)"),
        ));
    }
    if mode & 0o020 != 0 {
        if role == Role::Replica {
            return Err(Error::untrusted(
                dir,
                format!("a local replica folder must be private, but this one is group-writable (mode {:o})", mode & 0o7777),
                format!("chmod 700 '{shown}', or point XMPPFED_REPLICA at a folder of your own"),
            ));
        }
        if mode & 0o2000 == 0 {
            return Err(Error::untrusted(
                dir,
                format!("the folder is group-writable without the setgid bit (mode {:o}), which is not a group-shared store", mode & 0o7777),
                format!("for a store shared by a group of admins: chgrp <admins> '{shown}' && chmod 2770 '{shown}'; otherwise chmod 700 '{shown}'"),
            ));
        }
        return Ok(Sharing::Group(meta.gid()));
    }
    if meta.uid() != me && meta.uid() != 0 {
        return Err(Error::untrusted(
            dir,
            format!("the folder belongs to user id {}, not to you (user id {me}) or root", meta.uid()),
            "use a folder of your own, or have its owner share it with a group (chmod 2770, chgrp <admins>)".to_string(),
        ));
    }
    Ok(Sharing::Private(me))
}

#[cfg(not(unix))]
pub fn check_folder_metadata(_dir: &Path, _meta: &fs::Metadata, _role: Role) -> Result<Sharing> {
    Ok(Sharing::Private(0))
}

/// Check a store file the store is about to trust, from the metadata of the open file.
/// `sharing` is what the check of its folder found, in the same operation.
#[cfg(unix)]
pub fn check_file(path: &Path, meta: &fs::Metadata, sharing: Sharing) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    let shown = path.display();
    if mode & 0o002 != 0 {
        return Err(Error::untrusted(
            path,
            format!("the file is writable by every user (mode {:o})", mode & 0o7777),
            format!("chmod o-w '{shown}', after checking its contents"),
        ));
    }
    match sharing {
        Sharing::Private(me) => {
            if meta.uid() != me && meta.uid() != 0 {
                return Err(Error::untrusted(
                    path,
                    format!("the file belongs to user id {}, not to you (user id {me}) or root, in a private store folder", meta.uid()),
                    "find out who wrote it; to share a store with other admins, make it group-shared (see README)".to_string(),
                ));
            }
            if mode & 0o020 != 0 {
                return Err(Error::untrusted(
                    path,
                    format!("the file is group-writable (mode {:o}) in a private store folder", mode & 0o7777),
                    format!("chmod g-w '{shown}', after checking its contents"),
                ));
            }
        }
        Sharing::Group(gid) => {
            if mode & 0o020 != 0 && meta.gid() != gid {
                return Err(Error::untrusted(
                    path,
                    format!("the file is writable by group id {}, not the store folder's group {gid}", meta.gid()),
                    format!("chgrp {gid} '{shown}', after checking its contents"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_file(_path: &Path, _meta: &fs::Metadata, _sharing: Sharing) -> Result<()> {
    Ok(())
}
