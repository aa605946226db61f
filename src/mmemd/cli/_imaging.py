"""`mmemd imaging extract`: lesions from a Chinese or English imaging report (docs/imaging.md).

Output contract:

* default: the report with the words each value came from highlighted, then a table of the lesions read;
* ``--json``: one ``mmemd.imaging/1`` object on stdout (modality, study_date, no_extramedullary_lesion, lesions with
  their evidence spans, record_patch marked as extracted from text, versions).

Exit codes: 0 when the report was read (a report with no finding is not an error); 2 when the input cannot be read
as text (missing file, binary data, an encoding that is neither UTF-8 nor GB18030, far longer than any report),
with the reason on stderr.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mmemd.imaging import ImagingExtraction

EXIT_INVALID = 2

# One colour per kind of value, so a reader can see which words gave which value.
_STYLES = {
    "lesion": "bold",
    "myeloma": "bold",
    "site": "bold cyan",
    "side": "cyan",
    "relation_to_bone": "magenta",
    "size_cm": "bold green",
    "suv_max": "green",
    "change": "bold yellow",
    "certainty": "yellow",
}


# Display words for the value sets (a Chinese table has no English words).
_VALUES_ZH = {
    "left": "左",
    "right": "右",
    "bilateral": "双侧",
    "none": "无骨相关",
    "arising_from_bone": "起源于骨",
    "intraosseous": "骨内",
    "new": "新发",
    "increased": "增大",
    "decreased": "缩小",
    "stable": "稳定",
    "resolved": "消失",
    "definite": "明确",
    "possible": "可能",
}
_VALUES_EN = {"arising_from_bone": "arising from bone", "none": "no bone contact"}


class Language(StrEnum):
    auto = "auto"
    zh = "zh"
    en = "en"


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(EXIT_INVALID)


def read_report(path: str) -> str:
    """The report's text: UTF-8 (with or without BOM), else GB18030, as Chinese hospital systems often export."""
    name = "<stdin>" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise _fail(f"cannot read {name}: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise _fail(f"{name} is binary data, not a text report")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _fail(f"{name} is neither UTF-8 nor GB18030 text")


def _render(text: str, result: ImagingExtraction) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from mmemd.knowledge import vocabulary

    zh = result.language == "zh"
    console = Console(highlight=False, soft_wrap=True)
    body = Text(text)
    for les in result.lesions:
        for ev in les.evidence:
            body.stylize(_STYLES.get(ev.field, "bold"), ev.start, ev.end)
    for rev in result.evidence:
        body.stylize("underline", rev.start, rev.end)
    console.print(body)
    vocab = vocabulary()
    labels = {
        "modality": ("检查方式", "Modality"),
        "date": ("检查日期", "Study date"),
        "no_emd": ("未见髓外病灶", "No extramedullary lesion"),
        "none": ("未提及", "not stated"),
    }

    def lab(key: str) -> str:
        return labels[key][0 if zh else 1]

    def yn(v: bool | None) -> str:
        if v is None:
            return lab("none")
        return ("是" if v else "否") if zh else ("yes" if v else "no")

    console.print(
        f"{lab('modality')}: {result.modality or lab('none')}   {lab('date')}: {result.study_date or lab('none')}   "
        f"{lab('no_emd')}: {yn(result.no_extramedullary_lesion)}"
    )
    if not result.lesions:
        console.print("未读出病灶。" if zh else "No lesion read from this report.")
        return
    headers = (
        ("#", "部位", "侧别", "与骨关系", "大小 (cm)", "SUVmax", "变化", "确定性")
        if zh
        else ("#", "Site", "Side", "Relation to bone", "Size (cm)", "SUVmax", "Change", "Certainty")
    )
    table = Table(*headers, title="待临床医生确认" if zh else "To be confirmed by a clinician")
    words = _VALUES_ZH if zh else _VALUES_EN

    def word(v: str | None) -> str:
        return "-" if v is None else words.get(v, v)

    for n, les in enumerate(result.lesions, 1):
        size = " × ".join(str(d) for d in les.size_cm) if les.size_cm else "-"
        table.add_row(
            str(n),
            vocab.label(les.site, "zh" if zh else "en"),
            word(les.side),
            word(les.relation_to_bone),
            size,
            str(les.suv_max) if les.suv_max is not None else "-",
            word(les.change),
            word(les.certainty),
        )
    console.print(table)


def extract_command(
    report: Annotated[str, typer.Argument(help="Imaging report as text (UTF-8 or GB18030); - reads stdin.")],
    lang: Annotated[
        Language, typer.Option("--lang", help="Report language; auto detects it.")
    ] = Language.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print one mmemd.imaging/1 JSON object.")] = False,
) -> None:
    """Read the lesions of an imaging report (PET-CT, CT, MRI, ultrasound; Chinese or English)."""
    from mmemd.imaging import ImagingInputError, extract

    text = read_report(report)
    try:
        result = extract(text, lang=lang.value)
    except ImagingInputError as exc:
        name = "<stdin>" if report == "-" else report
        raise _fail(f"{name}: {exc}") from None
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
        return
    _render(text, result)


def register(app: typer.Typer) -> None:
    """Add ``mmemd imaging extract``."""
    imaging = typer.Typer(
        name="imaging",
        help="Imaging reports: read extramedullary lesions from report text.",
        no_args_is_help=True,
    )
    imaging.command("extract")(extract_command)
    app.add_typer(imaging, name="imaging")
