"""Terminology and twin-page checks over the Markdown sources (used by tests/test_terminology.py).

* ``misused_terms``: a Chinese page that uses an alternative term (a glossary term's ``also``) without
  the preferred term anywhere on the page. Code, math, link targets and comments are not prose.
* ``twin_differences``: a page and its English twin must have the same fenced code blocks (count and
  exact content), the same number of images/figures and the same number of headings at each level.
"""

from __future__ import annotations

import re
from collections import Counter
from fnmatch import fnmatch

from glossary import Glossary, form_pattern

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^(#{1,6})[ \t]+\S")
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console", "zsh"})
SHELL_COMMENT = re.compile(r"(?:^|\s)#.*$", re.M)
IMAGE = re.compile(r"!\[[^\]]*\]\(|<img\b|<figure\b", re.I)


def split_fences(markdown: str) -> tuple[str, list[str]]:
    """(the text outside fenced code blocks, each block's info line and body, dedented)."""
    outside, blocks = [], []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            outside.append(lines[i])
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        body, i = [], i + 1
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if (closing and closing.group("fence")[0] == fence[0] and len(closing.group("fence")) >= len(fence)
                    and not closing.group("info").strip()):
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        blocks.append(fence + opening.group("info").rstrip() + "\n" + "\n".join(body))
        outside.append("")
        i += 1
    return "\n".join(outside), blocks


def prose(markdown: str) -> str:
    """The page's running text: no front matter, code, math, HTML comments, link targets or snippets."""
    text = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    text, _ = split_fences(text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", " ", text)
    text = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)", "]", text)
    return re.sub(r"^\s*\[[^\]]+\]:\s+\S+.*$", " ", text, flags=re.M)


def misused_terms(text: str, glossary: Glossary, page: str = "", allow=()) -> list[str]:
    """Alternatives used in Chinese ``text`` (already ``prose``) where the preferred term is absent.

    Args:
        text: the page's prose.
        glossary: the terms.
        page: the page's path under docs/, for messages and the allow-list.
        allow: (page glob, alternative) pairs not to report.

    Returns:
        One message per (alternative, term), naming the page, the alternative and the preferred term.
    """
    problems = []
    for term in glossary.terms:
        if not term.also:
            continue
        used = [alt for alt in term.also if re.search(form_pattern(alt, "zh"), text)]
        if not used:
            continue
        longest_first = sorted(term.also, key=len, reverse=True)
        masked = re.sub("|".join(form_pattern(alt, "zh") for alt in longest_first), " ", text)
        if any(re.search(form_pattern(form, "zh"), masked) for form in term.zh_forms):
            continue
        for alt in used:
            if any(fnmatch(page, glob) and alt == allowed for glob, allowed in allow):
                continue
            problems.append(f"{page}: uses 「{alt}」 but never the preferred term 「{term.zh}」 ({term.en})")
    return problems


def comparable(block: str) -> str:
    """A code block as twins must share it: a shell block's comments are prose, in the page's language."""
    info, _, body = block.partition("\n")
    language = info.lstrip("`~").strip().split(" ")[0].lstrip(".{").lower()
    if language in SHELL_LANGUAGES:
        body = "\n".join(line.rstrip() for line in SHELL_COMMENT.sub("", body).splitlines())
    return info + "\n" + body


def _structure(markdown: str) -> tuple[list[str], int, Counter]:
    outside, blocks = split_fences(markdown)
    blocks = [comparable(block) for block in blocks]
    outside = re.sub(r"<!--.*?-->", " ", outside, flags=re.S)
    levels = Counter(len(m.group(1)) for line in outside.splitlines() if (m := HEADING.match(line)))
    return blocks, len(IMAGE.findall(outside)), levels


def twin_differences(zh: str, en: str, page: str = "") -> list[str]:
    """What differs between a Chinese page and its English twin: code blocks, images, headings per level."""
    zh_blocks, zh_images, zh_levels = _structure(zh)
    en_blocks, en_images, en_levels = _structure(en)
    problems = []
    if len(zh_blocks) != len(en_blocks):
        problems.append(f"{page}: {len(zh_blocks)} fenced code blocks in Chinese, {len(en_blocks)} in English")
    for number, (zh_block, en_block) in enumerate(zip(zh_blocks, en_blocks), start=1):
        if zh_block != en_block:
            zh_lines, en_lines = zh_block.splitlines(), en_block.splitlines()
            line = next((i for i, (a, b) in enumerate(zip(zh_lines, en_lines)) if a != b),
                        min(len(zh_lines), len(en_lines)))
            first = zh_lines[line] if line < len(zh_lines) else "<end>"
            second = en_lines[line] if line < len(en_lines) else "<end>"
            problems.append(f"{page}: code block {number} differs at its line {line + 1}: "
                            f"{first.strip()[:80]!r} (zh) vs {second.strip()[:80]!r} (en)")
    if zh_images != en_images:
        problems.append(f"{page}: {zh_images} images/figures in Chinese, {en_images} in English")
    for level in sorted(set(zh_levels) | set(en_levels)):
        if zh_levels[level] != en_levels[level]:
            problems.append(f"{page}: {zh_levels[level]} level-{level} headings in Chinese, "
                            f"{en_levels[level]} in English")
    return problems
