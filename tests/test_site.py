"""The documentation site stays whole: API reference, figures, commands, strict build.

* every public name of ``molrg.__all__`` has an entry in the API reference (``docs/api.md``)
  and, in the built site, an anchor with its docstring;
* every figure a page (or the README) references exists;
* every ``python -m verify ...`` command line shown in the docs parses with the live parser;
* ``mkdocs build --strict`` passes (warnings are errors, broken links fail), about 10 s --
  skipped when the ``docs`` extra (mkdocs-material, mkdocstrings) is not installed, as
  under the README's test command; ``.ci/run`` installs it, builds the site and runs this
  file on it.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import molrg

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)
SUBMODULE_PAGES = {"api-symbolic.md": "molrg.symbolic", "api-reference.md": "molrg.reference",
                   "api-validation.md": "molrg.validation", "api-train.md": "molrg.train"}
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\s[^>]*src=\"([^\"]+)\"")
FENCE = re.compile(r"^```(?:bash|sh|shell|console)\s*$(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS_EXTRA = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _docs_extra_missing() -> list[str]:
    return [m for m in DOCS_EXTRA if importlib.util.find_spec(m.split(".")[0]) is None
            or importlib.util.find_spec(m) is None]


# ---------------------------------------------------------------------------------------
# Source checks (always run)
# ---------------------------------------------------------------------------------------
def test_every_public_name_is_in_the_api_reference() -> None:
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"^::: molrg\.(\S+)\s*$", text, flags=re.MULTILINE))
    missing = sorted(set(molrg.__all__) - documented)
    assert not missing, f"docs/api.md has no '::: molrg.NAME' entry for {missing}"
    unknown = sorted(documented - set(molrg.__all__))
    assert not unknown, f"docs/api.md documents names not in molrg.__all__: {unknown}"


def test_the_public_submodules_have_reference_pages() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page, module in SUBMODULE_PAGES.items():
        assert re.search(rf"^::: {re.escape(module)}\s*$", (DOCS / page).read_text(),
                         flags=re.MULTILINE), f"docs/{page} does not document {module}"
        assert page in nav
    public = {f"molrg.{name}" for name in molrg._SUBMODULES}
    assert public <= set(SUBMODULE_PAGES.values()), public - set(SUBMODULE_PAGES.values())


def _images(path: Path) -> list[str]:
    return [a or b for a, b in IMAGE.findall(path.read_text())]


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"],
                         ids=[str(p.relative_to(ROOT)) for p in [*PAGES, ROOT / "README.md"]])
def test_every_referenced_figure_exists(page: Path) -> None:
    missing = [src for src in _images(page)
               if not src.startswith(("http://", "https://", "data:"))
               and not (page.parent / src.split("#")[0]).is_file()]
    assert not missing, f"{page.relative_to(ROOT)} references missing figures {missing}"


def _verify_command_lines() -> list[tuple[str, str]]:
    """``(where, command)`` for every ``python -m verify`` line in a shell block of a page."""
    found = []
    for page in [*PAGES, ROOT / "README.md"]:
        for block in FENCE.findall(page.read_text()):
            for line in block.splitlines():
                for part in line.split("&&"):
                    part = part.strip()
                    if part.startswith("python -m verify"):
                        found.append((str(page.relative_to(ROOT)), part))
    return found


def test_every_verify_command_in_the_docs_parses() -> None:
    from verify.cli import build_parser

    lines = _verify_command_lines()
    assert len(lines) > 20
    bad = []
    for where, line in lines:
        argv = shlex.split(line, comments=True)[3:]
        if "--help" in argv or "-h" in argv or not argv:
            continue
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            bad.append(f"{where}: {line}")
    assert not bad, "commands the live parser rejects:\n" + "\n".join(bad)


def test_citation_matches_the_version() -> None:
    text = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version:\s*\"?{re.escape(molrg.__version__)}\"?\s*$", text,
                     flags=re.MULTILINE), "CITATION.cff's version is not molrg.__version__"
    assert f"## [{molrg.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_cli_reference_covers_every_subcommand() -> None:
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import molrg_docs
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    from verify.commands import COMMANDS

    text = molrg_docs.cli_reference()
    for command in COMMANDS:
        assert f"## `verify {command.name}`" in text
        assert f"usage: python -m verify {command.name}" in text


# ---------------------------------------------------------------------------------------
# The strict build (needs the docs extra)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with ``mkdocs build --strict`` in a temporary folder (or the one
    ``$MOLRG_SITE_DIR`` names: ``.ci/run`` builds it once and reuses it here)."""
    if os.environ.get("MOLRG_SITE_DIR"):
        return Path(os.environ["MOLRG_SITE_DIR"])
    missing = _docs_extra_missing()
    if missing:
        pytest.skip(f"the docs extra is not installed (no {', '.join(missing)}): "
                    'pip install ".[docs]"')
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "--site-dir", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_mkdocs_build_strict_passes(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "api" / "index.html").is_file()


