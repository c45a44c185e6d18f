"""``renderer init DIR``: a new content project, copied from the bundled demo brand.

The copy is a working project to edit (templates, blocks, locales, fixtures,
assets, segment rules), with a README for designers and a test file that
renders every template for every fixture and runs the inbox checks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from renderer.base.errors import BatchStateError
from renderer.content.layout import ContentLayout, bundled_content

HERE = Path(__file__).resolve().parent


def init_project(target: str | Path) -> ContentLayout:
    """Create a content project in ``target`` (a new or empty folder); returns its layout.

    Raises:
        BatchStateError: ``target`` exists and is not an empty folder (nothing is overwritten).
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BatchStateError(f"{target} already exists and is not empty; pick a new folder")
    source = ContentLayout.at(bundled_content())
    target.mkdir(parents=True, exist_ok=True)
    for name in ("templates", "blocks", "locales", "fixtures", "assets"):
        shutil.copytree(source.root / name, target / name)
    shutil.copy(source.segments, target / "segments.yaml")
    shutil.copy(HERE / "README.md", target / "README.md")
    (target / "tests").mkdir()
    shutil.copy(HERE / "test_content.py.tmpl", target / "tests" / "test_content.py")
    return ContentLayout.at(target)
