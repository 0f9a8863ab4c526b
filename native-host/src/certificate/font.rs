//! The Chinese font: where it comes from, how wide its characters are, their outlines, and how a
//! per-document subset of it is embedded in the PDF.
//!
//! **Finding it.** The certificate is Chinese, and a PDF that relies on the reader's fonts renders
//! differently (or not at all) from one machine to the next, so the font is embedded. We do not
//! ship one (a CJK font is 20–30 MB); [`locate`] looks, in order, at
//! 1. the environment variable `DATALINK_CJK_FONT` = `PATH` or `PATH#INDEX` (the face inside a
//!    `.ttc` collection), which wins and is not second-guessed;
//! 2. known paths: Debian's `fonts-noto-cjk` (`NotoSerifCJK-Regular.ttc` face 2 = Noto Serif CJK
//!    SC, then Noto Sans CJK SC), WenQuanYi, AR PL UMing, then macOS and Windows system fonts;
//! 3. `fc-list :lang=zh-cn` (fontconfig), preferring a "Serif … SC" face.
//!
//! A candidate is taken only if it parses and has the glyphs of “证明”. If nothing fits, the
//! error says to install `fonts-noto-cjk`. The chosen file is read once per process ([`shared`],
//! a `OnceLock`: the Noto .ttc is 26 MB) and subsetted per document.
//!
//! **Measuring.** Layout needs widths: [`FontFile::advance`] is the character's horizontal
//! advance from `hmtx`, in 1/1000 em (PDF text space), so a string of `n` em at size `s` is
//! `width_1000 * s / 1000` points — exactly what the PDF's `/W` array tells the viewer.
//!
//! **Outlines.** The seal's and the watermark's letters are drawn as paths, not text, so they are
//! neither extractable nor editable: [`FontFile::outline`] returns a glyph as PDF path operators
//! (`m l c h`; TrueType's quadratic curves are raised to cubic) in font units.
//!
//! **Embedding** ([`Subset`]): each character used as text is remapped to a new glyph id
//! (`subsetter::GlyphRemapper`, `.notdef` = 0) and written into the content stream as that id,
//! two bytes big-endian (`Identity-H` encoding: code = CID = new glyph id). At the end,
//! [`Subset::embed`] cuts the font down to those glyphs and writes the PDF objects:
//! `Type0` → `CIDFontType0` (CFF outlines, `FontFile3/CIDFontType0C` holding the bare `CFF `
//! table) or `CIDFontType2` (TrueType `glyf` outlines, `FontFile2`, `CIDToGIDMap /Identity`),
//! its `FontDescriptor`, the widths `/W`, and a `ToUnicode` CMap — without which no viewer could
//! copy or search the text, because the subset has no `cmap` table. The subset's name tag
//! (`ABCDEF+`) is derived from a hash of the glyphs used, so the same document gives the same
//! bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use sha2::{Digest, Sha256};
use ttf_parser::{Face, OutlineBuilder, Tag};

/// The environment variable naming the font file (`PATH` or `PATH#INDEX`).
pub(crate) const FONT_ENV: &str = "DATALINK_CJK_FONT";

/// Why no usable font was found, or a font could not be used. Messages are for the user: Chinese,
/// without paths.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FontError {
    #[error("未找到中文字体（Noto Serif CJK SC 等）：请安装 fonts-noto-cjk（Debian/Ubuntu：apt-get install fonts-noto-cjk），或用环境变量 DATALINK_CJK_FONT 指定字体文件")]
    NotFound,
    #[error("环境变量 DATALINK_CJK_FONT 指定的字体文件无法读取，或不是含中文字形的 OpenType/TrueType 字体")]
    EnvUnusable,
    #[error("中文字体文件无法解析")]
    Unparsable,
    #[error("中文字体既非 CFF 也非 TrueType 轮廓，无法嵌入")]
    UnsupportedOutlines,
    #[error("字体中没有字符「{0}」(U+{code:04X})，无法打印", code = u32::from(*.0))]
    MissingGlyph(char),
    #[error("字体子集化失败")]
    Subset,
}

/// How the glyph outlines are stored, which decides the PDF font type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outlines {
    /// OpenType/CFF (Noto CJK): `CIDFontType0` + `FontFile3 /CIDFontType0C`.
    Cff,
    /// TrueType `glyf` (WenQuanYi, SimSun): `CIDFontType2` + `FontFile2`.
    TrueType,
}

