"""Child processes die with the server, even when the server is killed with -9.

Why not the usual parent-death signal (prctl PR_SET_PDEATHSIG): our children's parent is
the forkserver, not the server, and the forkserver never dies first. It exits when its
"alive" pipe reaches EOF, but every process it forks holds a copy of that pipe's write end
(multiprocessing passes it on for nested children). So after `kill -9` of the server the
landscape process waited on its task queue (it holds both ends of that too), the
forkserver waited on it, and the resource tracker on both: three processes, ~580 MB, for a
minute or for good.

So each child watches the server itself: a daemon thread blocks on a pidfd of the server
(Linux 5.3+; a 1 s poll elsewhere) and kills its own process when the server is gone. The
forkserver and the resource tracker then see their pipes close and exit too.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time

POLL_SECONDS = 1.0  # without pidfd_open (macOS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has exited
    else:
        while _alive(pid):
            time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with(server_pid: int) -> None:
    """Kill this process as soon as process `server_pid` exits (call it in the child)."""
    if server_pid == os.getpid():
        return
    pidfd: int | None
    try:
        pidfd = os.pidfd_open(server_pid)
    except ProcessLookupError:  # gone already
        os.kill(os.getpid(), signal.SIGKILL)
        return
    except (AttributeError, OSError):  # no pidfd_open here
        pidfd = None
    thread = threading.Thread(target=_watch, args=(server_pid, pidfd), daemon=True)
    thread.name = "die-with-server"
    thread.start()
