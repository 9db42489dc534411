//! Whether a central store folder is on a network file system: not a safe shared store. `flock`
//! on NFS or SMB does not revalidate what a client has cached of the log (its size, its last
//! lines), so two machines can decide against stale state, and renaming over an open file leaves
//! `.nfsXXXX` files. The store works there but says so, naming PostgreSQL as the supported shared
//! store (a warning with every commit, and from Initialize).
//!
//! Linux: the folder's `statfs` type. Windows: the volume's drive type (`DRIVE_REMOTE`: a mapped
//! drive or a UNC path). Cluster file systems with coherent locking (GFS2, OCFS2, CephFS, Lustre)
//! and FUSE (which may be local) are not warned about.

use std::path::Path;

use crate::negotiation::Warning;

/// The warning's stable id.
pub const NETWORK_FILE_SYSTEM: &str = "NetworkFileSystem";

/// Linux `statfs` types (`f_type`, linux/magic.h and the file systems' own headers) of network
/// file systems whose locks do not make cached file contents coherent between machines.
const LINUX_NETWORK_FILE_SYSTEMS: &[(u32, &str)] = &[
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFE53_4D42, "SMB2"),
    (0xFF53_4D42, "CIFS"),
    (0x564C, "NCP"),
    (0x7375_7245, "Coda"),
    (0x5346_414F, "AFS"),
    (0x6B41_4653, "AFS"),
];

/// The name of the network file system with Linux `statfs` type `f_type`, if it is one.
pub fn linux_network_fs(f_type: i64) -> Option<&'static str> {
    let magic = super::sys::statfs_magic(f_type);
    LINUX_NETWORK_FILE_SYSTEMS.iter().find(|(m, _)| *m == magic).map(|(_, name)| *name)
}

/// The network file system `dir` is on, if it is on one (`None` also when it cannot be told).
pub fn network_fs_of(dir: &Path) -> Option<&'static str> {
    lookup(dir).flatten()
}

/// The network file system `dir` is on (`Some(None)`: a local one), or `None` when it cannot be
/// told (the question failed).
pub fn lookup(dir: &Path) -> Option<Option<&'static str>> {
    #[cfg(target_os = "linux")]
    return super::sys::file_system_type(dir).ok().map(linux_network_fs);
    #[cfg(windows)]
    return super::sys::is_remote_drive(dir).ok().map(|remote| remote.then_some("a network drive"));
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = dir;
        Some(None)
    }
}

/// The warning for a central store folder on network file system `kind`.
pub fn warning(dir: &Path, kind: &str) -> Warning {
    Warning {
        id: NETWORK_FILE_SYSTEM,
        message: format!(
            "the central store folder '{}' is on a network file system ({kind}): its file locks do not keep the store's log coherent between machines, so changes made on two machines can conflict unnoticed. For a store shared by several machines use PostgreSQL (XMPPFED_STORE=postgresql://...); a folder store is for one machine",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_file_systems_are_recognised_by_their_statfs_type() {
        assert_eq!(linux_network_fs(0x6969), Some("NFS"));
        assert_eq!(linux_network_fs(0x517B), Some("SMB"));
        assert_eq!(linux_network_fs(0xFE53_4D42), Some("SMB2"));
        assert_eq!(linux_network_fs(0xFF53_4D42), Some("CIFS"));
        // Sign-extended, as a 32-bit statfs reports it.
        assert_eq!(linux_network_fs(0xFF53_4D42u32 as i32 as i64), Some("CIFS"));
        // Local file systems: ext4, xfs, btrfs, tmpfs, overlayfs; FUSE and cluster file systems.
        for local in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x6573_5546, 0x0116_1970] {
            assert_eq!(linux_network_fs(local), None, "{local:#x}");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_local_folder_is_not_a_network_file_system() {
        let dir = std::env::temp_dir();
        assert!(super::super::sys::file_system_type(&dir).is_ok());
        // The test machines keep their temporary folder on a local disk or tmpfs.
        assert_eq!(network_fs_of(&dir), None);
    }

    #[test]
    #[cfg(windows)]
    fn a_local_folder_is_not_a_network_drive() {
        let dir = std::env::temp_dir();
        assert_eq!(super::super::sys::is_remote_drive(&dir).unwrap(), false);
        assert_eq!(network_fs_of(&dir), None);
    }

    #[test]
    fn the_warning_names_the_folder_the_file_system_and_postgresql() {
        let w = warning(Path::new("/srv/xmppfed"), "NFS");
        assert_eq!(w.id, "NetworkFileSystem");
        assert!(w.message.contains("'/srv/xmppfed'") && w.message.contains("(NFS)") && w.message.contains("PostgreSQL"), "{}", w.message);
    }
}