/// A font file in memory and the face chosen inside it.
///
/// The bytes are leaked on purpose: a font is loaded once per process and used until it ends,
/// and a `'static` face spares re-parsing the font's tables on every measurement.
pub(crate) struct FontFile {
    data: &'static [u8],
    face: Face<'static>,
    index: u32,
    outlines: Outlines,
    units_per_em: f64,
    /// The PostScript name, reduced to characters allowed in a PDF name.
    ps_name: String,
    /// character → (glyph id, advance in font units); `None` = not in the font. Looking a
    /// character up in the font's tables each time is what layout would otherwise spend its
    /// time on.
    metrics: Mutex<HashMap<char, Option<(u16, u16)>>>,
}

type Metrics<'a> = MutexGuard<'a, HashMap<char, Option<(u16, u16)>>>;

impl std::fmt::Debug for FontFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontFile").field("ps_name", &self.ps_name).field("index", &self.index).field("outlines", &self.outlines).finish()
    }
}

impl FontFile {
    /// Parses `data`, face `index`, and checks that it can set Chinese.
    pub(crate) fn from_bytes(data: Vec<u8>, index: u32) -> Result<FontFile, FontError> {
        // Check before leaking, so a rejected candidate is freed.
        Face::parse(&data, index).map_err(|_| FontError::Unparsable)?;
        let data: &'static [u8] = Box::leak(data.into_boxed_slice());
        let face = Face::parse(data, index).map_err(|_| FontError::Unparsable)?;
        let outlines = if face.tables().cff.is_some() {
            Outlines::Cff
        } else if face.tables().glyf.is_some() {
            Outlines::TrueType
        } else {
            return Err(FontError::UnsupportedOutlines);
        };
        let units_per_em = f64::from(face.units_per_em().max(1));
        let ps_name = postscript_name(&face);
        Ok(FontFile { data, face, index, outlines, units_per_em, ps_name, metrics: Mutex::new(HashMap::new()) })
    }

    /// Reads and parses a file (the tests load the fallback fonts with it).
    #[cfg(test)]
    pub(crate) fn load(path: &std::path::Path, index: u32) -> Result<FontFile, FontError> {
        let data = std::fs::read(path).map_err(|_| FontError::Unparsable)?;
        FontFile::from_bytes(data, index)
    }

    fn face(&self) -> &Face<'static> {
        &self.face
    }

    #[cfg(test)]
    pub(crate) fn outlines(&self) -> Outlines {
        self.outlines
    }

    /// The glyph of `c` in the original font.
    fn metrics(&self) -> Metrics<'_> {
        self.metrics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// (glyph id, advance in font units) of `c`, through the cache.
    fn lookup(&self, cache: &mut Metrics<'_>, c: char) -> Option<(u16, u16)> {
        *cache.entry(c).or_insert_with(|| {
            let gid = self.face.glyph_index(c)?;
            Some((gid.0, self.face.glyph_hor_advance(gid).unwrap_or(0)))
        })
    }

    /// Horizontal advance of `c` in 1/1000 em; `None` when the font lacks it.
    pub(crate) fn advance(&self, c: char) -> Option<f64> {
        let (_, advance) = self.lookup(&mut self.metrics(), c)?;
        Some(f64::from(advance) * 1000.0 / self.units_per_em)
    }

    /// Width of `text` in points at `size` (characters without a glyph count as 1 em; rendering
    /// rejects them anyway).
    pub(crate) fn width(&self, text: &str, size: f64) -> f64 {
        let mut cache = self.metrics();
        let total: f64 = text.chars().map(|c| self.lookup(&mut cache, c).map_or(self.units_per_em, |(_, advance)| f64::from(advance))).sum();
        total * size / self.units_per_em
    }

    /// Font units per em (1000 for CFF fonts, often 1024 or 2048 for TrueType).
    pub(crate) fn units_per_em(&self) -> f64 {
        self.units_per_em
    }

    /// The outline of `c` as PDF path operators in font units (y up), and its advance in font
    /// units. Whitespace gives an empty path.
    pub(crate) fn outline(&self, c: char) -> Result<(String, f64), FontError> {
        let face = self.face();
        let gid = face.glyph_index(c).ok_or(FontError::MissingGlyph(c))?;
        let mut path = PathOps { out: String::new(), last: (0.0, 0.0) };
        face.outline_glyph(gid, &mut path);
        Ok((path.out, f64::from(face.glyph_hor_advance(gid).unwrap_or(0))))
    }
}

