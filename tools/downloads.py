"""MkDocs hook: downloads on lab pages, the package source behind the code of concept pages.

* Lab pages: a box under the title offers the lab as ``<lab>.py`` (the program in ``snippets/``,
  copied next to the page) and ``<lab>.ipynb`` (the notebook executed for this build, outputs kept:
  mkdocs-jupyter's ``include_source`` already copies it next to the page in both languages).
* Concept pages: every ``src/n2t/...`` file a page includes with ``--8<--`` is listed in a
  "source code" box at the end of the page, linked to a copy the site serves itself (so it works
  offline; the package files are added to the site at ``src/n2t/...``) and to the repository.
"""

from __future__ import annotations

import html
import posixpath
import re
import shutil
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))
from site_features import branch  # noqa: E402  (one reading of edit_uri for both hooks)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "n2t"
LAB_PAGE = re.compile(r"^labs/(?P<chapter>[^/]+)/(?P<lab>[^/]+)\.ipynb$")
# pymdownx.snippets: `--8<-- "path"` or `--8<-- "path:region"`; a leading ";" escapes the line.
INCLUDE = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"(?P<path>src/n2t/[^":]+\.py)(?::[^"]*)?"', re.M)
TITLE_END = re.compile(r"</h1>")

TEXT = {
    "zh": {
        "downloads": "下载本实验",
        "program": "程序本身（jupytext 百分号格式，<code>#&nbsp;%%</code> 分隔各单元）。"
                   "在仓库根目录运行 <code>python {program}</code>。",
        "notebook": "构建本页时执行过的笔记本，保留全部输出，与本页看到的一致；在 Jupyter 中打开即可重新运行。",
        "install": '运行前先安装 <code>n2t</code> 和实验用到的库，见<a href="{home}#install">首页的安装说明</a>。'
                   '仓库中的原文件：<a href="{repo}">{program}</a>。',
        "source": "源代码",
        "source_intro": "本页的代码块摘自 `n2t` 包中的下列文件（每个文件都有测试）：",
        "repository": "仓库",
    },
    "en": {
        "downloads": "Download this lab",
        "program": "the program itself (jupytext percent format, cells separated by <code>#&nbsp;%%</code>). "
                   "Run it from the repository root with <code>python {program}</code>.",
        "notebook": "the notebook executed to build this page, outputs kept, the same as you see here; "
                    "open it in Jupyter to run it again.",
        "install": 'To run either, install <code>n2t</code> and the libraries the labs use first: see '
                   '<a href="{home}#install">installing on the home page</a>. '
                   'The file in the repository: <a href="{repo}">{program}</a>.',
        "source": "Source code",
        "source_intro": "The code on this page is cut from these files of the `n2t` package, "
                        "each of them tested:",
        "repository": "repository",
    },
}


def texts(config) -> dict[str, str]:
    return TEXT.get(config.theme["language"], TEXT["en"])


def blob_url(config, path: str) -> str:
    return f"{config.repo_url.rstrip('/')}/blob/{branch(config)}/{path}"


def on_config(config):
    """The notebook downloads are mkdocs-jupyter's copies: make sure it still makes them."""
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not jupyter.config.get("include_source"):
        raise PluginError("lab downloads need mkdocs-jupyter with include_source: true (it copies each notebook)")
    return config


# ---- the package source, served by the site -------------------------------------------------------
def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def on_files(files: Files, config) -> Files:
    """Serve every file of the package at ``src/n2t/...`` (what the source boxes link to)."""
    for path in package_files():
        uri = path.relative_to(ROOT).as_posix()
        files.append(File(uri, str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def included_sources(markdown: str) -> list[str]:
    """``src/n2t/...`` files a page includes, in order of first use."""
    return list(dict.fromkeys(match["path"] for match in INCLUDE.finditer(markdown)))


def source_box(sources: list[str], page, config) -> str:
    """A Material admonition listing the sources (links relative to the page's Markdown file)."""
    here = posixpath.dirname(page.file.src_uri) or "."
    text = texts(config)
    lines = [f'!!! info n2t-source "{text["source"]}"', "", f"    {text['source_intro']}", ""]
    for path in sources:
        if not (ROOT / path).is_file():
            raise PluginError(f"{page.file.src_uri} includes {path}, which does not exist")
        local = posixpath.relpath(path, here)
        lines.append(f"    - [`{path}`]({local}) · [{text['repository']}]({blob_url(config, path)})")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown, page, config, files):
    sources = included_sources(markdown)
    if sources:
        markdown = markdown.rstrip("\n") + "\n\n" + source_box(sources, page, config)
    return markdown


# ---- lab downloads ---------------------------------------------------------------------------------
def lab_program(src_uri: str) -> Path | None:
    match = LAB_PAGE.match(src_uri)
    if not match:
        return None
    program = ROOT / "snippets" / match["chapter"] / f"{match['lab']}.py"
    if not program.is_file():
        raise PluginError(f"lab page {src_uri} has no program {program.relative_to(ROOT)}")
    return program


def home_url(page, config) -> str:
    """The current language's home page, relative to ``page`` (``../../../``)."""
    i18n = config.plugins.get("i18n")
    lang = config.theme["language"]
    home = "" if i18n is None or lang == i18n.default_language else f"{lang}/"
    return posixpath.relpath("/" + home, "/" + page.url) + "/"


def download_box(program: Path, page, config) -> str:
    text = texts(config)
    colon = "：" if config.theme["language"] == "zh" else ": "
    relative = program.relative_to(ROOT).as_posix()
    notebook = html.escape(Path(page.file.src_uri).name)
    install = text["install"].format(home=home_url(page, config), repo=blob_url(config, relative), program=relative)
    return (
        f'<div class="admonition info n2t-downloads">\n'
        f'<p class="admonition-title">{text["downloads"]}</p>\n<ul>\n'
        f'<li><a href="{program.name}" download><code>{program.name}</code></a>{colon}'
        f'{text["program"].format(program=relative)}</li>\n'
        f'<li><a href="{notebook}" download><code>{notebook}</code></a>{colon}{text["notebook"]}</li>\n'
        f"</ul>\n<p>{install}</p>\n</div>\n"
    )


def on_page_content(content, page, config, files):
    program = lab_program(page.file.src_uri)
    if program is None:
        return content
    box = download_box(program, page, config)
    parts = TITLE_END.split(content, maxsplit=1)
    if len(parts) != 2:
        raise PluginError(f"lab page {page.file.src_uri} has no title (# heading) to put the downloads under")
    return parts[0] + "</h1>\n" + box + parts[1]


def on_post_page(output, page, config):
    """Copy the lab's program next to its page (the notebook is copied by mkdocs-jupyter)."""
    program = lab_program(page.file.src_uri)
    if program is not None:
        target = Path(page.file.abs_dest_path).parent / program.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(program, target)
    return output
