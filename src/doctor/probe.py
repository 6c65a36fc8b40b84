# sadfix doctor probe: run by sadfix with the install's Python, in one of these modes.
#   facts: interpreter, sys.path (sadfix reads the package versions from the metadata on it),
#          torch build (torch/version.py, run on its own so CUDA is never initialised),
#          basicsr's functional_tensor import line, and whether the module it imports is there
#          (found on disk, nothing imported).
#   cuda:  import torch for real, then is_available(), devices, a tiny op on the GPU, timings;
#          when CUDA is unavailable, torch's own reason (torch.cuda.init()'s exception).
#   both:  facts, printed and flushed, then cuda: doctor's one interpreter start (a hang or a
#          crash in torch leaves the facts line behind).
#   sys_path: the version and sys.path only, for an interpreter whose layout sadfix cannot read.
# Each mode prints one line "SADFIX-PROBE-JSON: {"mode": ...}" on stdout; tracebacks go to stderr.
import json
import sys
import time

MARKER = "SADFIX-PROBE-JSON: "
# import packages whose directory `sadfix patch --compat` needs (found without importing them)
PACKAGE_DIRS = ["basicsr", "face_alignment"]


def ms(start):
    return round((time.perf_counter() - start) * 1000.0, 1)


def emit(result):
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def error_text(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def package_dir(name):
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.abspath(list(spec.submodule_search_locations)[0])


def torch_build():
    import os

    where = package_dir("torch")
    if where is None:
        return None, "torch is not importable (no package found on sys.path)"
    path = os.path.join(where, "version.py")
    ns = {"__name__": "torch.version", "__file__": path}
    try:
        with open(path, encoding="utf-8") as handle:
            exec(compile(handle.read(), path, "exec"), ns)
    except Exception as exc:
        return None, "%s: %s" % (path, error_text(exc))
    build = {"version": ns.get("__version__"), "cuda": ns.get("cuda"), "hip": ns.get("hip"),
             "source": path}
    return build, None


def basicsr_degradations():
    import os

    where = package_dir("basicsr")
    if where is None:
        return None
    path = os.path.join(where, "data", "degradations.py")
    lines = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if "functional_tensor" in text:
                    lines.append({"line": number, "text": text.rstrip("\n")})
    except OSError as exc:
        return {"path": path, "error": error_text(exc), "lines": []}
    return {"path": path, "error": None, "lines": lines}


# modules whose absence breaks an import SadTalker makes (basicsr 1.4.2's degradations.py)
MODULES = ["torchvision.transforms.functional_tensor"]


def module_found(dotted):
    """Whether `import dotted` finds a module, looked up on disk from the top-level package's
    directory (find_spec on a submodule would import its parents: torchvision, then torch).
    None when the top-level package itself is not found."""
    import importlib.machinery
    import importlib.util
    import os

    head, _, rest = dotted.partition(".")
    try:
        spec = importlib.util.find_spec(head)
    except Exception:
        return None
    if spec is None:
        return None
    dirs = list(spec.submodule_search_locations or [])
    parts = rest.split(".") if rest else []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        found = []
        for where in dirs:
            package = os.path.join(where, part)
            if os.path.isfile(os.path.join(package, "__init__.py")):
                found.append(package)
            elif last and any(os.path.isfile(os.path.join(where, part + suffix))
                              for suffix in importlib.machinery.all_suffixes()):
                return True
        if not found:
            return False
        dirs = found
    return True


def facts():
    import os
    import platform

    start = time.perf_counter()
    build, build_error = torch_build()
    emit({
        "mode": "facts",
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "platform": "%s %s" % (platform.system(), platform.release()),
            "machine": platform.machine(),
        },
        "sys_path": [os.path.abspath(entry) for entry in sys.path],
        "torch_build": build,
        "torch_build_error": build_error,
        "basicsr_degradations": basicsr_degradations(),
        "package_dirs": {name: package_dir(name) for name in PACKAGE_DIRS},
        "modules": {name: module_found(name) for name in MODULES},
        "elapsed_ms": ms(start),
    })


def why_unavailable(torch, result):
    # Only when is_available() said False: torch's own reason. init() reruns the driver query
    # that is_available() swallowed and raises its message; the raw count says what CUDA saw.
    counter = getattr(torch._C, "_cuda_getDeviceCount", None)
    if counter is not None:
        try:
            result["raw_device_count"] = int(counter())
        except Exception as exc:
            result["raw_device_count_error"] = error_text(exc)
    try:
        torch.cuda.init()
    except BaseException as exc:
        result["init_error"] = error_text(exc)


def cuda():
    import traceback
    import warnings

    result = {"mode": "cuda", "import_error": None, "torch_version": None, "torch_cuda": None,
              "is_available": None, "available_ms": None, "device_count": None, "devices": [],
              "arch_list": [], "tensor_op": None, "warnings": [], "cuda_error": None,
              "init_error": None, "raw_device_count": None, "raw_device_count_error": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            import torch
        except BaseException as exc:
            traceback.print_exc()
            result["import_error"] = error_text(exc)
            result["import_ms"] = ms(start)
            result["warnings"] = [str(w.message) for w in caught]
            emit(result)
            return
        result["import_ms"] = ms(start)
        result["torch_version"] = str(getattr(torch, "__version__", None))
        result["torch_cuda"] = getattr(getattr(torch, "version", None), "cuda", None)
        start = time.perf_counter()
        try:
            result["is_available"] = bool(torch.cuda.is_available())
        except Exception as exc:
            traceback.print_exc()
            result["cuda_error"] = error_text(exc)
        result["available_ms"] = ms(start)
        if result["is_available"] is False:
            start = time.perf_counter()
            why_unavailable(torch, result)
            result["why_ms"] = ms(start)
        if result["is_available"]:
            result["device_count"] = torch.cuda.device_count()
            for index in range(result["device_count"]):
                result["devices"].append({
                    "name": torch.cuda.get_device_name(index),
                    "capability": list(torch.cuda.get_device_capability(index)),
                })
            try:
                result["arch_list"] = list(torch.cuda.get_arch_list())
            except Exception:
                pass
            start = time.perf_counter()
            try:
                value = (torch.ones(8, device="cuda") * 2).sum().item()
                torch.cuda.synchronize()
                result["tensor_op"] = {"ok": value == 16.0, "ms": ms(start), "error": None}
            except Exception as exc:
                traceback.print_exc()
                result["tensor_op"] = {"ok": False, "ms": ms(start), "error": error_text(exc)}
        result["warnings"] = [str(w.message) for w in caught]
    emit(result)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "facts":
        facts()
    elif mode == "cuda":
        cuda()
    elif mode == "both":
        facts()
        cuda()
    elif mode == "sys_path":
        emit({"mode": "sys_path", "version": "%d.%d.%d" % sys.version_info[:3],
              "sys_path": [__import__("os").path.abspath(entry) for entry in sys.path]})
    else:
        sys.stderr.write("usage: probe facts|cuda|both|sys_path\n")
        sys.exit(2)
