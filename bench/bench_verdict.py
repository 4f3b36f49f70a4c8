"""How a bench run ends: the verdict line, the work directory removed when the run is ok (kept
to look into when it is not), and the exit status."""

import shutil


def conclude(ok, work, label="verdict: "):
    """Prints `label` and ok or NOT OK; removes `work` when ok. Returns the exit status."""
    print(label + ("ok" if ok else "NOT OK"))
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1
