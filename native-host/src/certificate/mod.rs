//! The trade value certificate (进出口贸易额证明) as a PDF — the renderer only.
//!
//! The words and figures are decided elsewhere (pure, in `datalink-core`); the caller fills a
//! [`CertificateDocument`] and [`render`] turns it into PDF bytes:
//!
//! * **Page 1** (the statement): the title centred, the addressee, the body paragraphs (2-em
//!   first-line indent, Chinese line breaking — see [`layout`]), then right-aligned the issuer
//!   and the date with the red round seal drawn over them; at the bottom-left the verification
//!   block (QR code, short code, note, card signature), under it the footnotes (注：…) in small
//!   type. Should the body not fit, it continues on the next page and these follow it.
//! * **Attachment pages**: each [`Table`] from a new page, its title, a grey header row repeated
//!   on every page, grid lines, numbers right-aligned; as many pages as its rows need.
//! * **Every page**: “第 N 页 / 共 M 页” centred in the footer, and the watermark (申请项目 ·
//!   申报部门) repeated diagonally in translucent grey.
//!
//! What makes it trustworthy on any machine: the Chinese font is embedded as a subset with a
//! `ToUnicode` map (text renders the same everywhere and extracts exactly; see [`font`]); the
//! seal and the watermark are vector outlines, not text, so they neither pollute text extraction
//! nor can be edited as text ([`draw`]). Rendering is **deterministic**: no clock, the document
//! `/ID` is a hash of the content and the font subset's tag a hash of its glyphs, so the same
//! document gives byte-identical PDFs. `datalink-host verify-certificate` relies on this: it
//! renders the certificate again from the store and compares [`page_contents`] (an edited
//! amount changes a page's content stream) and [`read_metadata`] (the custom `/Info` keys).
//!
//! The layout is A4 portrait with 25 mm margins. Sizes are in points (1/72 inch).

mod draw;
pub(crate) mod font;
mod layout;
mod pdf;
#[cfg(test)]
mod tests;

pub(crate) use pdf::{page_contents, read_metadata, render};

/// `/Info` key under which [`render`] stores [`Verification::code`].
pub(crate) const CODE_KEY: &str = "DataLinkVerificationCode";
/// `/Info` key under which [`render`] stores [`Verification::signature`], when there is one.
pub(crate) const SIGNATURE_KEY: &str = "DataLinkSignature";

/// Everything a certificate shows. All text is final wording (Chinese), amounts already
/// formatted (`12,345,678.90`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateDocument {
    /// 进出口贸易额证明
    pub title: String,
    /// "西安市商务局："
    pub addressee: String,
    /// Paragraphs, each with a 2-em first-line indent.
    pub body: Vec<String>,
    /// The issuer's name, right side; the seal sits over it.
    pub issuer: String,
    /// "2026年11月25日"
    pub date_line: String,
    /// `None` = no seal.
    pub seal: Option<Seal>,
    /// 注：… small text at the bottom of page 1.
    pub footnotes: Vec<String>,
    /// "<申请项目> · <申报部门>", repeated diagonally on every page (empty = none).
    pub watermark: String,
    pub verification: Option<Verification>,
    /// 附件 pages.
    pub attachments: Vec<Table>,
    /// Written to the `/Info` dictionary as custom keys (ASCII letters, digits, `-`, `_`, `.`;
    /// not a standard key) — read back by [`read_metadata`].
    pub metadata: Vec<(String, String)>,
    /// `/Info /Title` (UTF-16BE); the catalog also gets `/Lang (zh-CN)`.
    pub pdf_title: String,
}

/// The round seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seal {
    /// The name along the top arc.
    pub issuer_arc: String,
    /// Under the star: 证明专用章.
    pub caption: String,
}

/// How a reader checks the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verification {
    /// Short, printed ("核验码：…").
    pub code: String,
    /// What the QR code encodes.
    pub qr_payload: String,
    /// e.g. "核验：datalink-host verify-certificate 本文件"
    pub note: String,
    /// The card's signature: printed small, and stored under [`SIGNATURE_KEY`].
    pub signature: Option<String>,
}

/// An attachment table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub title: String,
    pub columns: Vec<String>,
    /// Per column: right-aligned (numbers). Missing entries mean left-aligned.
    pub numeric: Vec<bool>,
    /// Each row has exactly one cell per column.
    pub rows: Vec<Vec<String>>,
}

/// Why a certificate could not be rendered or read. Messages are shown to the user: Chinese,
/// no paths.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PdfError {
    #[error(transparent)]
    Font(#[from] font::FontError),
    #[error("核验二维码内容过长，无法生成二维码")]
    QrTooLong,
    #[error("附件表格「{table}」第 {row} 行有 {got} 列，表头有 {want} 列")]
    RowWidth { table: String, row: usize, got: usize, want: usize },
    #[error("证明元数据的键名「{0}」不可用（只允许英文字母、数字、- _ .，且不能与 PDF 标准键或核验键重复）")]
    MetadataKey(String),
    #[error("生成 PDF 失败")]
    Write,
    #[error("文件不是可读取的 PDF")]
    Unreadable,
}