/// The PostScript name (`name` id 6) reduced to `[A-Za-z0-9-]`; some Chinese fonts store it in a
/// legacy encoding `ttf_parser` does not decode, so the raw ASCII bytes are tried too.
fn postscript_name(face: &Face<'_>) -> String {
    let raw = face.names().into_iter().filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME).find_map(|n| {
        n.to_string().or_else(|| {
            let ascii: String = n.name.iter().filter(|b| b.is_ascii_graphic()).map(|&b| char::from(b)).collect();
            (!ascii.is_empty()).then_some(ascii)
        })
    });
    let clean: String = raw.unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(60).collect();
    if clean.is_empty() {
        "CJKFont".to_owned()
    } else {
        clean
    }
}

/// Writes glyph outlines as PDF path operators, one decimal in font units.
struct PathOps {
    out: String,
    last: (f32, f32),
}

fn num(v: f32) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

impl OutlineBuilder for PathOps {
    fn move_to(&mut self, x: f32, y: f32) {
        self.out.push_str(&format!("{} {} m\n", num(x), num(y)));
        self.last = (x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.out.push_str(&format!("{} {} l\n", num(x), num(y)));
        self.last = (x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        // A quadratic Bézier (P0, Q, P) is the cubic (P0, P0 + 2/3(Q−P0), P + 2/3(Q−P), P).
        let (x0, y0) = self.last;
        let c1 = (x0 + 2.0 / 3.0 * (x1 - x0), y0 + 2.0 / 3.0 * (y1 - y0));
        let c2 = (x + 2.0 / 3.0 * (x1 - x), y + 2.0 / 3.0 * (y1 - y));
        self.curve_to(c1.0, c1.1, c2.0, c2.1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.out.push_str(&format!("{} {} {} {} {} {} c\n", num(x1), num(y1), num(x2), num(y2), num(x), num(y)));
        self.last = (x, y);
    }
    fn close(&mut self) {
        self.out.push_str("h\n");
    }
}

/// One place to look for a font.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub path: PathBuf,
    pub index: u32,
}

/// Known locations, best first.
pub(crate) const KNOWN: &[(&str, u32)] = &[
    // Debian/Ubuntu fonts-noto-cjk: face 2 of the collection is Simplified Chinese (SC).
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    // Fedora / Arch names of the same collections.
    ("/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    // macOS
    ("/System/Library/Fonts/Supplemental/Songti.ttc", 0),
    ("/System/Library/Fonts/STHeiti Light.ttc", 0),
    // Windows (SimSun, Microsoft YaHei)
    ("C:\\Windows\\Fonts\\simsun.ttc", 0),
    ("C:\\Windows\\Fonts\\msyh.ttc", 0),
];

/// `PATH` or `PATH#INDEX`.
pub(crate) fn parse_env(value: &str) -> Candidate {
    match value.rsplit_once('#') {
        Some((path, index)) if !path.is_empty() && index.parse::<u32>().is_ok() => Candidate { path: PathBuf::from(path), index: index.parse().unwrap_or(0) },
        _ => Candidate { path: PathBuf::from(value), index: 0 },
    }
}

/// Parses `fc-list -f '%{file}|%{index}|%{family[0]}\n'` output into candidates, Serif SC faces
/// first, then other SC faces, then the rest (in fontconfig's order).
pub(crate) fn parse_fc_list(output: &str) -> Vec<Candidate> {
    let mut ranked: Vec<(u8, usize, Candidate)> = output
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let mut parts = line.splitn(3, '|');
            let path = parts.next()?.trim();
            let index = parts.next()?.trim().parse().ok()?;
            let family = parts.next().unwrap_or("");
            if path.is_empty() {
                return None;
            }
            let sc = family.contains(" SC") || family.contains("CN") || family.contains("GB");
            let rank = match (sc, family.contains("Serif") || family.contains("Song") || family.contains("Ming")) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            Some((rank, i, Candidate { path: PathBuf::from(path), index }))
        })
        .collect();
    ranked.sort_by_key(|(rank, i, _)| (*rank, *i));
    ranked.into_iter().map(|(_, _, c)| c).collect()
}

fn fc_list() -> Vec<Candidate> {
    let out = std::process::Command::new("fc-list").args(["-f", "%{file}|%{index}|%{family[0]}\n", ":lang=zh-cn"]).output();
    match out {
        Ok(out) if out.status.success() => parse_fc_list(&String::from_utf8_lossy(&out.stdout)),
        _ => Vec::new(),
    }
}

/// Text every usable font must cover.
const PROBE: &str = "进出口贸易额证明0123456789";

fn usable(candidate: &Candidate) -> Option<FontFile> {
    let data = std::fs::read(&candidate.path).ok()?;
    // Checked before `FontFile` keeps (leaks) the bytes, so a rejected candidate is freed.
    let covers = Face::parse(&data, candidate.index).is_ok_and(|face| PROBE.chars().all(|c| face.glyph_index(c).is_some()));
    if covers {
        FontFile::from_bytes(data, candidate.index).ok()
    } else {
        None
    }
}

/// Finds and loads the font: `env` (the value of `DATALINK_CJK_FONT`, if set), else `known`, else
/// what `fc_list` returns.
pub(crate) fn locate(env: Option<&str>, known: &[(&str, u32)], fc_list: impl FnOnce() -> Vec<Candidate>) -> Result<FontFile, FontError> {
    if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
        return usable(&parse_env(value.trim())).ok_or(FontError::EnvUnusable);
    }
    for (path, index) in known {
        let candidate = Candidate { path: PathBuf::from(path), index: *index };
        if candidate.path.is_file() {
            if let Some(font) = usable(&candidate) {
                return Ok(font);
            }
        }
    }
    fc_list().iter().find_map(usable).ok_or(FontError::NotFound)
}

