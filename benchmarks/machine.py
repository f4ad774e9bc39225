"""Where a bench's figures were measured: the cores, the machine, Python, the date."""

from __future__ import annotations

import datetime as dt
import os
import platform

from pydantic import BaseModel


class Machine(BaseModel):
    """Where the figures were measured."""

    cpus: int | None
    machine: str
    python: str
    date: str

    @classmethod
    def here(cls) -> Machine:
        return cls(
            cpus=os.cpu_count(),
            machine=platform.machine(),
            python=platform.python_version(),
            date=dt.date.today().isoformat(),
        )
