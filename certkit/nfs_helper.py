"""Run ON THE CLIENT HOST (copied there by certkit/nfsclient.py): what libnfs-utils 4.0 lacks,
through libnfs itself (ctypes, the library libnfs-utils is built on).

    python3 nfs_helper.py put URL < data    (re)create the file with stdin's bytes
    python3 nfs_helper.py rm URL            remove the file

`nfs-cp` refuses to overwrite an existing file over NFSv4, and there is no `nfs-rm`. In libnfs
4.0 over NFSv4 (seen on the GlusterFS lab), `nfs_creat` refuses an existing file (EXIST) and its
handle is read-only (WRITE: NFS4ERR_OPENMODE), so `put` removes the file first, then creates it
with `nfs_create(O_WRONLY|O_CREAT|O_TRUNC)` and writes with `nfs_pwrite`, at most CHUNK bytes
a call (see there). Standard
library only (the client host has python3, not certkit). Exit status 0 on success, else 1 with
libnfs's error on stderr.
"""

import ctypes
import errno
import os
import sys

CHUNK = 3 * 1024
"""Bytes per WRITE. libnfs 4.0 encodes an NFSv4 WRITE (lib/nfs_v4.c,
nfs4_pwrite_async_internal) through rpc_nfs4_compound_async without a size hint, so the whole
COMPOUND (RPC header, AUTH_SYS credentials, PUTFH with a file handle of up to 128 bytes, WRITE
and its data) must fit the 4096-byte encode buffer (ZDR_ENCODEBUF_MINSIZE, lib/libnfs-private.h);
a larger write fails before anything is sent with "ZDR error: Failed to encode COMPOUND4args"
(seen with 4096-byte writes on the CephFS lab; 3900 passed). 3 KiB leaves 1 KiB for the headers;
libnfs splits no write itself."""


class _Url(ctypes.Structure):
    _fields_ = [("server", ctypes.c_char_p), ("path", ctypes.c_char_p), ("file", ctypes.c_char_p)]


def _lib():
    lib = ctypes.CDLL("libnfs.so.13")
    lib.nfs_init_context.restype = ctypes.c_void_p
    lib.nfs_get_error.restype = ctypes.c_char_p
    lib.nfs_get_error.argtypes = [ctypes.c_void_p]
    lib.nfs_parse_url_full.restype = ctypes.POINTER(_Url)
    lib.nfs_parse_url_full.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nfs_mount.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.nfs_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                               ctypes.POINTER(ctypes.c_void_p)]
    # libnfs 4.x: nfs_pwrite(nfs, fh, offset, count, buf) (6.x moved buf before count).
    lib.nfs_pwrite.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                               ctypes.c_char_p]
    lib.nfs_close.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.nfs_unlink.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nfs_destroy_context.argtypes = [ctypes.c_void_p]
    return lib


def _fail(lib, nfs, what):
    sys.stderr.write(f"{what}: {(lib.nfs_get_error(nfs) or b'').decode(errors='replace')}\n")
    return 1


def _put(lib, nfs, name):
    handle = ctypes.c_void_p()
    removed = lib.nfs_unlink(nfs, name)
    if removed not in (0, -errno.ENOENT):
        return _fail(lib, nfs, "unlink before rewrite")
    # nfs_creat's handle is opened for reading only over NFSv4 (WRITE gets NFS4ERR_OPENMODE):
    # nfs_create with explicit write flags.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if lib.nfs_create(nfs, name, flags, 0o644, ctypes.byref(handle)) != 0:
        return _fail(lib, nfs, "create")
    status = _copy_stdin(lib, nfs, handle)
    if lib.nfs_close(nfs, handle) != 0 and status == 0:
        return _fail(lib, nfs, "close")
    return status


def _copy_stdin(lib, nfs, handle):
    offset = 0
    while True:
        data = sys.stdin.buffer.read(CHUNK)
        if not data:
            return 0
        while data:
            wrote = lib.nfs_pwrite(nfs, handle, offset, len(data), data)
            if wrote <= 0:
                return _fail(lib, nfs, f"write of {len(data)} bytes at offset {offset}")
            offset += wrote
            data = data[wrote:]


def main(argv):
    if len(argv) != 3 or argv[1] not in ("put", "rm"):
        sys.stderr.write("usage: nfs_helper.py put|rm URL\n")
        return 2
    lib = _lib()
    nfs = lib.nfs_init_context()
    try:
        url = lib.nfs_parse_url_full(nfs, argv[2].encode())
        if not url:
            return _fail(lib, nfs, "url")
        if lib.nfs_mount(nfs, url.contents.server, url.contents.path) != 0:
            return _fail(lib, nfs, "mount")
        if argv[1] == "rm":
            return 0 if lib.nfs_unlink(nfs, url.contents.file) == 0 else _fail(lib, nfs, "unlink")
        return _put(lib, nfs, url.contents.file)
    finally:
        lib.nfs_destroy_context(nfs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
