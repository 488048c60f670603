"""The applicant's documents as PDF in Chinese, with the QR code of the status-query link.

fpdf2 lays the page out; the font is Noto Sans CJK SC from Debian's ``fonts-noto-cjk``
(``TONGBAN_CJK_FONT`` names another file). That font has PostScript (CFF) outlines, which PDF readers
extract text from badly once embedded as a CID-keyed CFF font (pypdf reads every code as one byte,
pdfminer reads nothing). So the glyphs a document uses are subset with fontTools and their outlines
converted to TrueType quadratics (``Cu2QuPen``): a few kilobytes embedded as an ordinary TrueType
CID font, which every reader maps back to Unicode. segno makes the QR code (a PNG placed on the page).

fpdf2, fontTools and segno are imported when a document is first rendered, not with the service:
together they are about 40 MB of a routing process that most processes never need.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

FONT_FILE = Path(os.environ.get("TONGBAN_CJK_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
SC_FACE = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    """The CJK font is not installed (apt-get install fonts-noto-cjk)."""


@dataclass(frozen=True)
class Document:
    """A document's content: a title, lines of label and value, a table, a closing paragraph, the QR link."""

    title: str
    subtitle: str
    fields: list[tuple[str, str]]
    table_head: tuple[str, ...]
    table: list[tuple[str, ...]]
    closing: str
    qr_link: str
    qr_caption: str
    extra: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Every character the document shows (what the font subset must hold)."""
        parts = [self.title, self.subtitle, self.closing, self.qr_caption, self.qr_link, *self.extra,
                 *(f"{k}{v}" for k, v in self.fields), *self.table_head, *("".join(r) for r in self.table)]
        return "".join(parts) + "0123456789-:/ ，。：（）"


def _face_index(path: Path) -> int:
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    faces = TTCollection(str(path), lazy=True).fonts
    return next((i for i, f in enumerate(faces) if f["name"].getDebugName(4) == SC_FACE), 0)


@lru_cache(maxsize=1)
def _face() -> int:
    if not FONT_FILE.exists():
        raise FontMissing(f"{FONT_FILE} is missing: install Debian's fonts-noto-cjk")
    return _face_index(FONT_FILE)


def truetype_subset(text: str) -> bytes:
    """The glyphs of ``text`` from the CJK font, as a small TrueType font."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.subset import Options, Subsetter
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(FONT_FILE), fontNumber=_face())
    options = Options()
    options.layout_features, options.name_IDs, options.notdef_outline, options.glyph_names = [], ["*"], True, True
    subsetter = Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        glyphs, order = font.getGlyphSet(), font.getGlyphOrder()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for name in order:
            pen = TTGlyphPen(glyphs)
            glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["glyf"], font["loca"] = glyf, newTable("loca")
        for table in ("CFF ", "VORG"):
            if table in font:
                del font[table]
        maxp = font["maxp"] = newTable("maxp")
        maxp.tableVersion = 0x00010000
        for name in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                     "maxSizeOfInstructions", "maxComponentElements"):
            setattr(maxp, name, 0)
        maxp.maxZones = 1
        font["head"].indexToLocFormat, font["head"].glyphDataFormat = 0, 0
        post = font["post"]
        post.formatType, post.extraNames, post.mapping = 2.0, [], {}
        font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def qr_png(link: str) -> bytes:
    """The QR code of a link, as PNG (error correction M)."""
    import segno

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def render(doc: Document) -> bytes:
    """The document as an A4 PDF (CPU-bound: call it from a worker thread)."""
    from fpdf import FPDF

    handle, font_path = tempfile.mkstemp(suffix=".ttf")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(truetype_subset(doc.text()))
        pdf = FPDF(format="A4")
        pdf.set_creator("Tongban routing")
        pdf.set_title(doc.title)
        pdf.add_font("cjk", fname=font_path)
        pdf.add_page()
        pdf.set_font("cjk", size=20)
        pdf.cell(0, 12, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        pdf.cell(0, 7, doc.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("cjk", size=11)
        for label, value in doc.fields:
            pdf.cell(45, 7, label)
            pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
        if doc.table:
            pdf.ln(3)
            width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(doc.table_head)
            for head in doc.table_head:
                pdf.cell(width, 8, head, border=1, align="C")
            pdf.ln()
            for row in doc.table:
                for value in row:
                    pdf.cell(width, 8, value, border=1)
                pdf.ln()
        for line in doc.extra:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.multi_cell(0, 6, doc.closing, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        top = pdf.get_y()
        pdf.image(io.BytesIO(qr_png(doc.qr_link)), x=pdf.l_margin, y=top, w=40, h=40)
        pdf.set_xy(pdf.l_margin + 45, top + 8)
        pdf.multi_cell(0, 6, doc.qr_caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(pdf.l_margin + 45)
        pdf.set_font("cjk", size=8)
        pdf.multi_cell(0, 5, doc.qr_link, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    finally:
        os.unlink(font_path)