def test_built_api_reference_has_every_public_name_with_its_docstring(site: Path) -> None:
    page = (site / "api" / "index.html").read_text()
    for name in molrg.__all__:
        anchor = f'id="molrg.{name}"'
        assert anchor in page, f"the API reference has no entry for molrg.{name}"
        heading_end = page.index("</h", page.index(anchor))
        nxt = page.find('class="doc doc-heading"', heading_end)
        entry = page[heading_end:nxt if nxt > 0 else None]
        contents = entry.split('class="doc doc-contents', 1)[-1].split(">", 1)[-1]
        first = re.split(r"<div|</div", contents, maxsplit=1)[0]  # the docstring's first block
        words = html.unescape(re.sub(r"<[^>]+>", " ", first)).split()
        assert len(words) >= 3, f"molrg.{name} is rendered without a docstring"


def test_built_site_has_no_leftover_markup_and_all_images(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "<!-- molrg:" not in text and "--8<--" not in text, page
        # docstring roles became links or code (docs/hooks/griffe_molrg.py), none leaked
        assert not re.search(r"(?:<|&lt;)/?autoref\b", text), page
        if page.parent.name.startswith("api"):
            assert not re.search(r":(?:func|class|meth|mod|attr|data|exc):`", text), page
        for src in re.findall(r"<img [^>]*src=\"([^\"]+)\"", text):
            if not src.startswith(("http://", "https://", "data:")):
                assert (page.parent / src).resolve().is_file(), f"{page}: missing image {src}"


# ---------------------------------------------------------------------------------------
# Offline: the built site loads nothing from another host (issue 24)
# ---------------------------------------------------------------------------------------
# what a browser fetches by itself: <script src>, <link href> (stylesheets, icons,
# preloads), <img src>, <iframe src>, <source src>, CSS url(...) and @import
RESOURCE = re.compile(
    r"<(?:script|img|iframe|source|embed|audio|video)\b[^>]*?\ssrc=[\"']([^\"']+)[\"']"
    r"|<link\b[^>]*?\shref=[\"']([^\"']+)[\"'][^>]*>"
    r"|url\(\s*[\"']?([^\"')]+)[\"']?\s*\)"
    r"|@import\s+[\"']([^\"']+)[\"']", re.IGNORECASE)
LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
NOT_FETCHED = ("canonical", "alternate", "author", "license", "edit")  # <link rel=...> only


def outside_references(text: str) -> list[str]:
    """URLs of scripts, styles, fonts, images a page would load from another host."""
    found = []
    for tag in LINK_TAG.findall(text):
        rel = re.search(r"\srel=[\"']([^\"']+)[\"']", tag)
        if rel and set(rel.group(1).lower().split()) <= set(NOT_FETCHED):
            text = text.replace(tag, "")  # a link to a page, not a resource
    for groups in RESOURCE.findall(text):
        url = next(g for g in groups if g)
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE) and not url.startswith("data:"):
            found.append(url)
    return found


def test_outside_reference_detector_finds_what_it_should() -> None:
    page = ('<script src="https://unpkg.com/katex.min.js"></script>'
            '<link rel="stylesheet" href="//cdn.example.org/x.css">'
            '<style>@font-face{src:url("https://fonts.gstatic.com/a.woff2")}</style>'
            '<link rel="canonical" href="https://molrg.github.io/molrg/">'
            '<script src="assets/javascripts/bundle.js"></script>'
            '<img src="data:image/png;base64,AAAA">')
    assert outside_references(page) == ["https://unpkg.com/katex.min.js",
                                        "//cdn.example.org/x.css",
                                        "https://fonts.gstatic.com/a.woff2"]


def test_built_site_loads_nothing_from_another_host(site: Path) -> None:
    bad = {}
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        found = outside_references(path.read_text(errors="replace"))
        if found:
            bad[str(path.relative_to(site))] = sorted(set(found))
    assert not bad, f"pages load resources from other hosts: {bad}"