/// The process's font, loaded on first use. Only a success is kept, so installing the font
/// helps without restarting a long-running process.
pub(crate) fn shared() -> Result<Arc<FontFile>, FontError> {
    static FONT: OnceLock<Arc<FontFile>> = OnceLock::new();
    if let Some(font) = FONT.get() {
        return Ok(font.clone());
    }
    let env = std::env::var(FONT_ENV).ok();
    let font = Arc::new(locate(env.as_deref(), KNOWN, fc_list)?);
    Ok(FONT.get_or_init(|| font).clone())
}

/// The glyphs one document sets as text, collected while its pages are written.
pub(crate) struct Subset<'f> {
    font: &'f FontFile,
    remapper: subsetter::GlyphRemapper,
    /// new glyph id → (the character it was first used for, advance in 1/1000 em)
    used: BTreeMap<u16, (char, u32)>,
}

impl<'f> Subset<'f> {
    pub(crate) fn new(font: &'f FontFile) -> Subset<'f> {
        Subset { font, remapper: subsetter::GlyphRemapper::new(), used: BTreeMap::new() }
    }

    pub(crate) fn font(&self) -> &'f FontFile {
        self.font
    }

    /// `text` as a PDF hex string of 2-byte CIDs (`<0003001A…>`), remembering its glyphs.
    pub(crate) fn encode(&mut self, text: &str) -> Result<String, FontError> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut cache = self.font.metrics();
        let mut hex = String::with_capacity(2 + 4 * text.len());
        hex.push('<');
        for c in text.chars() {
            let (gid, advance) = self.font.lookup(&mut cache, c).ok_or(FontError::MissingGlyph(c))?;
            let new = self.remapper.remap(gid);
            let units_per_em = self.font.units_per_em;
            self.used.entry(new).or_insert_with(|| (c, (f64::from(advance) * 1000.0 / units_per_em).round() as u32));
            for shift in [12, 8, 4, 0] {
                hex.push(char::from(HEX[usize::from((new >> shift) & 0xF)]));
            }
        }
        hex.push('>');
        Ok(hex)
    }

    /// Six capital letters from a hash of the glyphs used (PDF 9.6.4: a subset's name starts
    /// with a tag and `+`); the same glyphs give the same tag.
    fn tag(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.font.ps_name.as_bytes());
        for old in self.remapper.remapped_gids() {
            hash.update(old.to_be_bytes());
        }
        hash.finalize().iter().take(6).map(|b| char::from(b'A' + b % 26)).collect()
    }

    /// Subsets the font and adds the `Type0` font with its descendants to `doc`; returns the
    /// `Type0` font's id (to put under `/Font` in page resources).
    pub(crate) fn embed(self, doc: &mut Document) -> Result<ObjectId, FontError> {
        let face = self.font.face();
        let upem = self.font.units_per_em;
        let scale = |v: i16| (f64::from(v) * 1000.0 / upem).round() as i64;
        let subset = subsetter::subset(self.font.data, self.font.index, &self.remapper).map_err(|_| FontError::Subset)?;
        let base_font = format!("{}+{}", self.tag(), self.font.ps_name);

        let bbox = face.global_bounding_box();
        let mut descriptor = dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => Object::Name(base_font.clone().into_bytes()),
            "Flags" => 4,
            "FontBBox" => vec![scale(bbox.x_min).into(), scale(bbox.y_min).into(), scale(bbox.x_max).into(), scale(bbox.y_max).into()],
            "ItalicAngle" => 0,
            "Ascent" => scale(face.ascender()),
            "Descent" => scale(face.descender()),
            "CapHeight" => scale(face.capital_height().unwrap_or(face.ascender())),
            "StemV" => 80,
        };
        let (subtype, file_key, file) = match self.font.outlines {
            Outlines::Cff => {
                // The bare CFF table: readable by every PDF 1.3+ viewer (an OpenType wrapper
                // would need `/Subtype /OpenType`, PDF 1.6).
                let sub_face = ttf_parser::RawFace::parse(&subset, 0).map_err(|_| FontError::Subset)?;
                let cff = sub_face.table(Tag::from_bytes(b"CFF ")).ok_or(FontError::Subset)?.to_vec();
                ("CIDFontType0", "FontFile3", Stream::new(dictionary! { "Subtype" => "CIDFontType0C" }, cff))
            }
            Outlines::TrueType => {
                let length = subset.len() as i64;
                ("CIDFontType2", "FontFile2", Stream::new(dictionary! { "Length1" => length }, subset))
            }
        };
        let file_id = doc.add_object(file);
        descriptor.set(file_key, file_id);
        let descriptor_id = doc.add_object(descriptor);

        // /W [first [w1 w2 …] …]: runs of consecutive glyph ids.
        let mut widths: Vec<Object> = Vec::new();
        let mut run: Vec<Object> = Vec::new();
        let mut run_start: Option<u16> = None;
        let mut previous = 0u16;
        for (&gid, &(_, advance)) in &self.used {
            if run_start.is_some() && gid != previous + 1 {
                widths.push(i64::from(run_start.unwrap_or(0)).into());
                widths.push(Object::Array(std::mem::take(&mut run)));
                run_start = None;
            }
            if run_start.is_none() {
                run_start = Some(gid);
            }
            run.push(i64::from(advance).into());
            previous = gid;
        }
        if let Some(start) = run_start {
            widths.push(i64::from(start).into());
            widths.push(Object::Array(run));
        }

        let mut cid_font = dictionary! {
            "Type" => "Font",
            "Subtype" => subtype,
            "BaseFont" => Object::Name(base_font.clone().into_bytes()),
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => descriptor_id,
            "DW" => 1000,
            "W" => widths,
        };
        if self.font.outlines == Outlines::TrueType {
            cid_font.set("CIDToGIDMap", "Identity");
        }
        let cid_font_id = doc.add_object(cid_font);
        let to_unicode_id = doc.add_object(Stream::new(Dictionary::new(), to_unicode(&self.used).into_bytes()));
        Ok(doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => Object::Name(base_font.into_bytes()),
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![cid_font_id.into()],
            "ToUnicode" => to_unicode_id,
        }))
    }
}

