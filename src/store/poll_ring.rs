//! Linux: lets the watch of [`super::watch`] tell that none of its descriptors became ready with
//! no system call at all. A one-shot `poll` of each descriptor is armed in an io_uring; when one
//! becomes ready the kernel writes a completion into the ring's memory, which is mapped into this
//! process, so "nothing happened" is one load of the completion queue's tail.
//!
//! When the completion is written matters, and is why a ring vouches only on one thread. The
//! kernel does not write it in the writer's call: the wakeup queues work on the thread that armed
//! the poll (its "owner") and flags that thread, which runs the work before it next returns to
//! user mode, from any system call, interrupt or preemption (a running owner is sent an
//! interrupt at once). So on the owner, a completion caused by a change that the owner can have
//! learnt of through the kernel (a pipe, a file, a child's exit, a wait) is always there before
//! it looks; so is one caused by a change made before the owner's last system call. (Only a
//! change that the owner learnt of from another thread through memory alone, with no system call
//! on its way, could be looked for before that interrupt lands, within microseconds.) On any
//! other thread it may not be yet (measured here: 244 of 2,000 changes were not
//! yet visible to another thread that had waited for the writer's exit), so another thread asks
//! the kernel as before, and the ring moves to a thread that reads [`MOVE_AFTER`] times in a row.
//!
//! The ring polls a `/proc/self/mounts` of its own: polling that file takes the change it reports
//! (the file remembers the mount table it last reported), so a ring sharing the watch's would
//! race with the watch's own `poll` for it; with its own, each sees every change after it was
//! opened.
//!
//! Where io_uring cannot be set up (an old kernel, `kernel.io_uring_disabled`, a container's
//! seccomp filter), there is no ring and the watch polls as it always did.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// Reads in a row by one thread that is not the owner after which the ring is set up again on
/// that thread: often enough that a host which moves its pipeline to another thread gains the
/// ring back soon, seldom enough that threads taking turns on one handle do not rebuild it at
/// every read (a rebuild costs about six system calls; a read on another thread, one).
pub const MOVE_AFTER: u32 = 8;

/// What a completion was for: the `user_data` of its poll.
#[derive(Clone, Copy)]
enum Polled {
    Events = 1,
    Mounts = 2,
}

/// One watch's ring. Its memory must not be touched in a child of `fork`, where the mapping
/// faults (checked: reading it killed the child); the watch, which counts forks, never uses a
/// ring there and only drops it.
pub struct PollRing {
    ring: OwnedFd,
    /// The single mapping of both rings (IORING_FEAT_SINGLE_MMAP), and its length.
    rings: *mut u8,
    rings_len: usize,
    sqes: *mut Sqe,
    sqes_len: usize,
    sq_tail: *const AtomicU32,
    sq_mask: u32,
    sq_array: *mut u32,
    cq_head: *const AtomicU32,
    cq_tail: *const AtomicU32,
    cq_mask: u32,
    cqes: *const Cqe,
    /// The descriptors polled, by [`Polled`] kind: the watch's inotify queue, the ring's own
    /// mount table.
    events: RawFd,
    mounts: File,
    /// Which polls are armed and not yet completed.
    armed_events: bool,
    armed_mounts: bool,
    /// The thread (see [`super::sys::this_thread`]) that armed the polls.
    owner: u64,
    /// The last thread other than the owner that asked, and how many times in a row.
    other: (u64, u32),
}

// SAFETY: the mapping belongs to the ring's descriptor, not to a thread; the watch that holds the
// ring is only used by one thread at a time (the store's handle is `&mut`).
unsafe impl Send for PollRing {}

