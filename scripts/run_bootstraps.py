#!/usr/bin/env python3
"""Runs packaged `bootstrap`s as Lambda would, against a stand-in Runtime API
(the `2018-06-01` endpoints a custom runtime polls), one invocation each:

- `--panic-probe BOOTSTRAP`: the probe's handler panics. It passes when the
  runtime reports the panic on `/invocation/{id}/error` and then asks for the
  next event, i.e. the process unwound and lives on. Built with
  `panic = "abort"`, the process would die with the invocation unanswered.
- `--functions BUILD_DIR TEMPLATE`: every function `sam build` made gets a
  payload no step accepts. Each must start (its variables filled with
  stand-ins), answer with an error and ask for the next event. That next
  event then comes without its request id, which the Lambda runtime crate
  meets with a panic outside any handler: the process must exit with 101,
  Rust's exit code for a panic that unwound out of `main` (an aborting build
  dies of SIGABRT). So each bootstrap shows it was built to unwind.

- `--trace BUILD_DIR TEMPLATE`: claim-service, given a deployment id, reads its
  record from DynamoDB, here the stand-in: that call must carry the
  invocation's X-Ray trace header (`Lambda-Runtime-Trace-Id` → `_X_AMZN_TRACE_ID`
  → `X-Amzn-Trace-Id`).

On a host that is not aarch64 the binaries run under `qemu-aarch64-static`
with Debian's aarch64 C library (`qemu-user-static`, `libc6-arm64-cross`).

Usage: run_bootstraps.py (--panic-probe BOOTSTRAP | --functions BUILD_DIR TEMPLATE |
                          --trace BUILD_DIR TEMPLATE | --check-host)
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_package import cargo_lambda_functions, function_variables  # noqa: E402

API = "/2018-06-01/runtime"
REQUEST_ID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
AARCH64_SYSROOT = Path("/usr/aarch64-linux-gnu")
# What a Rust process exits with when a panic unwinds out of `main`.
RUST_PANIC_EXIT = 101
# A payload no step accepts: every step reads an object.
PAYLOAD = b'"not an event"'
# The X-Ray trace header of the invocation, as Lambda hands it to the runtime.
TRACE_HEADER = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=53995c3f42cd8ad8;Sampled=1"


class Invocation:
    """What the stand-in Runtime API saw of one process."""

    def __init__(self) -> None:
        self.answer: tuple[str, dict] | None = None  # ("error" | "response", body)
        self.asked_again = threading.Event()
        self.answered = threading.Event()
        # The headers of each AWS call the process made (AWS_ENDPOINT_URL is this server).
        self.aws_calls: list[dict[str, str]] = []
        # Set when the run is over: a held poll is let go.
        self.over = threading.Event()


def serve(invocation: Invocation, broken_second: bool, payload: bytes = PAYLOAD) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        nexts = 0

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            if self.path != f"{API}/invocation/next":
                self.send_error(404)
                return
            Handler.nexts += 1
            if Handler.nexts > 1:
                invocation.asked_again.set()
                if broken_second:
                    # An event without Lambda-Runtime-Aws-Request-Id.
                    try:
                        self.send_response(200)
                        self.send_header("Content-Length", "2")
                        self.end_headers()
                        self.wfile.write(b"{}")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the process is gone already: what it exited with tells
                    return
                # The process survived its invocation: hold this poll open, as
                # Lambda does between events, until the run is over.
                invocation.over.wait(60)
                self.close_connection = True
                return
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", REQUEST_ID)
            self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
            self.send_header(
                "Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:probe"
            )
            self.send_header("Lambda-Runtime-Trace-Id", TRACE_HEADER)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self.path.startswith(API):
                # An AWS call (DynamoDB's JSON protocol posts to /): refused as
                # AWS refuses a call on a table that is not there, which the
                # SDK does not retry.
                invocation.aws_calls.append({k.lower(): v for k, v in self.headers.items()})
                refusal = b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(refusal)))
                self.end_headers()
                self.wfile.write(refusal)
                return
            kind = self.path.rsplit("/", 1)[-1]
            if self.path.startswith(f"{API}/invocation/{REQUEST_ID}/") and kind in ("error", "response"):
                try:
                    parsed = json.loads(body or b"null")
                except json.JSONDecodeError:
                    parsed = {"unparsable": body.decode(errors="replace")}
                invocation.answer = (kind, parsed)
                invocation.answered.set()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def runner() -> list[str]:
    """How to run an aarch64 binary on this host."""
    if platform.machine() in ("aarch64", "arm64"):
        return []
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if not qemu or not (AARCH64_SYSROOT / "lib").is_dir():
        raise SystemExit(
            "run_bootstraps: this host is not aarch64 and has no emulator for it; install Debian's "
            "qemu-user-static and libc6-arm64-cross (apt-get install qemu-user-static libc6-arm64-cross)"
        )
    return [qemu, "-L", str(AARCH64_SYSROOT)]


def invoke(
    bootstrap: Path,
    variables: dict[str, str],
    broken_second: bool = False,
    timeout: float = 30,
    payload: bytes = PAYLOAD,
    aws_here: bool = False,
) -> tuple[Invocation, int | None, str]:
    """One process, one invocation: what it answered, its exit code if it died, its
    output. With `aws_here`, the process's AWS calls come to the stand-in too."""
    invocation = Invocation()
    server = serve(invocation, broken_second, payload)
    if aws_here:
        variables = {**variables, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}"}
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": bootstrap.parent.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "example",
        "AWS_SESSION_TOKEN": "example",
        **variables,
    }
    proc = subprocess.Popen(
        [*runner(), str(bootstrap)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    died = None
    try:
        # Done when it answered and polled again (and, with a broken second
        # event, exited), or when it exited first.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                died = proc.returncode
                break
            if not broken_second and invocation.answered.is_set() and invocation.asked_again.is_set():
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate()[0]
        invocation.over.set()
        server.shutdown()
    return invocation, died, output


def panic_probe(bootstrap: Path) -> int:
    invocation, died, output = invoke(bootstrap, {"STACK_NAME": "probe"})
    kind, body = invocation.answer or (None, None)
    print(f"panic-probe: answered {kind} {json.dumps(body)}; asked for the next event: {invocation.asked_again.is_set()}")
    if died is not None:
        print(f"panic-probe: the process died (exit {died}) instead of reporting the panic:\n{output}")
        return 1
    if kind != "error" or not str(body.get("errorMessage", "")).startswith("Lambda panicked"):
        print(f"panic-probe: the panic was not reported as an error:\n{output}")
        return 1
    if not invocation.asked_again.is_set():
        print(f"panic-probe: the process did not ask for its next event:\n{output}")
        return 1
    print("panic-probe: a handler's panic comes back as an error and the process lives on")
    return 0


def stand_in(name: str) -> str:
    """A value of the right shape for a template variable."""
    if name.endswith("_URL"):
        return "https://example.lambda-url.us-east-1.on.aws/"
    if name.endswith("_SECONDS"):
        return "60"
    if name.endswith("_ARN"):
        return "arn:aws:states:us-east-1:123456789012:stateMachine:example"
    if name.endswith("_ACCOUNT_ID"):
        return "123456789012"
    if name.endswith("_REGION"):
        return "us-east-1"
    if name == "RUST_LOG":
        return "info"
    return "example"


def stand_in_variables(template: Path, name: str) -> dict[str, str]:
    """Every variable the template gives function `name`, each with its stand-in."""
    return {k: stand_in(k) for k in function_variables(template, name)}


def functions(build_dir: Path, template: Path) -> int:
    failed = 0
    for name, binary in sorted(cargo_lambda_functions(template).items(), key=lambda kv: kv[1]):
        variables = stand_in_variables(template, name)
        invocation, died, output = invoke(build_dir / name / "bootstrap", variables, broken_second=True)
        kind, body = invocation.answer or (None, {})
        ok = kind is not None and invocation.asked_again.is_set() and died == RUST_PANIC_EXIT
        what = body.get("errorType") if kind == "error" else kind
        print(f"{binary:<18} {'ok' if ok else 'FAILED'}  answered {what}; a broken next event: exit {died}")
        if not ok:
            print(f"  exit {died}; output:\n{output}")
        failed += not ok
    return 1 if failed else 0


# The step whose AWS call is watched: its first act is to read the deployment's record.
TRACED_BINARY = "claim-service"


def trace(build_dir: Path, template: Path) -> int:
    """An AWS call made during an invocation carries that invocation's X-Ray trace
    header (the runtime sets `_X_AMZN_TRACE_ID`, the SDK sends it as
    `X-Amzn-Trace-Id`), so X-Ray follows a deployment from the function into AWS."""
    names = [n for n, b in cargo_lambda_functions(template).items() if b == TRACED_BINARY]
    if not names:
        print(f"trace: the template has no {TRACED_BINARY} function")
        return 1
    variables = stand_in_variables(template, names[0])
    payload = json.dumps({"deploymentId": "d-" + "0" * 24}).encode()
    invocation, died, output = invoke(build_dir / names[0] / "bootstrap", variables, payload=payload, aws_here=True)
    sent = [c.get("x-amzn-trace-id") for c in invocation.aws_calls]
    kind, body = invocation.answer or (None, {})
    print(f"trace: {TRACED_BINARY} made {len(sent)} AWS call(s), X-Amzn-Trace-Id {sent}; answered {kind} {json.dumps(body)}")
    if not sent or any(s != TRACE_HEADER for s in sent) or died is not None:
        print(f"trace: the invocation's trace header {TRACE_HEADER} did not reach every AWS call:\n{output}")
        return 1
    print("trace: every AWS call of the invocation carries its X-Ray trace header")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--panic-probe", type=Path, metavar="BOOTSTRAP")
    group.add_argument("--functions", nargs=2, type=Path, metavar=("BUILD_DIR", "TEMPLATE"))
    group.add_argument("--trace", nargs=2, type=Path, metavar=("BUILD_DIR", "TEMPLATE"))
    group.add_argument("--check-host", action="store_true", help="only say whether this host can run aarch64 binaries")
    args = parser.parse_args(argv)
    if args.check_host:
        print("run_bootstraps: aarch64 binaries run " + (" ".join(runner()) or "natively"))
        return 0
    if args.panic_probe:
        return panic_probe(args.panic_probe)
    if args.trace:
        return trace(*args.trace)
    return functions(*args.functions)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
