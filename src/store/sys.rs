//! The few facts that the standard library does not give: who the process runs as and on which
//! machine, for the trust rule and the lock holder's note, and on Windows which file an open
//! handle is, and which file system a folder is on: plain system calls with no pointers kept.
//! `unsafe` lives only here, in `ffi`, in libpq's wrapper `pq`, and in the change watch
//! (`watch`, `poll_ring`: inotify and io_uring, which no library here wraps).

/// How many times this process has forked since this was first asked (Unix; counted by a
/// `pthread_atfork` handler): a lock or a watch kept from before a `fork` belongs to the parent
/// when the count differs, which this tells without a `getpid` per call.
#[cfg(unix)]
pub fn forks() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FORKS: AtomicU64 = AtomicU64::new(0);
    static COUNT_FORKS: std::sync::Once = std::sync::Once::new();
    extern "C" fn forked_child() {
        FORKS.fetch_add(1, Ordering::Relaxed);
    }
    COUNT_FORKS.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic (async-signal-safe).
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// A number for the calling thread, never given to another thread of this process (unlike a
/// thread id, which the kernel reuses): who armed a poll ring (see `poll_ring`). No system call.
#[cfg(target_os = "linux")]
pub fn this_thread() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static THIS: Cell<u64> = const { Cell::new(0) });
    THIS.with(|this| {
        if this.get() == 0 {
            this.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        this.get()
    })
}

/// No `fork` on Windows.
#[cfg(not(unix))]
pub fn forks() -> u64 {
    0
}

/// The effective user id (Unix).
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The user name, for messages: `$USER` / `%USERNAME%`, else the numeric id.
pub fn user_name() -> String {
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    #[cfg(unix)]
    return format!("uid {}", effective_uid());
    #[cfg(not(unix))]
    return "unknown user".into();
}

/// The account this process runs as, from the operating system (not from `$USER`, which any
/// process can set): the history's "who". Unix: the password database's name for the effective
/// uid (`uid N` if it has none); Windows: `GetUserNameW`.
pub fn account_name() -> String {
    #[cfg(unix)]
    {
        // Looked up once per effective uid: the password database is a file that getpwuid_r
        // opens and parses, which every commit would otherwise pay for.
        static LAST: std::sync::Mutex<Option<(u32, String)>> = std::sync::Mutex::new(None);
        let uid = effective_uid();
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached_uid, name)) = last.as_ref() {
            if *cached_uid == uid {
                return name.clone();
            }
        }
        let name = passwd_name(uid);
        *last = Some((uid, name.clone()));
        name
    }
    #[cfg(windows)]
    {
        #[link(name = "advapi32")]
        extern "system" {
            fn GetUserNameW(buffer: *mut u16, size: *mut u32) -> i32;
        }
        let mut buf = [0u16; 257];
        let mut len = buf.len() as u32;
        // SAFETY: the buffer is valid for `len` UTF-16 units; on success `len` counts the name
        // and its NUL.
        if unsafe { GetUserNameW(buf.as_mut_ptr(), &mut len) } != 0 && len > 0 {
            return String::from_utf16_lossy(&buf[..len as usize - 1]);
        }
        "unknown user".into()
    }
}

/// The password database's name for `uid` (`uid N` if it has none).
#[cfg(unix)]
fn passwd_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    // SAFETY: an all-zero passwd is a valid value for getpwuid_r to fill in.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, the buffer for its length; the strings
    // that `pw` points to live in `buf`, which outlives their use below.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() && !pw.pw_name.is_null() {
        // SAFETY: getpwuid_r succeeded, so pw_name is a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
        return name.to_string_lossy().into_owned();
    }
    format!("uid {uid}")
}

/// This machine's name, from the operating system: the history's "where" and the lock holder's
/// note. On Windows `GetComputerNameW`, not `%COMPUTERNAME%`, which any process can set (as
/// [`account_name`] does not read `$USER`).
pub fn host_name() -> String {
    // Asked once per process: every commit names its machine three times (the history, the lock
    // holder's note and the replica's), a system call each. A machine renamed while a
    // process runs is named as it was when that process first committed (Windows reads its
    // computer name at boot anyway).
    static NAME: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut name = NAME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    name.get_or_insert_with(ask_host_name).clone()
}

