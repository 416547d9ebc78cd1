"""Which input files a load reads, which source of the layout each one feeds, and their hashes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from etl.errors import SegwiseError
from etl.ingest.mapping import DATA_SUFFIXES, Mapping


class InputError(SegwiseError):
    """A path or file that cannot be loaded as given."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    source: str
    sha256: str
    bytes: int

    @property
    def compressed(self) -> bool:
        return self.path.name.lower().endswith(".gz")

    @property
    def parquet(self) -> bool:
        name = self.path.name.lower().removesuffix(".gz")
        return name.endswith((".parquet", ".pq"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _is_data_file(p: Path) -> bool:
    return (
        p.is_file() and not p.name.startswith((".", "~")) and p.name.lower().endswith(DATA_SUFFIXES)
    )


def expand(paths: list[str | Path]) -> list[Path]:
    """Files named directly, plus the data files directly inside named folders (sorted)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise InputError("no input path given")
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(c for c in p.iterdir() if _is_data_file(c))
            if not found:
                raise InputError(f"{p}: folder has no data files ({', '.join(DATA_SUFFIXES)})")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: not a regular file")
    seen: set[Path] = set()
    unique = []
    for p in out:
        rp = p.resolve()
        if rp not in seen:
            seen.add(rp)
            unique.append(p)
    return unique


def assign(paths: list[Path], mapping: Mapping) -> dict[str, list[Path]]:
    """Map each file to the layout source whose file pattern it matches."""
    sources = mapping.file_sources()
    out: dict[str, list[Path]] = {}
    for p in paths:
        if len(sources) == 1:
            out.setdefault(sources[0].name, []).append(p)
            continue
        hits = [s for s in sources if s.matches(p.name)]
        if not hits:
            patterns = "; ".join(f"{s.name}: {', '.join(s.files)}" for s in sources)
            raise InputError(
                f"{p}: the file name matches no source of layout {mapping.name} ({patterns})"
            )
        out.setdefault(hits[0].name, []).append(p)
    return out


def describe(paths: list[Path], mapping: Mapping) -> list[InputFile]:
    """Assign, check and hash the files of one batch."""
    assigned = assign(paths, mapping)
    files = []
    for source, ps in assigned.items():
        for p in ps:
            size = p.stat().st_size
            if size == 0:
                raise InputError(f"{p}: the file is empty (0 bytes)")
            files.append(InputFile(p, source, sha256_file(p), size))
    return files


def batch_sha256(files: list[InputFile]) -> str:
    """One hash for a file set: the same contents in any order or under any names match."""
    h = hashlib.sha256()
    for digest in sorted(f"{f.source}:{f.sha256}" for f in files):
        h.update(digest.encode())
        h.update(b"\n")
    return h.hexdigest()
