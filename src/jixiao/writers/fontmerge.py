"""One font object per font in a joined PDF: the per-form subsets of a font merged into one.

WeasyPrint subsets each font with HarfBuzz keeping the original glyph ids (``RETAIN_GIDS``), and the
PDF font uses them as CIDs in every form's PDF. So:

- TrueType (``glyf``) subsets are merged glyph by glyph: the union of the glyph outlines
  (``glyf``/``loca``) and advance widths (``hmtx``), taken from the forms' own subsets (the original
  font file is not needed: a dask client may not have the workers' fonts).
- CFF subsets (e.g. Noto CJK) cannot be merged that way (HarfBuzz keeps and renumbers only the font
  dicts a subset uses), so the installed font of the same version, found through fontconfig, is
  subset once with fontTools for every glyph the forms used (a few seconds per font and file).

Either way the PDF widths (``/W``) and text mapping (``/ToUnicode``) are unioned and every page's font
resource points at the one merged font. Subsets are merged only when they come from the same font
file: the same PostScript name and the same ``head`` revision and dates (two machines of a dask
cluster may have two versions of a font).

Fallback: a font WeasyPrint gave a custom encoding (a character was missing), a bitmap font, or a CFF
font whose file is not installed here in the same version is kept as each form embedded it. The
joined file is then correct but holds that font once per form.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import sys
import zlib
from array import array
from dataclasses import dataclass, field

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError
from fontTools.ttLib.sfnt import SFNTReader, SFNTWriter

_DROP_TABLES = {"hdmx", "vmtx", "vhea", "VORG", "LTSH", "VDMX", "kern", "DSIG", "glyf", "loca", "hmtx"}
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_MARK = pikepdf.Name("/JixiaoFont")


@dataclass
class _Font:
    """The union of every subset of one TrueType font seen so far."""

    placeholder: pikepdf.Dictionary          # the merged font dictionary in the joined file
    descriptor: dict                         # FontDescriptor entries of the first subset (no font file)
    base_font: str
    tables: dict[str, bytes]                 # the first subset's other tables
    seen: set[int] = field(default_factory=set)  # glyph ids taken (with or without an outline)
    mapped: set[int] = field(default_factory=set)  # glyph ids whose ToUnicode entries were read
    glyphs: dict[int, bytes] = field(default_factory=dict)
    metrics: dict[int, tuple[int, int]] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    unicode: dict[int, bytes] = field(default_factory=dict)
    maxp: list[int] = field(default_factory=list)
    source: tuple[str, int] | None = None     # CFF: the installed font file and face it comes from
    bbox: list[float] = field(default_factory=list)


def _page_fonts(page: pikepdf.Page):
    """The /Font resources of a page (an empty dictionary when it has none)."""
    resources = page.obj.get("/Resources")
    fonts = resources.get("/Font") if resources is not None else None
    return fonts if fonts is not None else pikepdf.Dictionary()


class FontMerger:
    """Takes the fonts of each source page before it is copied, builds the merged fonts at the end."""

    def __init__(self, target: pikepdf.Pdf) -> None:
        self.target = target
        self.fonts: dict[str, _Font] = {}
        self.originals: dict[str, tuple[str, int] | None] = {}

    def detach(self, page: pikepdf.Page) -> None:
        """Replace each mergeable font of a source page by a marker (so it is not copied) and keep its glyphs."""
        fonts = _page_fonts(page)
        for name in list(fonts.keys()):
            font = fonts[name]
            if _MARK in font:
                continue  # resources shared by pages of one source: done already
            found = _merge_key(font)
            if found is None:
                continue
            name_key, kind = found
            descriptor = font.DescendantFonts[0].FontDescriptor
            stream = descriptor[_FONT_FILE[kind]]
            identity = _identity({"head": _head(stream)})
            key = f"{name_key}|{identity}"
            if kind == "cff" and self._original(key, descriptor, identity) is None:
                continue  # no copy of that very font here to subset again: kept as the form embedded it
            self._take(key, font, stream)
            fonts[name] = pikepdf.Dictionary({"/JixiaoFont": pikepdf.String(key)})

    def attach(self, page: pikepdf.Page) -> None:
        """Point the markers of a copied page at the merged fonts of the joined file."""
        fonts = _page_fonts(page)
        for name in list(fonts.keys()):
            font = fonts[name]
            if _MARK in font:
                fonts[name] = self.fonts[str(font[_MARK])].placeholder

    def finish(self) -> None:
        """Fill every merged font dictionary: one font file, widths and text mapping per font."""
        for merged in self.fonts.values():
            _build(self.target, merged)

    def _original(self, key: str, descriptor: pikepdf.Dictionary, identity: str):
        """The installed font file (path, index) a CFF subset comes from, or None (looked up once)."""
        if key not in self.originals:
            self.originals[key] = _find_original(str(descriptor.get("/FontFamily", "")), identity)
        return self.originals[key]

    def _take(self, key: str, font: pikepdf.Dictionary, stream: pikepdf.Stream) -> None:
        cid_font = font.DescendantFonts[0]
        descriptor = cid_font.FontDescriptor
        widths = _widths(cid_font.get("/W", pikepdf.Array()))
        merged = self.fonts.get(key)
        if merged is None:
            placeholder = self.target.make_indirect(pikepdf.Dictionary())
            copied = {k: _plain(v) for k, v in descriptor.items()
                      if k not in ("/FontFile2", "/CIDSet", "/FontFile3", "/FontFile")}
            merged = self.fonts[key] = _Font(placeholder, copied, str(font.BaseFont), {})
        merged.source = self.originals.get(key)
        new = [gid for gid in widths if gid not in merged.seen]
        if merged.source is not None:
            merged.seen.update(widths)  # a CFF font is subset again from its file at the end
        elif new or not merged.tables:  # the font file is read only when it brings new glyphs
            tables = _read_tables(stream.read_bytes())
            if not merged.tables:
                merged.tables = {k: v for k, v in tables.items() if k not in _DROP_TABLES}
            _add_glyphs(merged, tables, [0, *new])
        if "/ToUnicode" in font and not merged.mapped.issuperset(widths):
            merged.unicode.update(_to_unicode(font.ToUnicode.read_bytes()))
            merged.mapped.update(widths)
        merged.widths.update(widths)
        box = [float(v) for v in descriptor.FontBBox]
        merged.bbox = box if not merged.bbox else [min(merged.bbox[0], box[0]), min(merged.bbox[1], box[1]),
                                                 max(merged.bbox[2], box[2]), max(merged.bbox[3], box[3])]


_FONT_FILE = {"ttf": "/FontFile2", "cff": "/FontFile3"}


def _merge_key(font: pikepdf.Dictionary) -> tuple[str, str] | None:
    """The font's name without its subset tag and its kind ("ttf", "cff") if it can be merged."""
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        return None
    descendants = font.get("/DescendantFonts")
    if not descendants or len(descendants) != 1:
        return None
    cid_font = descendants[0]
    descriptor = cid_font.get("/FontDescriptor", {})
    name = str(font.BaseFont).split("+", 1)[-1]
    if cid_font.get("/Subtype") == "/CIDFontType2" and cid_font.get("/CIDToGIDMap") == "/Identity" \
            and "/FontFile2" in descriptor:
        return name, "ttf"
    if cid_font.get("/Subtype") == "/CIDFontType0" and "/FontFile3" in descriptor \
            and descriptor.FontFile3.get("/Subtype") == "/OpenType":
        return name, "cff"
    return None


