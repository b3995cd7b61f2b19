"""Fixtures that boot real hv.efi images under QEMU and talk to their console.

Instances keep their files under build/test-instances/<test>/; the folder is
removed when the test passes and kept (console.log, qemu.log, qemu.cmd) when
it fails.
"""

import os
import re
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hvlaunch  # noqa: E402

INSTANCE_ROOT = os.path.join(ROOT, "build", "test-instances")
BOOT_TIMEOUT = 120


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _test_dir(request, suffix):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    path = os.path.join(INSTANCE_ROOT, f"{name}{suffix}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


@pytest.fixture
def boot(request):
    """Factory: boot(**Instance kwargs) -> Instance at its first prompt."""
    started = []

    def _boot(wait=True, **kwargs):
        workdir = _test_dir(request, f"-{len(started)}")
        inst = hvlaunch.Instance(workdir=workdir, **kwargs)
        started.append(inst)
        inst.start()
        if wait:
            inst.boot_seconds = inst.wait_prompt(BOOT_TIMEOUT)
        return inst

    yield _boot
    failed = any(getattr(request.node, "rep_" + w, None) is not None and
                 getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    for inst in started:
        inst.kill()
        if failed:
            sys.stderr.write(f"\n--- console of {inst.dir} (tail) ---\n")
            sys.stderr.write(inst.read_console_log()[-3000:] + "\n")
        else:
            shutil.rmtree(inst.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def hv(request):
    """One shared instance per test module, booted from disk with debug=1."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.module.__name__)
    workdir = os.path.join(INSTANCE_ROOT, f"{name}-shared")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    inst = hvlaunch.Instance(workdir=workdir, mem="512M", config="debug=1\n")
    inst.start()
    inst.boot_seconds = inst.wait_prompt(BOOT_TIMEOUT)
    yield inst
    inst.kill()


@pytest.fixture
def con(hv):
    return hv.console()
