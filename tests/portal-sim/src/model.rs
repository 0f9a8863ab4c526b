//! The data the simulated portal holds, and the ground truth tests compare to.
//!
//! A [`Declaration`] keeps every field in the string form the portal answers
//! (numbers as decimal strings, `iEDate` as `YYYYMMDD`, times as
//! `YYYY-MM-DD HH:mm:ss`), so the wire JSON and the truth never disagree. Its
//! serde form *is* the truth served by `GET /__sim/truth`: field names are the
//! portal's (`cusCiqNo`, `cusIEFlag`, `iEDate`, …) plus four that the portal
//! does not send:
//!
//! * `queryDate` (`YYYY-MM-DD`): the day the list query's
//!   `updateTime`/`updateTimeEnd` range filters on. GUESS (portal-api.md §2,
//!   `operateDate:"1"` is ambiguous): the simulator filters on the 申报日期,
//!   so `queryDate` is the date part of `dDate` (and of `indbTime`).
//! * `etpsCategory`: the enterprise's roles on the declaration (A/B/C/D); a
//!   list query with `etpsCategory` X returns the declarations whose roles
//!   contain X.
//! * `receipts`: the 回执 history served by `queryCusDecRet`.
//! * `valueByCurr` (only in [`TruthDeclaration`]): Σ `declTotal` per `tradeCurr`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// 进出口标志 (`cusIEFlag`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum IeFlag {
    /// Import.
    I,
    /// Export.
    E,
}

impl IeFlag {
    /// `"I"` or `"E"`.
    pub fn code(self) -> &'static str {
        match self {
            IeFlag::I => "I",
            IeFlag::E => "E",
        }
    }
    /// `cusIEFlagName`: 进口 / 出口.
    pub fn name(self) -> &'static str {
        match self {
            IeFlag::I => "进口",
            IeFlag::E => "出口",
        }
    }
    /// Parse `"I"` / `"E"`.
    pub fn parse(s: &str) -> Option<IeFlag> {
        match s {
            "I" => Some(IeFlag::I),
            "E" => Some(IeFlag::E),
            _ => None,
        }
    }
}

/// 报关单类型 (`dclTrnRelFlag`). Only the two a normal enterprise has are
/// generated; the portal's other values (1, 3, 4) match nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DeclKind {
    /// `0` 一般报关单.
    #[serde(rename = "0")]
    General,
    /// `2` 备案清单.
    #[serde(rename = "2")]
    Filing,
}

impl DeclKind {
    /// `"0"` or `"2"`.
    pub fn code(self) -> &'static str {
        match self {
            DeclKind::General => "0",
            DeclKind::Filing => "2",
        }
    }
    /// 一般报关单 / 备案清单.
    pub fn name(self) -> &'static str {
        match self {
            DeclKind::General => "一般报关单",
            DeclKind::Filing => "备案清单",
        }
    }
    /// Parse `"0"` / `"2"`.
    pub fn parse(s: &str) -> Option<DeclKind> {
        match s {
            "0" => Some(DeclKind::General),
            "2" => Some(DeclKind::Filing),
            _ => None,
        }
    }
}

/// 报关状态 (`cusDecStatus`). Only `10` 结关 and `7` 审结 are confirmed codes
/// (portal-api.md §2); the others are GUESSes from NEMS's 7/9/10/11 mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DecStatus {
    /// `2` 已申报: declared, no `entryId` yet.
    // GUESS: code 2 and its name (portal-api.md §2 names only 1, 7, 9, 10, 11).
    #[serde(rename = "2")]
    Declared,
    /// `7` 审结 \[C WLX\].
    #[serde(rename = "7")]
    Checked,
    /// `11` 查验通知.
    // GUESS: the meaning of 11 (portal-api.md §2: NEMS maps it to CR_C, meaning unknown).
    #[serde(rename = "11")]
    Inspection,
    /// `9` 放行.
    // GUESS: 9 = 放行 (portal-api.md §2: "9 is probably 放行").
    #[serde(rename = "9")]
    Released,
    /// `10` 结关 \[C\].
    #[serde(rename = "10")]
    Closed,
}

impl DecStatus {
    /// The code string.
    pub fn code(self) -> &'static str {
        match self {
            DecStatus::Declared => "2",
            DecStatus::Checked => "7",
            DecStatus::Inspection => "11",
            DecStatus::Released => "9",
            DecStatus::Closed => "10",
        }
    }
    /// `cusDecStatusName`.
    pub fn name(self) -> &'static str {
        match self {
            DecStatus::Declared => "已申报",
            DecStatus::Checked => "审结",
            DecStatus::Inspection => "查验通知",
            DecStatus::Released => "放行",
            DecStatus::Closed => "结关",
        }
    }
    /// Whether this is 结关 (the `cusDecStatus=10` side of the split).
    pub fn is_closed(self) -> bool {
        self == DecStatus::Closed
    }
}