def _find_original(family: str, identity: str) -> tuple[str, int] | None:
    """The installed face of ``family`` whose ``head`` matches ``identity`` (fontconfig's list)."""
    fc_list = shutil.which("fc-list")
    if not family or fc_list is None:
        return None
    listed = subprocess.run([fc_list, family, "file", "index"], capture_output=True, text=True, check=False)
    for line in sorted(set(listed.stdout.splitlines())):
        path, _, index = line.partition(": :index=")
        path = path.rstrip(":")
        try:
            with open(path, "rb") as stream:
                head = SFNTReader(stream, fontNumber=int(index or 0))["head"]
        except (OSError, ValueError, KeyError, TTLibError):
            continue
        if _identity({"head": head}) == identity:
            return path, int(index or 0)
    return None


def _head(stream: pikepdf.Stream) -> bytes:
    """The ``head`` table of an embedded font, inflating only as far as it (fonts are mostly
    ``loca`` and ``hmtx`` after it: a form's font need not be unpacked to be recognised)."""
    if stream.get("/Filter") != "/FlateDecode" or "/DecodeParms" in stream:
        return _read_tables(stream.read_bytes()).get("head", b"")
    raw, inflate, data = stream.read_raw_bytes(), zlib.decompressobj(), bytearray()
    for start in range(0, len(raw), 8192):
        data += inflate.decompress(raw[start:start + 8192])
        found = _table_in(data, b"head")
        if found is not None:
            return found
    return _table_in(data + inflate.flush(), b"head") or b""


