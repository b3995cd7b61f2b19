"""Fixtures that boot real hv.efi images and talk to their console.

Two targets: QEMU (TCG, AMD SVM + NPT) and Bochs (Intel VMX + EPT). Most
tests run on QEMU only; the guest suites take the ``guest_hv`` fixture and
run once per target (test ids end in [qemu] or [bochs]).

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

import hvbochs  # noqa: E402
import hvlaunch  # noqa: E402

INSTANCE_ROOT = os.path.join(ROOT, "build", "test-instances")
BOOT_TIMEOUT = 120
TARGETS = ("qemu", "bochs")
BOCHS_WALL_LIMIT = 3600  # Bochs is killed after this long whatever happens


def make_instance(target, workdir, mem="512M", **kwargs):
    """An unstarted instance on 'target' with hvlaunch.Instance's keywords."""
    if target == "bochs":
        return hvbochs.BochsInstance(workdir=workdir, megs=int(mem.rstrip("M")),
                                     timeout=BOCHS_WALL_LIMIT, **kwargs)
    return hvlaunch.Instance(workdir=workdir, mem=mem, **kwargs)


def shared_instance(name, target, **kwargs):
    """Starts an instance for a whole module and waits for its prompt."""
    workdir = os.path.join(INSTANCE_ROOT, f"{name}-{target}-shared")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    inst = make_instance(target, workdir, **kwargs)
    inst.target = target
    inst.start()
    try:
        inst.boot_seconds = inst.wait_prompt(BOOT_TIMEOUT)
    except Exception:
        sys.stderr.write(inst.read_console_log()[-3000:] + "\n")
        inst.kill()
        raise
    return inst


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _test_dir(request, suffix):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    # Unix socket paths are limited to 107 bytes: keep the folder name short.
    name = name[:40]
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
    inst = shared_instance(name, "qemu", config="debug=1\n")
    yield inst
    inst.kill()


@pytest.fixture(scope="module", params=TARGETS)
def guest_hv(request):
    """Like hv, once per target: for suites that must pass on SVM and VMX."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.module.__name__)
    inst = shared_instance(name, request.param, config="debug=1\n")
    yield inst
    inst.kill()


@pytest.fixture
def con(hv):
    return hv.console()