/// 企业类别 (`etpsCategory`): the enterprise's role on a declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// `A` 报关申报单位.
    A,
    /// `B` 消费使用/生产销售单位.
    B,
    /// `C` 报关收发货人.
    C,
    /// `D` 报关录入单位.
    D,
}

impl Role {
    /// Parse `"A"`…`"D"`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "A" => Some(Role::A),
            "B" => Some(Role::B),
            "C" => Some(Role::C),
            "D" => Some(Role::D),
            _ => None,
        }
    }
}

/// The enterprise whose card logs in: what its certificate and the portal's
/// desktop show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enterprise {
    /// 企业名称.
    pub name: String,
    /// 统一社会信用代码 (18 characters, valid GB 32100 check digit).
    pub scc: String,
    /// 海关编码 (10 digits).
    pub customs_code: String,
    /// The card holder (操作员) shown after login.
    pub user_name: String,
    /// The IC card number.
    pub card_no: String,
}

/// A goods line (`decMergeListVo[]`), numbers as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsLine {
    /// 项号, 1-based.
    pub g_no: String,
    /// 10-digit HS code.
    pub code_ts: String,
    /// 商品名称.
    pub g_name: String,
    /// 规格型号 (申报要素, `|`-separated).
    pub g_model: String,
    /// 成交数量.
    pub g_qty: String,
    /// 成交计量单位 code.
    pub g_unit: String,
    /// 成交计量单位 name.
    pub g_unit_name: String,
    /// 法定第一数量.
    pub qty1: String,
    /// 法定第一计量单位 code.
    pub unit1: String,
    /// 单价, 2 decimals.
    pub decl_price: String,
    /// 总价 = `gQty` × `declPrice` exactly, 2 decimals.
    pub decl_total: String,
    /// 币制 customs code (502, 300, …).
    pub trade_curr: String,
    /// 币制 name (美元, 欧元, …).
    pub trade_curr_name: String,
    /// 原产国 (ISO alpha-3).
    pub cus_origin_country: String,
    /// 最终目的国 (ISO alpha-3).
    pub destination_country: String,
    /// 征免方式 code.
    pub duty_mode: String,
    /// 征免方式 name.
    pub duty_mode_name: String,
}

/// An attached document (`preDecDocVo[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedDoc {
    /// Download id.
    pub att_edoc_id: String,
    /// Document number.
    pub att_edoc_no: String,
    /// Document type code.
    // GUESS: the code values (portal-api.md §3 names the field only).
    pub att_type_code: String,
    /// Original file name.
    pub ent_orig_file_name: String,
    /// 1-based sequence.
    pub att_seq_no: String,
}

/// A container (`preDecContainerVo[]`).
// GUESS: every field name (portal-api.md §3 only names the list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// ISO 6346 container number with a valid check digit.
    pub container_id: String,
    /// Size/type code.
    pub container_md: String,
    /// Tare weight, kg.
    pub container_wt: String,
}

/// One 回执 row (`queryCusDecRet`) [C DICT field names].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// 1-based sequence.
    pub seq: String,
    /// Receipt number.
    pub cus_ret_seq_no: String,
    /// `YYYY-MM-DD HH:mm:ss`.
    pub notice_date: String,
    /// Channel (申报到海关预录入系统成功 / 海关入库成功 / …).
    pub channel_name: String,
    /// Free text.
    pub note: String,
    /// The entry id once assigned.
    pub entry_id: Option<String>,
}

