"""The runtime must not need the dev extras: ``make run`` installs ``pip install -e .`` only.

``dev_only_modules`` names the top-level modules that only the ``dev`` extra brings (its
distributions and theirs, less whatever the runtime dependencies need too); ``blocking_env``
gives child processes a ``sitecustomize`` that makes importing any of them fail, as it would in
``make run``'s virtualenv.
"""

import re
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PROJECT = "replay-issues"


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _closure(distribution: str, extras: frozenset[str]) -> set[str]:
    """``distribution`` and everything it needs (installed), with ``extras`` of its own."""
    seen: set[str] = set()
    pending = [(distribution, extras)]
    while pending:
        name, wanted = pending.pop()
        key = f"{_name(name)}[{','.join(sorted(wanted))}]"
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(environment) for environment in environments
            ):
                try:
                    metadata.distribution(requirement.name)
                except metadata.PackageNotFoundError:
                    continue  # not installed: nothing to block either
                pending.append((requirement.name, frozenset(requirement.extras)))
    return {key.split("[")[0] for key in seen}


@cache
def dev_only_modules() -> frozenset[str]:
    runtime = _closure(PROJECT, frozenset())
    dev_only = _closure(PROJECT, frozenset({"dev"})) - runtime
    return frozenset(
        module
        for module, distributions in metadata.packages_distributions().items()
        if all(_name(d) in dev_only for d in distributions) and module.isidentifier()
    )


SITECUSTOMIZE = '''"""From tests/runtime_only.py: the dev extras' modules cannot be imported."""
import sys

BLOCKED = frozenset({blocked!r})


class _DevExtrasBlocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"No module named {{name!r}} (a dev extra: make run does not install it)", name=name
            )
        return None


sys.meta_path.insert(0, _DevExtrasBlocker())
'''


def blocking_env(env: dict[str, str], directory: Path) -> dict[str, str]:
    """``env`` with a ``sitecustomize`` in ``directory`` that blocks the dev extras' modules."""
    directory.mkdir(parents=True, exist_ok=True)
    blocked = sorted(dev_only_modules())
    (directory / "sitecustomize.py").write_text(SITECUSTOMIZE.format(blocked=blocked))
    python_path = [str(directory), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": ":".join(python_path)}
