"""Helper process for the lock tests: hold the data dir lock until killed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from memory.coordination.lock import DataDirLock

if __name__ == "__main__":
    lock = DataDirLock(Path(sys.argv[1])).acquire()
    print("locked", flush=True)
    time.sleep(600)