/// A customs declaration as the portal holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declaration {
    /// 统一编号: `I`/`E` + year + 13 digits [C shape, MAOYI sample].
    pub cus_ciq_no: String,
    /// 报关单号 (18 digits); `None` until customs assigns it \[C PYSEL\].
    // GUESS: the layout office(4) + year(4) + I/E digit + serial(9) (portal-api.md §2 says 18 digits).
    pub entry_id: Option<String>,
    /// 预录入编号.
    pub pre_entry_id: String,
    /// 进出口标志.
    pub cus_i_e_flag: IeFlag,
    /// 报关单类型.
    pub dcl_trn_rel_flag: DeclKind,
    /// 报关状态.
    pub cus_dec_status: DecStatus,
    /// 报关状态 name.
    pub cus_dec_status_name: String,
    /// The enterprise's roles on this declaration.
    pub etps_category: Vec<Role>,
    /// The day the list's date range filters on (see the module docs).
    // GUESS: the range filters on the 申报日期 (portal-api.md §2, `operateDate:"1"`).
    pub query_date: Date,
    /// 申报日期, `YYYY-MM-DD HH:mm:ss`.
    // GUESS: the format of dDate (portal-api.md §3 names the field only).
    pub d_date: String,
    /// 进出口日期, `YYYYMMDD` [C DICT sample].
    pub i_e_date: String,
    /// 入库时间.
    pub indb_time: String,
    /// Last change, the list's sort key.
    pub update_time: String,
    /// 监管方式 code (the real spelling `Cdde`).
    pub supv_mode_cdde: String,
    /// 监管方式 name.
    pub supv_mode_cdde_name: String,
    /// 征免性质 code.
    pub cut_mode: String,
    /// 征免性质 name.
    pub cut_mode_name: String,
    /// 成交方式 code.
    pub trans_mode: String,
    /// 成交方式 name.
    pub trans_mode_name: String,
    /// 申报地海关 code.
    pub custom_master: String,
    /// 申报地海关 name.
    pub custom_master_name: String,
    /// 进出境关别 code.
    pub i_e_port: String,
    /// 进出境关别 name.
    pub i_e_port_name: String,
    /// 入境/离境口岸 code.
    pub ciq_enty_port_code: String,
    /// 入境/离境口岸 name.
    pub ciq_enty_port_code_name: String,
    /// 运输方式 code.
    pub cus_traf_mode: String,
    /// 运输方式 name.
    pub cus_traf_mode_name: String,
    /// 运输工具名称.
    pub traf_name: String,
    /// 提运单号 (may be empty).
    pub bill_no: String,
    /// 合同协议号.
    pub contr_no: String,
    /// 备案号 (手册/账册), may be empty.
    pub manual_no: String,
    /// 贸易国 (ISO alpha-3).
    pub cus_trade_nation_code: String,
    /// 贸易国 name.
    pub cus_trade_nation_code_name: String,
    /// 启运国/运抵国 (ISO alpha-3).
    pub cus_trade_country: String,
    /// 毛重 kg.
    pub gross_wt: String,
    /// 净重 kg.
    pub net_wt: String,
    /// 件数.
    pub pack_no: String,
    /// 集装箱数.
    pub conta_count: String,
    /// 是否查验: `"1"` or `"0"`.
    pub chktst_flag: String,
    /// 申报单位 name.
    pub agent_name: String,
    /// 申报单位 customs code.
    pub agent_code: String,
    /// 申报单位 统一社会信用代码.
    pub agent_scc: String,
    /// 消费使用/生产销售单位 name.
    pub owner_name: String,
    /// 消费使用/生产销售单位 code.
    pub owner_code: String,
    /// 消费使用/生产销售单位 统一社会信用代码.
    pub owner_scc: String,
    /// 境内收发货人 name (import: 收货人 `consigneeCname`; export: 发货人 `consignorCname`).
    pub domestic_name: String,
    /// 境内收发货人 code.
    pub domestic_code: String,
    /// 境内收发货人 统一社会信用代码.
    pub domestic_scc: String,
    /// 境外收发货人 name.
    pub overseas_name: String,
    /// Goods lines.
    pub goods: Vec<GoodsLine>,
    /// Attached documents.
    pub docs: Vec<AttachedDoc>,
    /// Containers.
    pub containers: Vec<Container>,
    /// 回执 history, oldest first.
    pub receipts: Vec<Receipt>,
}

impl Declaration {
    /// Σ `declTotal` per `tradeCurr` code, as 2-decimal strings.
    pub fn value_by_curr(&self) -> BTreeMap<String, String> {
        let mut sums: BTreeMap<String, i64> = BTreeMap::new();
        for g in &self.goods {
            *sums.entry(g.trade_curr.clone()).or_default() +=
                cents_from_decimal(&g.decl_total).unwrap_or(0);
        }
        sums.into_iter()
            .map(|(k, v)| (k, decimal_from_cents(v)))
            .collect()
    }

    /// Whether `role` is one of the enterprise's roles here.
    pub fn has_role(&self, role: Role) -> bool {
        self.etps_category.contains(&role)
    }
}

/// Everything the generator makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    /// The logged-in enterprise.
    pub enterprise: Enterprise,
    /// Its declarations, in generation order (by `queryDate`).
    pub declarations: Vec<Declaration>,
}