impl PollRing {
    /// A ring polling `events` (the inotify queue, for input) and the mount table (for any
    /// change from now on), owned by this thread; `None` where io_uring is refused. Nothing is
    /// armed until [`PollRing::arm`].
    pub fn new(events: RawFd) -> Option<PollRing> {
        let mounts = File::open("/proc/self/mounts").ok()?;
        // SAFETY: zeroed parameters are the documented request for default rings.
        let mut params: Params = unsafe { std::mem::zeroed() };
        // SAFETY: plain system call with a valid parameter block; the descriptor is owned below.
        let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, &mut params as *mut Params) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor (close-on-exec) nothing else owns.
        let ring = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        if params.features & FEAT_SINGLE_MMAP == 0 {
            return None;
        }
        let sq_len = params.sq_off.array as usize + params.sq_entries as usize * 4;
        let cq_len = params.cq_off.cqes as usize + params.cq_entries as usize * std::mem::size_of::<Cqe>();
        let rings_len = sq_len.max(cq_len);
        let rings = map(&ring, rings_len, OFF_SQ_RING)?;
        let sqes_len = params.sq_entries as usize * std::mem::size_of::<Sqe>();
        let Some(sqes) = map(&ring, sqes_len, OFF_SQES) else {
            // SAFETY: the mapping made just above, not used after this.
            unsafe { libc::munmap(rings.cast(), rings_len) };
            return None;
        };
        // SAFETY: every offset is the kernel's own, inside the mapping of the length it implies.
        let at = |offset: u32| unsafe { rings.add(offset as usize) };
        // SAFETY: as above; the masks are written by the kernel before setup returns.
        let (sq_mask, cq_mask) = unsafe { (*at(params.sq_off.ring_mask).cast::<u32>(), *at(params.cq_off.ring_mask).cast::<u32>()) };
        Some(PollRing {
            ring,
            rings,
            rings_len,
            sqes: sqes.cast(),
            sqes_len,
            sq_tail: at(params.sq_off.tail).cast(),
            sq_mask,
            sq_array: at(params.sq_off.array).cast(),
            cq_head: at(params.cq_off.head).cast(),
            cq_tail: at(params.cq_off.tail).cast(),
            cq_mask,
            cqes: at(params.cq_off.cqes).cast(),
            events,
            mounts,
            armed_events: false,
            armed_mounts: false,
            owner: super::sys::this_thread(),
            other: (0, 0),
        })
    }

    /// Whether both polls are armed by this thread and neither has completed: then neither
    /// descriptor has become ready since it was armed. No system call.
    pub fn quiet(&self) -> bool {
        self.armed_events
            && self.armed_mounts
            && self.owner == super::sys::this_thread()
            // SAFETY: pointers into the live mapping; the kernel publishes the tail with release.
            && unsafe { (*self.cq_tail).load(Ordering::Acquire) == (*self.cq_head).load(Ordering::Relaxed) }
    }

    /// Take every completion posted so far: the polls that completed are no longer armed. What
    /// became ready is for the watch's own `poll` to tell (its mount table is a file of its own
    /// too). True if the kernel refused a poll (other than cancelling it because its thread
    /// ended): the ring would then fail at every read.
    pub fn take(&mut self) -> bool {
        let mut refused = false;
        // SAFETY: pointers into the live mapping; entries below the tail are complete (acquire).
        unsafe {
            let tail = (*self.cq_tail).load(Ordering::Acquire);
            let mut head = (*self.cq_head).load(Ordering::Relaxed);
            while head != tail {
                let cqe = &*self.cqes.add((head & self.cq_mask) as usize);
                refused |= cqe.res < 0 && cqe.res != -libc::ECANCELED;
                if cqe.user_data == Polled::Events as u64 {
                    self.armed_events = false;
                } else {
                    self.armed_mounts = false;
                }
                head = head.wrapping_add(1);
            }
            (*self.cq_head).store(head, Ordering::Release);
        }
        refused
    }

    /// Whether this thread should set up a new ring for itself (see [`MOVE_AFTER`]); counts its
    /// asking when it is not the owner.
    pub fn should_move(&mut self) -> bool {
        let me = super::sys::this_thread();
        if me == self.owner {
            self.other = (0, 0);
            return false;
        }
        self.other = if self.other.0 == me { (me, self.other.1 + 1) } else { (me, 1) };
        self.other.1 >= MOVE_AFTER
    }

    /// Arm the polls that are not armed, from the owner only (another thread's poll would complete
    /// on that thread: see the module's documentation). A poll armed on a descriptor that is ready
    /// already completes at once, so whatever became ready before this call shows too. False if
    /// the kernel refused: the ring cannot be relied on any more.
    pub fn arm(&mut self) -> bool {
        if self.owner != super::sys::this_thread() {
            return true;
        }
        let mut polls = Vec::with_capacity(2);
        if !self.armed_events {
            polls.push((self.events, libc::POLLIN, Polled::Events));
        }
        if !self.armed_mounts {
            polls.push((self.mounts.as_raw_fd(), libc::POLLPRI, Polled::Mounts));
        }
        if polls.is_empty() {
            return true;
        }
        // SAFETY: pointers into the live mappings; at most two entries of the four are written,
        // and the kernel has consumed every earlier one (each submission below waits for it).
        unsafe {
            let mut tail = (*self.sq_tail).load(Ordering::Relaxed);
            for &(fd, poll_events, kind) in &polls {
                let index = tail & self.sq_mask;
                let sqe = Sqe { opcode: OP_POLL_ADD, fd, poll32_events: poll_events as u32, user_data: kind as u64, ..Sqe::default() };
                self.sqes.add(index as usize).write(sqe);
                self.sq_array.add(index as usize).write(index);
                tail = tail.wrapping_add(1);
            }
            (*self.sq_tail).store(tail, Ordering::Release);
            let submitted = libc::syscall(libc::SYS_io_uring_enter, self.ring.as_raw_fd(), polls.len() as u32, 0u32, 0u32, std::ptr::null::<u8>(), 0usize);
            if submitted != polls.len() as libc::c_long {
                return false;
            }
        }
        self.armed_events = true;
        self.armed_mounts = true;
        true
    }
}

impl Drop for PollRing {
    fn drop(&mut self) {
        // SAFETY: the mappings made in `new`, not used after this; closing the descriptor (by
        // OwnedFd) cancels the polls still armed.
        unsafe {
            libc::munmap(self.sqes.cast(), self.sqes_len);
            libc::munmap(self.rings.cast(), self.rings_len);
        }
    }
}

fn map(ring: &OwnedFd, len: usize, offset: libc::off_t) -> Option<*mut u8> {
    // SAFETY: a shared mapping of the ring's own memory, of the length the kernel gave.
    let at = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_POPULATE, ring.as_raw_fd(), offset) };
    (at != libc::MAP_FAILED).then_some(at.cast())
}

// The kernel's ABI, from <linux/io_uring.h> (libc 0.2.139 has only the system call numbers).
const FEAT_SINGLE_MMAP: u32 = 1;
const OFF_SQ_RING: libc::off_t = 0;
const OFF_SQES: libc::off_t = 0x1000_0000;
const OP_POLL_ADD: u8 = 6;

#[repr(C)]
struct SqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
struct CqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
struct Params {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqRingOffsets,
    cq_off: CqRingOffsets,
}

#[repr(C)]
#[derive(Default)]
struct Sqe {
    opcode: u8,
    flags: u8,
    ioprio: u16,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    poll32_events: u32,
    user_data: u64,
    buf_index: u16,
    personality: u16,
    splice_fd_in: i32,
    addr3: u64,
    pad: u64,
}

#[repr(C)]
struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

const _: () = assert!(std::mem::size_of::<Params>() == 120 && std::mem::size_of::<Sqe>() == 64 && std::mem::size_of::<Cqe>() == 16);