def _table_in(data: bytes | bytearray, tag: bytes) -> bytes | None:
    """A table of the sfnt starting ``data`` if ``data`` reaches its end; b"" if there is none."""
    if len(data) < 12:
        return None
    count = struct.unpack_from(">H", data, 4)[0]
    if len(data) < 12 + 16 * count:
        return None
    for i in range(count):
        entry_tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if entry_tag == tag:
            return bytes(data[offset:offset + length]) if len(data) >= offset + length else None
    return b""


def _identity(tables: dict[str, bytes]) -> str:
    """The original font file a subset comes from: its revision, creation and modification times
    (kept by the subsetter). Two versions of a font under one name (dask workers on two machines)
    number their glyphs differently and must not be merged."""
    head = tables.get("head", b"")
    return head[4:8].hex() + head[20:36].hex()


def _plain(value):
    """A copy of a small direct PDF value (name, number, string, array) that belongs to no PDF."""
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_plain(v) for v in value])
    if isinstance(value, pikepdf.Name):
        return pikepdf.Name(str(value))
    if isinstance(value, pikepdf.String):
        return pikepdf.String(bytes(value))
    return value


def _read_tables(data: bytes) -> dict[str, bytes]:
    reader = SFNTReader(io.BytesIO(data))
    return {tag: reader[tag] for tag in reader.keys()}


def _add_glyphs(merged: _Font, tables: dict[str, bytes], wanted: list[int]) -> None:
    """Add the outlines and metrics of the ``wanted`` glyphs (and their components) of this subset."""
    head, loca_raw, glyf = tables["head"], tables["loca"], tables["glyf"]
    long_loca = struct.unpack_from(">h", head, 50)[0] == 1
    offsets = array("I" if long_loca else "H", loca_raw)
    if sys.byteorder == "little":  # the font's tables are big-endian
        offsets.byteswap()
    scale = 1 if long_loca else 2
    n_metrics = struct.unpack_from(">H", tables["hhea"], 34)[0]
    hmtx = tables["hmtx"]
    while wanted:
        gid = wanted.pop()
        if gid in merged.seen or gid + 1 >= len(offsets):
            continue
        merged.seen.add(gid)
        merged.metrics[gid] = _metric(hmtx, n_metrics, gid)
        start, end = offsets[gid] * scale, offsets[gid + 1] * scale
        if end > start:
            merged.glyphs[gid] = glyf[start:end]
            wanted += _components(merged.glyphs[gid])
    maxp = list(struct.unpack_from(">13H", tables["maxp"], 6)) if len(tables["maxp"]) >= 32 else []
    if maxp:
        merged.maxp = [max(a, b) for a, b in zip(merged.maxp, maxp, strict=True)] if merged.maxp else maxp


