"""Guards installed in every Python process of the test suite, notebook kernels included.

- Network: any connection to an address other than loopback raises NetworkBlockedError.
- Deprecations: a FutureWarning or DeprecationWarning issued by transformers, datasets,
  accelerate, tokenizers or huggingface_hub raises LibraryDeprecationError, so a notebook
  that uses an API on its way out fails instead of printing a warning nobody reads.

Installed through ``sitecustomize`` when LECTURE_GUARDS=1 (the test suite sets it).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import warnings

WATCHED = ("transformers", "datasets", "accelerate", "tokenizers", "huggingface_hub")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkBlockedError(ConnectionRefusedError):
    pass


class LibraryDeprecationError(RuntimeError):
    pass


def is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: would need the network


def _blocked(what: str) -> NetworkBlockedError:
    return NetworkBlockedError(
        f"Network access blocked by the test suite: tried to {what}. The notebooks must work "
        "offline; load from lecture_utils.checkpoint() / dataset_path() or the local cache."
    )


def _check_address(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        raise _blocked(f"connect to {address[0]}:{address[1]}")


def _is_numeric(host) -> bool:
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%")[0])
        return True
    except ValueError:
        return False


def install_network_guard() -> None:
    if getattr(socket.socket, "_lecture_guarded", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        # A name lookup is already traffic (to the DNS server): refuse all but loopback.
        if host not in (None, b"", "") and not is_loopback(host) and not _is_numeric(host):
            raise _blocked(f"look up the address of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        _check_address(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _check_address(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket._lecture_guarded = True


def _package_of(module_name: str | None) -> str | None:
    top = (module_name or "").split(".")[0]
    return top if top in WATCHED else None


def _package_of_file(filename: str) -> str | None:
    parts = filename.replace("\\", "/").split("/")
    for name in WATCHED:
        if name in parts[:-1]:
            return name
    return None


def warning_origin(filename: str) -> str | None:
    """The watched package that issued the warning being shown, if any.

    Looks at the frame that called ``warnings.warn`` (the first frame outside the warnings
    machinery and this module) and at the file the warning is attributed to.
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in {"warnings", __name__}:
        frame = frame.f_back
    caller = _package_of(frame.f_globals.get("__name__")) if frame is not None else None
    return caller or _package_of_file(filename)


def install_warning_guard() -> None:
    if getattr(warnings.showwarning, "_lecture_guarded", False):
        return
    original = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, (FutureWarning, DeprecationWarning)):
            origin = warning_origin(filename)
            if origin:
                raise LibraryDeprecationError(
                    f"{category.__name__} from {origin}: {message} ({filename}:{lineno}). "
                    "The course must use the current API: switch to the form the warning names."
                )
        return original(message, category, filename, lineno, file, line)

    showwarning._lecture_guarded = True
    warnings.showwarning = showwarning
    # Show every such warning, every time, so none is swallowed by the default filters.
    warnings.filterwarnings("always", category=DeprecationWarning)
    warnings.filterwarnings("always", category=FutureWarning)


def install() -> None:
    install_network_guard()
    install_warning_guard()