/// A declaration plus what tests compare against, as served by `/__sim/truth`.
///
/// Besides the declaration's own fields (flattened): `valueByCurr`, `homeScc` (the
/// 统一社会信用代码 of the enterprise whose declaration it is: for a broker's view, the
/// client), `hasPdf`/`pdfSha256`/`pdfSize` (the print `…/entries/ftl/1/0/0/{cusCiqNo}.pdf`
/// serves now, byte for byte) and `attachments` (随附单证 with their type names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthDeclaration {
    /// The declaration.
    #[serde(flatten)]
    pub declaration: Declaration,
    /// Σ `declTotal` per `tradeCurr`.
    pub value_by_curr: BTreeMap<String, String>,
    /// 统一社会信用代码 of the enterprise the declaration belongs to.
    #[serde(default)]
    pub home_scc: String,
    /// Whether the print exists (exactly when there is an `entryId`).
    #[serde(default)]
    pub has_pdf: bool,
    /// SHA-256 of the print's bytes, lowercase hex; `None` without a print.
    #[serde(default)]
    pub pdf_sha256: Option<String>,
    /// The print's size in bytes; `None` without a print.
    #[serde(default)]
    pub pdf_size: Option<u64>,
    /// The 随附单证 (`preDecDocVo`) with their type names.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// One 随附单证 as the truth lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `attTypeCode`.
    pub type_code: String,
    /// The type's name (发票, 装箱单, 合同).
    pub type_name: String,
    /// `attEdocNo`, the document's number.
    pub number: String,
    /// `attEdocId`.
    pub edoc_id: String,
    /// `entOrigFileName`.
    pub file_name: String,
}

/// What one enterprise's session sees, in `/__sim/truth`'s `enterprises`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseTruth {
    /// 0-based, in configuration order (0 = the first, `SimConfig::pin`).
    pub index: usize,
    /// Who it is (what its desktop shows).
    pub enterprise: Enterprise,
    /// A customs broker.
    pub broker: bool,
    /// How many of `declarations` are its own (the rest, a broker's, are its clients').
    pub own: usize,
    /// Every declaration its session can list, detail, print: its own, plus for a broker
    /// the others' on which it is the 申报单位; `etpsCategory` is **this enterprise's**
    /// roles (`["A","D"]` on a client's declaration). Sorted by `cusCiqNo`.
    pub declarations: Vec<TruthDeclaration>,
}

/// `GET /__sim/truth`: every declaration as the portal holds it now.
///
/// `enterprise` and `declarations` are the **first** enterprise's (the only one by
/// default); `enterprises` lists every enterprise with what its session sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    /// The generator seed.
    pub seed: u64,
    /// The simulator's today.
    pub today: Date,
    /// First generated day.
    pub from: Date,
    /// Last generated day.
    pub to: Date,
    /// `--max-span-days`.
    pub max_span_days: u32,
    /// Bumped by every change made during a run (the `shift` fault).
    pub revision: u64,
    /// The first enterprise.
    pub enterprise: Enterprise,
    /// The first enterprise's declarations, sorted by `cusCiqNo`.
    pub declarations: Vec<TruthDeclaration>,
    /// Every enterprise and what its session sees.
    #[serde(default)]
    pub enterprises: Vec<EnterpriseTruth>,
}

/// Parse a non-negative decimal with at most 2 fraction digits into cents.
pub fn cents_from_decimal(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    int.checked_mul(100)?.checked_add(frac)
}

/// Format cents as a 2-decimal string (`12345` → `"123.45"`).
pub fn decimal_from_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_trip() {
        assert_eq!(cents_from_decimal("6789.32"), Some(678_932));
        assert_eq!(cents_from_decimal("1.5"), Some(150));
        assert_eq!(cents_from_decimal("7"), Some(700));
        assert_eq!(cents_from_decimal("1.234"), None);
        assert_eq!(cents_from_decimal("-1.00"), None);
        assert_eq!(cents_from_decimal(".5"), None);
        assert_eq!(decimal_from_cents(678_932), "6789.32");
        assert_eq!(decimal_from_cents(5), "0.05");
        assert_eq!(decimal_from_cents(-5), "-0.05");
    }

    #[test]
    fn serde_names_are_the_portals() {
        let s = serde_json::to_string(&IeFlag::I).unwrap();
        assert_eq!(s, "\"I\"");
        assert_eq!(serde_json::to_string(&DeclKind::Filing).unwrap(), "\"2\"");
        assert_eq!(serde_json::to_string(&DecStatus::Closed).unwrap(), "\"10\"");
        let line = GoodsLine {
            g_no: "1".into(),
            code_ts: "8541430000".into(),
            g_name: "光伏组件".into(),
            g_model: String::new(),
            g_qty: "1".into(),
            g_unit: "007".into(),
            g_unit_name: "个".into(),
            qty1: "1".into(),
            unit1: "007".into(),
            decl_price: "1.00".into(),
            decl_total: "1.00".into(),
            trade_curr: "502".into(),
            trade_curr_name: "美元".into(),
            cus_origin_country: "CHN".into(),
            destination_country: "USA".into(),
            duty_mode: "1".into(),
            duty_mode_name: "照章征税".into(),
        };
        let v = serde_json::to_value(&line).unwrap();
        for key in [
            "gNo",
            "codeTs",
            "gName",
            "gQty",
            "declPrice",
            "declTotal",
            "tradeCurr",
            "cusOriginCountry",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
    }
}