def test_built_site_serves_katex_itself(site: Path) -> None:
    katex = site / "vendor" / "katex"
    assert (katex / "katex.min.js").is_file() and (katex / "contrib" / "auto-render.min.js").is_file()
    css = (katex / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\(([^)]+)\)", css))
    assert len(fonts) > 40
    missing = sorted(f for f in fonts if not (katex / f).is_file())
    assert not missing, f"KaTeX's stylesheet names fonts the site lacks: {missing}"
    page = (site / "math" / "index.html").read_text()
    for asset in ("vendor/katex/katex.min.js", "vendor/katex/katex.min.css",
                  "vendor/katex/contrib/auto-render.min.js"):
        assert asset in page, f"the math page does not load {asset}"


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium (apt-get install chromium)")
def test_formulas_render_in_a_browser_with_the_network_blocked(site: Path) -> None:
    """Every page with formulas in headless Chromium, served from localhost, every other
    host unreachable (a dead proxy, and no name resolves): every formula becomes KaTeX."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    pages = {p: p.read_text().count('class="arithmatex"') for p in site.rglob("*.html")}
    pages = {p: n for p, n in pages.items() if n}
    assert pages.get(site / "math" / "index.html", 0) > 80
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for page, formulas in sorted(pages.items()):
            path = page.relative_to(site).as_posix()
            url = f"http://127.0.0.1:{server.server_address[1]}/{path}"
            proc = subprocess.run(
                [str(_browser()), "--headless", "--no-sandbox", "--disable-gpu",
                 "--proxy-server=127.0.0.1:9",  # nothing listens: no outside request works
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--virtual-time-budget=10000", "--dump-dom", url],
                capture_output=True, text=True, timeout=180)
            assert proc.returncode == 0, proc.stderr[-2000:]
            dom = proc.stdout
            rendered = dom.count('class="katex"')
            assert rendered >= formulas, f"{path}: {rendered} of {formulas} formulas rendered"
            assert "katex-error" not in dom, path
            # no formula left as raw LaTeX between arithmatex's delimiters
            leftover = re.findall(r'class="arithmatex">\s*\\[(\[]', dom)
            assert not leftover, f"{path}: {len(leftover)} formulas left unrendered"
    finally:
        server.shutdown()


def test_api_signatures_are_formatted_one_parameter_per_line(site: Path) -> None:
    """mkdocstrings-python formats separate signatures with ruff (the docs extra): a long
    signature is broken into one parameter per line, not printed as one long line."""
    page = (site / "api" / "index.html").read_text()
    start = page.index('id="molrg.snr"')
    block = page[page.index('class="doc-signature', start):]
    block = block[block.index("<code>"):]
    code = block[:block.index("</code>")]
    lines = html.unescape(re.sub(r"<[^>]+>", "", code)).splitlines()
    assert lines[0].strip() == "snr(" and lines[-1].startswith(")"), lines
    params = [line for line in lines[1:-1] if line.startswith("    ")]
    assert len(params) >= 8 and all(len(line) <= 88 for line in lines), lines


EXAMPLE_PAGES = sorted(p for p in (DOCS / "examples").glob("*.md") if p.name != "index.md")
# pages whose command is not in the results pipeline yet (no docs/data output to show);
# shrink-only: a listed page that gains an Output section fails until it is removed here
PENDING_OUTPUT = {"torch_denoiser"}


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[p.stem for p in EXAMPLE_PAGES])
def test_every_example_page_shows_its_output_and_figures(page: Path) -> None:
    """Each worked example shows what its command prints (the results pipeline's console
    output, included at build) and, where the command draws, its figures."""
    text = page.read_text()
    if page.stem in PENDING_OUTPUT:
        assert "\n## Output\n" not in text, f"remove {page.stem} from PENDING_OUTPUT"
        return
    assert "\n## Output\n" in text, f"{page.name} has no Output section"
    output = text.split("\n## Output\n", 1)[1].split("\n## ", 1)[0]
    included = re.findall(r'--8<-- "(docs/data/[^"]+\.txt)"', output)
    assert included or "(../math.md)" in output, f"{page.name} shows no output"
    for path in included:
        assert (ROOT / path).is_file(), path
    if "--plot" in text:
        assert _images(page), f"{page.name} draws a figure but shows none"