/// The `ToUnicode` CMap: glyph id → UTF-16BE of its character, in blocks of ≤ 100 (a limit of the
/// CMap format).
fn to_unicode(used: &BTreeMap<u16, (char, u32)>) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &(char, u32))> = used.iter().filter(|(gid, _)| **gid != 0).collect();
    for block in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", block.len()));
        for (gid, (c, _)) in block {
            let mut units = [0u16; 2];
            let utf16: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            cmap.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// A PDF text string: UTF-16BE with a byte-order mark, so any Chinese survives.
pub(crate) fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_value_with_and_without_index() {
        assert_eq!(parse_env("/f/a.ttc#2"), Candidate { path: PathBuf::from("/f/a.ttc"), index: 2 });
        assert_eq!(parse_env("/f/a.ttf"), Candidate { path: PathBuf::from("/f/a.ttf"), index: 0 });
        // A '#' that is part of the name, not an index.
        assert_eq!(parse_env("/f/a#b.ttf"), Candidate { path: PathBuf::from("/f/a#b.ttf"), index: 0 });
    }

    #[test]
    fn fc_list_prefers_serif_sc() {
        let out = "/x/NotoSansCJK-Regular.ttc|2|Noto Sans CJK SC\n/x/NotoSerifCJK-Regular.ttc|0|Noto Serif CJK JP\n\
                   /x/NotoSerifCJK-Regular.ttc|2|Noto Serif CJK SC\ngarbage\n/x/wqy.ttc|0|WenQuanYi Micro Hei\n";
        let got = parse_fc_list(out);
        let order: Vec<(String, u32)> = got.iter().map(|c| (c.path.to_string_lossy().into_owned(), c.index)).collect();
        assert_eq!(
            order,
            vec![
                ("/x/NotoSerifCJK-Regular.ttc".to_owned(), 2),
                ("/x/NotoSansCJK-Regular.ttc".to_owned(), 2),
                ("/x/NotoSerifCJK-Regular.ttc".to_owned(), 0),
                ("/x/wqy.ttc".to_owned(), 0)
            ]
        );
    }

    #[test]
    fn nothing_found_is_a_clear_error() {
        let err = locate(None, &[("/nonexistent/font.ttc", 2)], Vec::new).err();
        assert!(matches!(err, Some(FontError::NotFound)), "{err:?}");
        let message = FontError::NotFound.to_string();
        assert!(message.contains("未找到中文字体") && message.contains("fonts-noto-cjk"), "{message}");
        // A bad DATALINK_CJK_FONT is reported as such, without falling back and without its path.
        let err = locate(Some("/nonexistent/x.ttc#1"), KNOWN, Vec::new).err();
        assert!(matches!(err, Some(FontError::EnvUnusable)), "{err:?}");
        assert!(!FontError::EnvUnusable.to_string().contains("nonexistent"));
        // A font without Chinese (DejaVu) is not taken.
        let dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        if std::path::Path::new(dejavu).is_file() {
            assert!(matches!(locate(Some(dejavu), KNOWN, Vec::new), Err(FontError::EnvUnusable)));
        }
    }

    #[test]
    fn shared_font_is_noto_serif_sc_and_measures() {
        let font = shared().expect("fonts-noto-cjk is installed by `cargo xtask test`");
        assert_eq!(font.ps_name, "NotoSerifCJKsc-Regular");
        assert_eq!(font.outlines(), Outlines::Cff);
        assert_eq!(font.units_per_em(), 1000.0);
        // CJK ideographs are 1 em wide; digits are proportional, narrower.
        assert_eq!(font.advance('证'), Some(1000.0));
        let digit = font.advance('1').expect("digit");
        assert!(digit > 300.0 && digit < 700.0, "{digit}");
        assert!((font.width("证明", 14.0) - 28.0).abs() < 1e-9);
        assert!(font.advance('\u{F0000}').is_none());
        let (path, advance) = font.outline('证').expect("outline");
        assert_eq!(advance, 1000.0);
        assert!(path.contains(" m\n") && path.contains(" c\n") || path.contains(" l\n"));
        assert!(path.trim_end().ends_with('h'));
    }

    #[test]
    fn encode_remaps_and_maps_back() {
        let font = shared().expect("font");
        let mut subset = Subset::new(&font);
        assert_eq!(subset.encode("证明证").expect("encode"), "<000100020001>");
        assert!(matches!(subset.encode("\u{F0000}"), Err(FontError::MissingGlyph('\u{F0000}'))));
        let cmap = to_unicode(&subset.used);
        assert!(cmap.contains("<0001> <8BC1>") && cmap.contains("<0002> <660E>"), "{cmap}");
        assert_eq!(subset.tag().len(), 6);
        assert!(subset.tag().chars().all(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn quadratic_curves_become_cubic() {
        let mut ops = PathOps { out: String::new(), last: (0.0, 0.0) };
        ops.move_to(0.0, 0.0);
        ops.quad_to(30.0, 60.0, 60.0, 0.0);
        ops.close();
        assert_eq!(ops.out, "0 0 m\n20 40 40 40 60 0 c\nh\n");
    }
}
