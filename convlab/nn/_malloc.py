"""Keep freed array memory in the process so new arrays skip page faults (glibc),
and hand it back once a long piece of work is over.

Programs that train call keep_freed_memory() once at start-up (the CLI, the app, the
benchmarks); importing the engine never changes the process's allocator, so a library
user's program keeps the settings it chose. A long-lived program calls
release_freed_memory() when work that allocated a lot has ended.
"""

import ctypes
import ctypes.util
import platform

# glibc's mallopt() parameter numbers, from <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _glibc():
    """The C library as a ctypes handle when it is glibc, else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def keep_freed_memory(mmap_threshold=64 << 20, trim_threshold=128 << 20):
    """Ask glibc to reuse freed blocks instead of handing them back to the OS.

    Every layer allocates fresh arrays each training step (im2col columns alone are
    ~9 MB). By default glibc gives large freed blocks back to the operating system,
    so the next array of that size starts as untouched memory and costs one page
    fault per 4 KB when first written: ~1,900 faults and 1-2 ms of a ~15 ms step on
    the sample network. Raising the two thresholds keeps up to trim_threshold bytes
    of freed memory for reuse. Returns True when the setting was applied; on other C
    libraries (macOS, Windows, musl) it does nothing and returns False.
    """
    libc = _glibc()
    if libc is None:
        return False
    try:
        ok = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    except AttributeError:
        return False
    return bool(ok)


def release_freed_memory():
    """Hand the freed memory glibc keeps back to the operating system (malloc_trim).

    keep_freed_memory() lets every thread's heap keep up to trim_threshold bytes of
    freed blocks, which a training step reuses at once. An evaluation, a dataset
    load or a training run that has ended leaves such a reserve behind in its
    thread's heap, and the window would otherwise hold hundreds of megabytes it no
    longer uses. Returns True when memory was released; elsewhere it does nothing.
    """
    libc = _glibc()
    if libc is None:
        return False
    try:
        return bool(libc.malloc_trim(0))
    except AttributeError:
        return False
