#!/usr/bin/python3
"""Executes one Jupyter notebook headlessly (nbclient), for `deno task notebooks` (lib/jupyter/run_notebook.ts).

Runtime plumbing only: Jupyter's client libraries are Python, so this small driver runs on Debian's
/usr/bin/python3 (packages python3-nbclient, jupyter-client, jupyter-nbconvert). Everything else -- parameter
injection, validation, output layout -- is done by the TypeScript runner that starts it.

The Deno kernel's idle-before-result race: the kernel sometimes publishes `status: idle` on IOPub *before* a
cell's `execute_result` (or a late stream / display message). nbclient stops reading a cell's IOPub messages at
idle and ignores messages addressed to an earlier cell, so such an output is silently lost. `DrainingClient`
keeps reading IOPub after idle until no message for this cell has arrived for `--grace` seconds (each late
message restarts the wait), and appends what comes late to the cell, counting it.

Protocol with the runner: progress events are written to stdout, one per line, as `@@nbrun <json>`; any other
output (the kernel's own stdout/stderr) is passed through. Exit status: 0 ok, 1 a cell failed (the executed
notebook, with the error output, is still written), 2 bad arguments, 3 Jupyter/kernel failure (no such kernel,
kernel died, timeout).
"""

import argparse
import json
import os
import re
import sys
import time
from queue import Empty

EVENT_PREFIX = "@@nbrun "
OUTPUT_TYPES = ("execute_result", "display_data", "stream", "error")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(EVENT_PREFIX + json.dumps(fields) + "\n")
    sys.stdout.flush()


def strip_ansi(text):
    return ANSI_RE.sub("", text)


try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_core.utils import ensure_async
except ImportError as e:  # pragma: no cover - reported to the runner
    emit("fatal", kind="import", message=f"{sys.executable} cannot import the Jupyter client libraries ({e})")
    sys.exit(3)


class DrainingClient(NotebookClient):
    """A NotebookClient that does not lose outputs published after the kernel's `status: idle`."""

    def __init__(self, nb, grace, **kw):
        super().__init__(nb, **kw)
        self.late_output_grace = grace
        self.late_outputs = {}
        self.cell_started = {}

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        # The cell is "complete" per the kernel's idle; keep listening for this cell's stragglers.
        late = []
        idle_at = time.monotonic()
        deadline = idle_at + self.late_output_grace
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=remaining))
            except Empty:
                break
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            msg_type = msg["msg_type"]
            if msg_type == "status":
                continue
            self.process_message(msg, cell, cell_index)
            if msg_type in OUTPUT_TYPES or msg_type == "update_display_data":
                late.append({"type": msg_type, "ms_after_idle": round((time.monotonic() - idle_at) * 1000, 1)})
            deadline = time.monotonic() + self.late_output_grace
        self.late_outputs[cell_index] = late

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        runs = cell.cell_type == "code" and cell.source.strip() != ""
        if runs:
            emit("cell_start", index=cell_index)
        started = time.monotonic()
        try:
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except CellExecutionError:
            error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
            emit(
                "cell_error",
                index=cell_index,
                seconds=round(time.monotonic() - started, 3),
                ename=error.get("ename", "") if error else "",
                evalue=strip_ansi(error.get("evalue", "")) if error else "",
                traceback=[strip_ansi(t) for t in error.get("traceback", [])] if error else [],
                late=self.late_outputs.get(cell_index, []),
            )
            raise
        if runs:
            emit(
                "cell_done",
                index=cell_index,
                seconds=round(time.monotonic() - started, 3),
                outputs=[o.get("output_type") for o in cell.get("outputs", [])],
                late=self.late_outputs.get(cell_index, []),
            )
        return result


def export_html(nb, path):
    from nbconvert import HTMLExporter

    # nbconvert's lab template passes SVG outputs through lxml's clean_html, which strips every SVG element and
    # attribute it does not know (rect, circle, path, viewBox, aria-label, ...): figures come out as empty
    # <svg> boxes. These notebooks and their outputs are the project's own, so SVG is embedded as produced.
    exporter = HTMLExporter(filters={"clean_html": lambda html: html})
    body, _resources = exporter.from_notebook_node(nb)
    write_atomic(path, body)


def write_atomic(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", required=True, help="notebook to execute (parameters already injected)")
    ap.add_argument("--output", required=True, help="where to write the executed notebook")
    ap.add_argument("--html", help="also export the executed notebook to this HTML file (only on success)")
    ap.add_argument("--cwd", required=True, help="the kernel's working folder")
    ap.add_argument("--kernel", default="deno")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per cell (0 = none)")
    ap.add_argument("--startup-timeout", type=float, default=120)
    ap.add_argument("--grace", type=float, default=0.5, help="seconds of IOPub quiet required after idle")
    args = ap.parse_args()

    try:
        nb = nbformat.read(args.input, as_version=4)
    except Exception as e:
        emit("fatal", kind="read", message=f"cannot read {args.input}: {e}")
        return 2

    client = DrainingClient(
        nb,
        args.grace,
        kernel_name=args.kernel,
        timeout=int(args.timeout) if args.timeout > 0 else None,
        startup_timeout=int(args.startup_timeout),
        iopub_timeout=max(10, int(args.grace * 4) + 4),
        raise_on_iopub_timeout=True,
        allow_errors=False,
        resources={"metadata": {"path": args.cwd}},
    )
    emit("start", cells=len(nb.cells), code_cells=sum(1 for c in nb.cells if c.cell_type == "code"))
    started = time.monotonic()
    status = 0
    try:
        client.execute()
    except CellExecutionError:
        status = 1
    except NoSuchKernel as e:
        emit("fatal", kind="kernel", message=f"no Jupyter kernel named {args.kernel!r} ({e})")
        return 3
    except CellTimeoutError as e:
        emit("fatal", kind="timeout", message=strip_ansi(str(e)).strip().splitlines()[0])
        status = 3
    except DeadKernelError as e:
        emit("fatal", kind="dead_kernel", message=f"the kernel died: {e}")
        status = 3
    except Exception as e:  # noqa: BLE001 - anything else from Jupyter is reported, not a traceback dump
        emit("fatal", kind="jupyter", message=f"{type(e).__name__}: {strip_ansi(str(e)).strip()}")
        status = 3

    try:
        write_atomic(args.output, nbformat.writes(nb))
    except Exception as e:
        emit("fatal", kind="write", message=f"cannot write {args.output}: {e}")
        return 3
    if status == 0 and args.html:
        try:
            export_html(nb, args.html)
        except Exception as e:
            emit("fatal", kind="html", message=f"HTML export failed: {type(e).__name__}: {e}")
            return 3
    emit(
        "done",
        status=status,
        seconds=round(time.monotonic() - started, 3),
        late_outputs=sum(len(v) for v in client.late_outputs.values()),
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
