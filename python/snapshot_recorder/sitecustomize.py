# -*- coding: utf-8 -*-
"""snapshot's training recorder, started by Python itself.

snapshot puts this folder first on the training's PYTHONPATH, so the interpreter's own start-up
(the `site` module) imports this file as `sitecustomize`. It does two things:

  * when SNAPSHOT_RECORD_FILE names a file, it starts the recorder (_snapshot_recorder.py, next
    to this file), which hooks the seed calls, the determinism switches and Model.fit of the
    frameworks the training imports, and writes what it saw to that file as JSON;
  * in every case it then imports the next `sitecustomize` on sys.path (a user's, a distro's),
    as Python would have without us.

Neither can fail the start-up: an error is one line on stderr, and the training runs as it
would have. Python 3.6+, standard library only. Nothing happens under `python -S`, `-I` or `-E`
(no site, or no PYTHONPATH): the training then runs unrecorded.
"""


def _snapshot_recorder_boot():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("SNAPSHOT_RECORD_FILE"):
        try:
            # Loaded by path, so a module of the same name earlier on sys.path cannot stand in.
            import importlib.util

            spec = importlib.util.spec_from_file_location("_snapshot_recorder", os.path.join(here, "_snapshot_recorder.py"))
            module = importlib.util.module_from_spec(spec)
            sys.modules["_snapshot_recorder"] = module
            spec.loader.exec_module(module)
            module.activate()
        except Exception as error:  # the recorder never stops the training
            sys.modules.pop("_snapshot_recorder", None)
            try:
                sys.stderr.write("snapshot recorder: not recording (%s: %s)\n" % (type(error).__name__, error))
            except Exception:
                pass
    _snapshot_recorder_chain(here)


def _snapshot_recorder_chain(here):
    """Imports the next sitecustomize on sys.path, with this folder taken off sys.path meanwhile."""
    import os
    import sys

    def ours(entry):
        try:
            return os.path.realpath(entry or os.getcwd()) == real_here
        except Exception:
            return False

    real_here = os.path.realpath(here)
    me = sys.modules.get("sitecustomize")
    removed = [(i, entry) for i, entry in enumerate(sys.path) if ours(entry)]
    for i, _ in reversed(removed):
        del sys.path[i]
    found = False
    try:
        sys.modules.pop("sitecustomize", None)
        try:
            import sitecustomize  # noqa: F401  (the next one, if any)

            found = sys.modules.get("sitecustomize") is not None and sys.modules.get("sitecustomize") is not me
        except ImportError as error:
            if getattr(error, "name", None) != "sitecustomize":
                raise
    except Exception as error:
        # As site.py itself reports a failing sitecustomize, and start-up goes on.
        try:
            sys.stderr.write("Error in sitecustomize (chained by snapshot recorder); %s: %s\n" % (type(error).__name__, error))
        except Exception:
            pass
    finally:
        # Our folder goes back where it was; whatever the next sitecustomize added stays. The
        # next one keeps the name `sitecustomize` in sys.modules (the training sees its own),
        # else ours does.
        for i, entry in removed:
            sys.path.insert(min(i, len(sys.path)), entry)
        if not found:
            sys.modules["sitecustomize"] = me


_snapshot_recorder_boot()
del _snapshot_recorder_boot
