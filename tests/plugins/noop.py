"""A reproduction of libcni's ``plugins/test/noop`` debug plugin (reference section 7.8), used by
the runtime parity tests. Behaviour is driven by a JSON debug file named by ``CNI_ARGS`` ``DEBUG=``
or the config's ``debugFile``; every call records its command and arguments there, and appends to
the config's ``commandLog`` when set. It is deliberately independent of pycni.skel.
"""

import base64
import json
import os
import sys

DEFAULT_VERSIONS = ["0.-42.0", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def debug_path(conf):
    for pair in filter(None, os.environ.get("CNI_ARGS", "").split(";")):
        key, _, value = pair.partition("=")
        if key == "DEBUG":
            return value
    return conf.get("debugFile") if isinstance(conf, dict) else None


def fail(code, msg, details=""):
    err = {"code": code, "msg": msg}
    if details:
        err["details"] = details
    print(json.dumps(err, indent=4))
    sys.exit(1)


def main():
    command = os.environ.get("CNI_COMMAND", "")
    stdin = b"" if command == "VERSION" else sys.stdin.buffer.read()
    conf = json.loads(stdin) if stdin else {}
    path = debug_path(conf)
    debug = None
    if path and os.path.exists(path):
        with open(path) as f:
            debug = json.load(f)
    override = os.environ.get("NOOP_VERSIONS")  # lets a test model an older plugin release
    versions = (debug or {}).get("ReportVersionSupport") or (
        override.split(",") if override else DEFAULT_VERSIONS
    )
    if command == "VERSION":
        print(json.dumps({"cniVersion": "1.1.0", "supportedVersions": versions}))
        return
    version = conf.get("cniVersion") or "0.1.0"
    if version not in versions:
        fail(1, "incompatible CNI versions", f'config is "{version}"')
    if debug is None:
        print("{}")
        print("CNI_ARGS or config empty, no debug behavior", file=sys.stderr)
        return
    cmd_args = {
        "ContainerID": os.environ.get("CNI_CONTAINERID", ""),
        "Netns": os.environ.get("CNI_NETNS", ""),
        "IfName": os.environ.get("CNI_IFNAME", ""),
        "Args": os.environ.get("CNI_ARGS", ""),
        "Path": os.environ.get("CNI_PATH", ""),
        "StdinData": base64.b64encode(stdin).decode(),
    }
    debug["Command"] = command
    debug["CmdArgs"] = cmd_args
    with open(path, "w") as f:
        json.dump(debug, f)
    log = conf.get("commandLog")
    if log:
        with open(log) as f:
            entries = json.load(f)
        entries.append({"Command": command, "CmdArgs": cmd_args})
        with open(log, "w") as f:
            json.dump(entries, f)
    if debug.get("ReportStderr"):
        sys.stderr.write(debug["ReportStderr"])
    if debug.get("ReportError"):
        fail(debug.get("ReportErrorCode") or 999, debug["ReportError"])
    report = debug.get("ReportResult") or ""
    if report in ("PASSTHROUGH", "INJECT-DNS"):
        from pycni.types import create_result

        prev = conf.get("prevResult") or {}
        result = create_result(prev.get("cniVersion") or version, prev)
        if report == "INJECT-DNS":
            data = result.convert_to("1.1.0").to_dict()
            data["dns"] = {"nameservers": ["1.2.3.4"]}
            result = create_result("1.1.0", data)
        sys.stdout.write(result.convert_to(version).to_json())
    elif report:
        sys.stdout.write(report)
    code = debug.get("ExitWithCode") or 0
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