def _components(glyph: bytes) -> list[int]:
    """Glyph ids a composite glyph is drawn from (none for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found, at = [], 10
    while at + 4 <= len(glyph):
        flags, gid = struct.unpack_from(">HH", glyph, at)
        found.append(gid)
        at += 4 + (4 if flags & 0x0001 else 2)
        at += 2 if flags & 0x0008 else 4 if flags & 0x0040 else 8 if flags & 0x0080 else 0
        if not flags & 0x0020:
            break
    return found


def _metric(hmtx: bytes, n_metrics: int, gid: int) -> tuple[int, int]:
    if gid < n_metrics:
        return struct.unpack_from(">Hh", hmtx, gid * 4)
    advance = struct.unpack_from(">H", hmtx, (n_metrics - 1) * 4)[0]
    at = n_metrics * 4 + (gid - n_metrics) * 2
    lsb = struct.unpack_from(">h", hmtx, at)[0] if at + 2 <= len(hmtx) else 0
    return advance, lsb


def _widths(w: pikepdf.Array) -> dict[int, float]:
    """The ``/W`` array of a CID font as {cid: width}."""
    found, items, i = {}, list(w), 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, width in enumerate(items[i + 1]):
                found[first + offset] = float(width)
            i += 2
        else:
            last, width = int(items[i + 1]), float(items[i + 2])
            found.update((cid, width) for cid in range(first, last + 1))
            i += 3
    return found


def _to_unicode(cmap: bytes) -> dict[int, bytes]:
    """{cid: UTF-16BE hex} of a ToUnicode CMap's bfchar and bfrange entries."""
    found: dict[int, bytes] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, start in _BFRANGE.findall(block):
            first, value = int(low, 16), int(start, 16)
            for offset in range(int(high, 16) - first + 1):
                found[first + offset] = b"%04x" % (value + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for cid, text in _BFCHAR.findall(block):
            found[int(cid, 16)] = text
    return found


def _build(pdf: pikepdf.Pdf, merged: _Font) -> None:
    descriptor = pikepdf.Dictionary(merged.descriptor)
    descriptor["/FontBBox"] = pikepdf.Array(merged.bbox)
    cid_font = pikepdf.Dictionary({
        "/Type": pikepdf.Name.Font, "/BaseFont": pikepdf.Name(merged.base_font),
        "/CIDSystemInfo": pikepdf.Dictionary({"/Registry": pikepdf.String("Adobe"),
                                              "/Ordering": pikepdf.String("Identity"), "/Supplement": 0}),
        "/W": _w_array(merged.widths),
    })
    if merged.source is None:
        font_file = _font_file(merged)
        stream = pikepdf.Stream(pdf, font_file)
        stream["/Length1"] = len(font_file)
        descriptor["/FontFile2"] = pdf.make_indirect(stream)
        cid_font["/Subtype"] = pikepdf.Name.CIDFontType2
        cid_font["/CIDToGIDMap"] = pikepdf.Name.Identity
    else:
        stream = pikepdf.Stream(pdf, _cff_file(merged))
        stream["/Subtype"] = pikepdf.Name.OpenType
        descriptor["/FontFile3"] = pdf.make_indirect(stream)
        cid_font["/Subtype"] = pikepdf.Name.CIDFontType0
    cid_font["/FontDescriptor"] = pdf.make_indirect(descriptor)
    placeholder = merged.placeholder
    placeholder["/Type"] = pikepdf.Name.Font
    placeholder["/Subtype"] = pikepdf.Name.Type0
    placeholder["/BaseFont"] = pikepdf.Name(merged.base_font)
    placeholder["/Encoding"] = pikepdf.Name("/Identity-H")
    placeholder["/DescendantFonts"] = pikepdf.Array([pdf.make_indirect(cid_font)])
    placeholder["/ToUnicode"] = pdf.make_indirect(pikepdf.Stream(pdf, _cmap(merged.unicode)))


def _w_array(widths: dict[int, float]) -> pikepdf.Array:
    result, run, previous = [], None, None
    for cid in sorted(widths):
        if run is None or cid != previous + 1:
            run = []
            result += [cid, run]
        run.append(round(widths[cid], 3))
        previous = cid
    return pikepdf.Array([pikepdf.Array(v) if isinstance(v, list) else v for v in result])


def _cmap(unicode: dict[int, bytes]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"]
    items = sorted(unicode.items())
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        lines += [b"<%04x> <%s>" % (cid, text) for cid, text in chunk]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _cff_file(merged: _Font) -> bytes:
    """The installed CFF font subset for every glyph the forms used, glyph ids kept (as WeasyPrint)."""
    path, index = merged.source
    font = TTFont(path, fontNumber=index, lazy=True)
    options = subset.Options(retain_gids=True, desubroutinize=True, notdef_outline=True, hinting=False,
                             ignore_missing_glyphs=True, name_IDs=["*"])
    options.drop_tables += ["GSUB", "GPOS", "SVG ", "BASE", "JSTF", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=sorted(merged.widths.keys() | {0}))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _font_file(merged: _Font) -> bytes:
    """A TrueType font of the merged glyphs, glyph ids as in the original font."""
    count = max(merged.glyphs, default=0) + 1
    glyf, loca = bytearray(), array("I")
    hmtx = bytearray()
    for gid in range(count):
        loca.append(len(glyf))
        data = merged.glyphs.get(gid, b"")
        glyf += data + b"\0" * (-len(data) % 4)
        hmtx += struct.pack(">Hh", *merged.metrics.get(gid, (0, 0)))
    loca.append(len(glyf))
    if sys.byteorder == "little":
        loca.byteswap()
    tables = dict(merged.tables)
    tables["glyf"], tables["loca"], tables["hmtx"] = bytes(glyf), loca.tobytes(), bytes(hmtx)
    head = bytearray(tables["head"])
    struct.pack_into(">h", head, 50, 1)  # long offsets in loca
    tables["head"] = bytes(head)
    hhea = bytearray(tables["hhea"])
    struct.pack_into(">H", hhea, 34, count)
    tables["hhea"] = bytes(hhea)
    maxp = bytearray(tables["maxp"])
    struct.pack_into(">H", maxp, 4, count)
    if merged.maxp and len(maxp) >= 32:
        struct.pack_into(">13H", maxp, 6, *merged.maxp)
    tables["maxp"] = bytes(maxp)
    if "post" in tables:  # glyph names would need the full glyph list: none (format 3)
        tables["post"] = struct.pack(">I", 0x00030000) + tables["post"][4:32]
    out = io.BytesIO()
    writer = SFNTWriter(out, len(tables), sfntVersion="\0\1\0\0")
    for tag in sorted(tables):
        writer[tag] = tables[tag]
    writer.close()
    return out.getvalue()
