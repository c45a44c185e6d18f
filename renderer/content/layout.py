"""Where content lives: a content project of the user's own, or the bundled demo brand.

A content project is one folder (``renderer init DIR`` makes one)::

    templates/      one YAML file per email
    blocks/         MJML blocks, _theme.mjml, brand.yaml (bestsellers.json, _layout.mjml optional)
    locales/        <lang>.yaml translations
    fixtures/       profiles/, recommendations/, events/ for previews and checks
    assets/         images the preview serves in place of the brand's CDN
    segments.yaml   the segment rules (optional: no rules without it)

The default project is ``$RENDERER_CONTENT`` when set, else the demo brand
shipped with the package. :class:`ContentLayout` is the one description of
this layout: the Engine, the checks and the preview all read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

BRAND_FILE = "brand.yaml"
THEME_FILE = "_theme.mjml"
LAYOUT_FILE = "_layout.mjml"
BESTSELLERS_FILE = "bestsellers.json"


def bundled_content() -> Path:
    """The demo brand: ``renderer/_content`` inside an installed wheel, else the checkout's root."""
    packaged = Path(str(resources.files("renderer").joinpath("_content")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


def default_content_root() -> Path:
    """``$RENDERER_CONTENT`` if set, else the bundled demo brand."""
    return Path(os.environ.get("RENDERER_CONTENT") or bundled_content())


@dataclass(frozen=True)
class ContentLayout:
    """Every folder and file of one content project (absolute paths)."""

    root: Path
    templates: Path
    blocks: Path
    locales: Path
    segments: Path
    fixtures: Path
    assets: Path

    @classmethod
    def at(cls, root: str | Path | ContentLayout | None = None, *, templates: str | Path | None = None,
           blocks: str | Path | None = None, locales: str | Path | None = None,
           segments: str | Path | None = None, fixtures: str | Path | None = None,
           assets: str | Path | None = None) -> ContentLayout:
        """The usual layout under ``root`` (default: :func:`default_content_root`), any part overridden.

        Locales default to ``locales/`` beside the blocks folder, so a blocks
        folder given on its own brings its translations along.
        """
        overrides = {"templates": templates, "blocks": blocks, "locales": locales, "segments": segments,
                     "fixtures": fixtures, "assets": assets}
        if isinstance(root, ContentLayout):
            changes = {name: Path(value).resolve() for name, value in overrides.items() if value}
            if blocks and not locales:
                changes["locales"] = (Path(blocks).parent / "locales").resolve()
            return replace(root, **changes)
        base = Path(root) if root else default_content_root()
        blocks_path = Path(blocks) if blocks else base / "blocks"
        return cls(
            root=base.resolve(),
            templates=Path(templates or base / "templates").resolve(),
            blocks=blocks_path.resolve(),
            locales=Path(locales or blocks_path.parent / "locales").resolve(),
            segments=Path(segments or base / "segments.yaml").resolve(),
            fixtures=Path(fixtures or base / "fixtures").resolve(),
            assets=Path(assets or base / "assets").resolve(),
        )

    @property
    def brand(self) -> Path:
        return self.blocks / BRAND_FILE

    @property
    def theme(self) -> Path:
        return self.blocks / THEME_FILE

    @property
    def layout(self) -> Path:
        return self.blocks / LAYOUT_FILE

    @property
    def bestsellers(self) -> Path:
        return self.blocks / BESTSELLERS_FILE

    def display(self, path: str | Path) -> str:
        """A path as a designer knows it: relative to the project's root when inside it."""
        resolved = Path(path).resolve()
        return str(resolved.relative_to(self.root)) if resolved.is_relative_to(self.root) else str(path)

    def owns(self, path: str | Path) -> bool:
        """Whether ``path`` is one of the project's content files (so its lines may be shown)."""
        resolved = Path(path).resolve()
        return resolved == self.segments or any(
            resolved.is_relative_to(folder) for folder in (self.templates, self.blocks, self.fixtures, self.locales))