fn ask_host_name() -> String {
    #[cfg(windows)]
    {
        #[link(name = "kernel32")]
        extern "system" {
            fn GetComputerNameW(buffer: *mut u16, size: *mut u32) -> i32;
        }
        let mut buf = [0u16; 256];
        let mut len = buf.len() as u32;
        // SAFETY: the buffer is valid for `len` UTF-16 units; on success `len` counts the name
        // without its NUL.
        if unsafe { GetComputerNameW(buf.as_mut_ptr(), &mut len) } != 0 && (len as usize) < buf.len() {
            return String::from_utf16_lossy(&buf[..len as usize]);
        }
    }
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
        // truncates, and the length is bounded below.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) } == 0;
        if ok {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown host".into())
}

/// The volume serial number and file index of an open file: what tells two files apart on
/// Windows, as device and inode numbers do on Unix. (The standard library's metadata offers only
/// the creation time there, which two files can share and which some file systems do not keep.)
/// The index is the 64-bit one of `GetFileInformationByHandle`, unique on NTFS and FAT; ReFS has
/// 128-bit ids.
#[cfg(windows)]
pub fn file_identity(file: &std::fs::File) -> std::io::Result<(u64, u64)> {
    use std::os::windows::io::AsRawHandle;

    #[repr(C)]
    struct FileTime {
        low: u32,
        high: u32,
    }
    /// BY_HANDLE_FILE_INFORMATION (fileapi.h).
    #[repr(C)]
    struct ByHandleFileInformation {
        file_attributes: u32,
        creation_time: FileTime,
        last_access_time: FileTime,
        last_write_time: FileTime,
        volume_serial_number: u32,
        file_size_high: u32,
        file_size_low: u32,
        number_of_links: u32,
        file_index_high: u32,
        file_index_low: u32,
    }
    #[link(name = "kernel32")]
    extern "system" {
        fn GetFileInformationByHandle(file: *mut std::ffi::c_void, info: *mut ByHandleFileInformation) -> i32;
    }
    let mut info = std::mem::MaybeUninit::<ByHandleFileInformation>::zeroed();
    // SAFETY: the handle is open for the borrow of `file`; the call writes one
    // BY_HANDLE_FILE_INFORMATION into the buffer, which is zeroed and of that layout.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), info.as_mut_ptr()) };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so it filled the structure (every bit pattern is valid anyway).
    let info = unsafe { info.assume_init() };
    Ok((u64::from(info.volume_serial_number), (u64::from(info.file_index_high) << 32) | u64::from(info.file_index_low)))
}

/// Whether the open file `file` is "delete pending" on Windows: deleted, but its name stays (and
/// even opens) until the last handle closes (SMB shares, FAT, Windows without POSIX-style
/// deletes), so that a view never goes on serving, or appending to, a file that will vanish. (On
/// Unix a deleted file's name is gone at once, which the view's check of the path already sees.)
/// Wine 8 always reports `DeletePending` false (ntdll's FIXME), so this is not exercised there.
#[cfg(windows)]
pub fn is_delete_pending(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::windows::io::AsRawHandle;

    /// FILE_STANDARD_INFO (winbase.h).
    #[repr(C)]
    struct FileStandardInfo {
        allocation_size: i64,
        end_of_file: i64,
        number_of_links: u32,
        delete_pending: u8,
        directory: u8,
    }
    /// FileStandardInfo in FILE_INFO_BY_HANDLE_CLASS.
    const FILE_STANDARD_INFO_CLASS: i32 = 1;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetFileInformationByHandleEx(file: *mut std::ffi::c_void, class: i32, info: *mut std::ffi::c_void, size: u32) -> i32;
    }
    let mut info = std::mem::MaybeUninit::<FileStandardInfo>::zeroed();
    // SAFETY: the handle is open for the borrow of `file`; the call writes at most `size` bytes,
    // one FILE_STANDARD_INFO, into the zeroed buffer of that layout.
    let ok = unsafe {
        GetFileInformationByHandleEx(
            file.as_raw_handle(),
            FILE_STANDARD_INFO_CLASS,
            info.as_mut_ptr().cast(),
            std::mem::size_of::<FileStandardInfo>() as u32,
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so it filled the structure (every bit pattern is valid anyway).
    Ok(unsafe { info.assume_init() }.delete_pending != 0)
}

/// Where the writer lock is taken in a Windows lock file: one byte far beyond the holder's note, so
/// that the note stays readable and writable through other handles (Windows refuses reads and
/// writes of a range that another handle has locked, and a whole-file lock would hide the note
/// from the waiting writer whose message quotes it). 1 GiB, the region SQLite locks in its
/// database files, which network file systems handle.
#[cfg(windows)]
pub const LOCK_BYTE: u64 = 1 << 30;

/// OVERLAPPED (minwinbase.h): only the offset is used.
#[cfg(windows)]
#[repr(C)]
struct Overlapped {
    internal: usize,
    internal_high: usize,
    offset: u32,
    offset_high: u32,
    event: *mut std::ffi::c_void,
}

#[cfg(windows)]
#[link(name = "kernel32")]
extern "system" {
    fn LockFileEx(file: *mut std::ffi::c_void, flags: u32, reserved: u32, low: u32, high: u32, at: *mut Overlapped) -> i32;
    fn UnlockFileEx(file: *mut std::ffi::c_void, reserved: u32, low: u32, high: u32, at: *mut Overlapped) -> i32;
}

#[cfg(windows)]
fn at(offset: u64) -> Overlapped {
    Overlapped { internal: 0, internal_high: 0, offset: offset as u32, offset_high: (offset >> 32) as u32, event: std::ptr::null_mut() }
}

/// Try to lock `len` bytes at `offset` of `file` exclusively, without waiting: `Ok(false)` when
/// another handle holds an overlapping lock.
#[cfg(windows)]
pub fn try_lock_range(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<bool> {
    use std::os::windows::io::AsRawHandle;
    const LOCKFILE_FAIL_IMMEDIATELY: u32 = 1;
    const LOCKFILE_EXCLUSIVE_LOCK: u32 = 2;
    const ERROR_LOCK_VIOLATION: i32 = 33;
    let mut overlapped = at(offset);
    // SAFETY: the handle is open for the borrow of `file`, which was opened for synchronous I/O, so
    // the call completes before it returns and `overlapped` outlives it.
    let ok = unsafe {
        LockFileEx(file.as_raw_handle(), LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, len as u32, (len >> 32) as u32, &mut overlapped)
    };
    if ok != 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(ERROR_LOCK_VIOLATION) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Release a lock taken with [`try_lock_range`] (closing the file releases it too).
#[cfg(windows)]
pub fn unlock_range(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::windows::io::AsRawHandle;
    let mut overlapped = at(offset);
    // SAFETY: as in try_lock_range.
    let ok = unsafe { UnlockFileEx(file.as_raw_handle(), 0, len as u32, (len >> 32) as u32, &mut overlapped) };
    if ok != 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A `statfs` type as the 32-bit magic number the file systems' headers give: `f_type` is a
/// signed word, so a magic with the top bit set (0xFF534D42) may arrive sign-extended.
pub fn statfs_magic(f_type: i64) -> u32 {
    (f_type as u64 & 0xFFFF_FFFF) as u32
}

/// The `statfs` type (`f_type`) of the file system `path` is on (Linux).
#[cfg(target_os = "linux")]
pub fn file_system_type(path: &std::path::Path) -> std::io::Result<i64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: a NUL-terminated path and a zeroed buffer of the structure statfs fills.
    if unsafe { libc::statfs(c_path.as_ptr(), buf.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statfs succeeded, so it filled the structure.
    Ok(unsafe { buf.assume_init() }.f_type as i64)
}

/// Whether `path` is on a network drive (`GetDriveTypeW` of its volume is `DRIVE_REMOTE`: a
/// mapped drive or a UNC path).
#[cfg(windows)]
pub fn is_remote_drive(path: &std::path::Path) -> std::io::Result<bool> {
    use std::os::windows::ffi::OsStrExt;
    const DRIVE_REMOTE: u32 = 4;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetVolumePathNameW(file_name: *const u16, volume_path_name: *mut u16, len: u32) -> i32;
        fn GetDriveTypeW(root_path_name: *const u16) -> u32;
    }
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain(Some(0)).collect();
    let mut volume = vec![0u16; 32_768];
    // SAFETY: a NUL-terminated wide path and a buffer of the length given.
    if unsafe { GetVolumePathNameW(wide.as_ptr(), volume.as_mut_ptr(), volume.len() as u32) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the call above NUL-terminated the volume path within the buffer.
    Ok(unsafe { GetDriveTypeW(volume.as_ptr()) } == DRIVE_REMOTE)
}
