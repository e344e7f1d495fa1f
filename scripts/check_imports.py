"""Check the import contract (.importlinter) with import-linter, on the package as installed.

The architecture folders (models/, training/, ...) sit at the top of the repository and are
installed under ``hepgan`` through pyproject's package-dir; import-linter reads the package
from one folder, so this copies the folders into that layout first, in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent


def installed_layout(target: Path) -> None:
    """Copy each package folder of pyproject's package-dir to where it is installed."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, folder in sorted(setuptools["package-dir"].items()):
        destination = target.joinpath(*package.split("."))
        shutil.copytree(
            REPO / folder,
            destination,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hepgan-imports-") as folder:
        installed_layout(Path(folder))
        env = {**os.environ, "PYTHONPATH": folder}
        command = [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            str(REPO / ".importlinter"),
        ]
        return subprocess.run(command, env=env, cwd=folder, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
