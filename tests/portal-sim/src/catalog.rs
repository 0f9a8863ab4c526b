//! Static code tables the generator draws from.
//!
//! The customs parameter codes that public code shows are used as such:
//! currencies (`tradeCurr` 502 美元 …), countries (ISO alpha-3, as the 2018+
//! customs tables use), supervision modes (`supvModeCdde` 0110 一般贸易 …),
//! units, transport and deal modes. HS codes are 10-digit Chinese tariff
//! numbers for goods a Shaanxi manufacturer plausibly trades.
//!
//! Guessed (portal-api.md §2 lists only the *names* of these columns): the
//! Shaanxi customs-office codes (`customMaster`), port codes
//! (`ciqEntyPortCode`, `iEPort`), broker and partner companies are synthetic.
//! They look like the real tables but were not checked against them; the
//! product must treat every code as opaque text.

/// Which direction a catalogue entry is traded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Imports only.
    Import,
    /// Exports only.
    Export,
    /// Either direction.
    Both,
}

impl Dir {
    /// Whether an entry with this direction fits a declaration of `import`.
    pub fn allows(self, import: bool) -> bool {
        match self {
            Dir::Both => true,
            Dir::Import => import,
            Dir::Export => !import,
        }
    }
}

/// A tradable good.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    /// `codeTs`: the 10-digit tariff number.
    pub code_ts: &'static str,
    /// `gName`.
    pub name: &'static str,
    /// Brands for `gModel`.
    pub brands: &'static [&'static str],
    /// `gUnit` customs unit code and its name.
    pub unit: (&'static str, &'static str),
    /// Quantity range per goods line.
    pub qty: (i64, i64),
    /// Unit price range in US cents.
    pub usd_cents: (i64, i64),
    /// Gross weight per unit, in grams.
    pub grams_per_unit: i64,
    /// Direction.
    pub dir: Dir,
    /// Relative frequency.
    pub weight: f64,
}

const TAI: (&str, &str) = ("001", "台");
const GE: (&str, &str) = ("007", "个");
const KG: (&str, &str) = ("035", "千克");

/// The goods catalogue.
#[rustfmt::skip]
pub const ITEMS: &[Item] = &[
    Item { code_ts: "8541430000", name: "光伏组件", brands: &["QINSOLAR", "无品牌"], unit: GE, qty: (200, 3000), usd_cents: (6_000, 15_000), grams_per_unit: 25_000, dir: Dir::Export, weight: 3.0 },
    Item { code_ts: "3818001900", name: "单晶硅片", brands: &["无品牌"], unit: GE, qty: (10_000, 200_000), usd_cents: (20, 60), grams_per_unit: 10, dir: Dir::Export, weight: 2.0 },
    Item { code_ts: "8104110000", name: "镁锭", brands: &["无品牌"], unit: KG, qty: (20_000, 200_000), usd_cents: (250, 380), grams_per_unit: 1_000, dir: Dir::Export, weight: 2.0 },
    Item { code_ts: "2009790000", name: "浓缩苹果汁", brands: &["秦源", "无品牌"], unit: KG, qty: (20_000, 100_000), usd_cents: (100, 160), grams_per_unit: 1_050, dir: Dir::Export, weight: 2.0 },
    Item { code_ts: "0808100000", name: "鲜苹果", brands: &["洛川", "无品牌"], unit: KG, qty: (5_000, 25_000), usd_cents: (110, 200), grams_per_unit: 1_080, dir: Dir::Export, weight: 1.5 },
    Item { code_ts: "0810500000", name: "鲜猕猴桃", brands: &["周至", "无品牌"], unit: KG, qty: (3_000, 15_000), usd_cents: (200, 400), grams_per_unit: 1_100, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "1302199099", name: "植物提取物", brands: &["无品牌"], unit: KG, qty: (100, 5_000), usd_cents: (1_500, 12_000), grams_per_unit: 1_150, dir: Dir::Export, weight: 2.0 },
    Item { code_ts: "8807300000", name: "飞机零件", brands: &["XAC", "无品牌"], unit: GE, qty: (1, 200), usd_cents: (20_000, 2_000_000), grams_per_unit: 3_000, dir: Dir::Both, weight: 1.5 },
    Item { code_ts: "8411910000", name: "涡轮喷气发动机零件", brands: &["AEROTEK", "SKYFORGE"], unit: GE, qty: (1, 50), usd_cents: (50_000, 3_000_000), grams_per_unit: 5_000, dir: Dir::Import, weight: 1.0 },
    Item { code_ts: "8542319000", name: "集成电路", brands: &["NORDCHIP", "KAIROS", "TEXEL"], unit: GE, qty: (1_000, 200_000), usd_cents: (50, 3_000), grams_per_unit: 2, dir: Dir::Import, weight: 2.5 },
    Item { code_ts: "8486209000", name: "半导体晶圆加工设备", brands: &["LITHONIX", "WAFERTEC"], unit: TAI, qty: (1, 3), usd_cents: (5_000_000, 200_000_000), grams_per_unit: 2_500_000, dir: Dir::Import, weight: 0.6 },
    Item { code_ts: "9027899090", name: "理化分析仪器", brands: &["SPECTRA", "ANALYTEK"], unit: TAI, qty: (1, 10), usd_cents: (500_000, 15_000_000), grams_per_unit: 60_000, dir: Dir::Import, weight: 1.0 },
    Item { code_ts: "8479899990", name: "其他具有独立功能的机器", brands: &["秦川", "HEXAMOTION"], unit: TAI, qty: (1, 20), usd_cents: (200_000, 8_000_000), grams_per_unit: 400_000, dir: Dir::Both, weight: 1.2 },
    Item { code_ts: "8481804090", name: "阀门", brands: &["西阀", "VALVEX"], unit: GE, qty: (10, 2_000), usd_cents: (2_000, 80_000), grams_per_unit: 4_000, dir: Dir::Both, weight: 1.5 },
    Item { code_ts: "8413709990", name: "离心泵", brands: &["秦泵", "无品牌"], unit: TAI, qty: (1, 100), usd_cents: (30_000, 800_000), grams_per_unit: 80_000, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "8507600090", name: "锂离子蓄电池", brands: &["长安动力", "无品牌"], unit: GE, qty: (100, 20_000), usd_cents: (2_000, 30_000), grams_per_unit: 8_000, dir: Dir::Export, weight: 2.0 },
    Item { code_ts: "8536690000", name: "插头及插座", brands: &["无品牌"], unit: GE, qty: (1_000, 100_000), usd_cents: (20, 300), grams_per_unit: 40, dir: Dir::Both, weight: 1.0 },
    Item { code_ts: "3004909099", name: "药品", brands: &["汉唐制药"], unit: KG, qty: (50, 2_000), usd_cents: (2_000, 40_000), grams_per_unit: 1_300, dir: Dir::Both, weight: 1.0 },
    Item { code_ts: "2941909099", name: "抗菌素原料药", brands: &["无品牌"], unit: KG, qty: (100, 5_000), usd_cents: (3_000, 20_000), grams_per_unit: 1_100, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "2933399099", name: "吡啶类医药中间体", brands: &["无品牌"], unit: KG, qty: (100, 5_000), usd_cents: (1_000, 15_000), grams_per_unit: 1_100, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "1211903999", name: "中药材", brands: &["秦岭", "无品牌"], unit: KG, qty: (500, 10_000), usd_cents: (300, 3_000), grams_per_unit: 1_050, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "0409000000", name: "天然蜂蜜", brands: &["秦蜂", "无品牌"], unit: KG, qty: (1_000, 20_000), usd_cents: (200, 500), grams_per_unit: 1_100, dir: Dir::Export, weight: 0.8 },
    Item { code_ts: "7601100000", name: "未锻轧非合金铝", brands: &["无品牌"], unit: KG, qty: (20_000, 100_000), usd_cents: (220, 280), grams_per_unit: 1_000, dir: Dir::Both, weight: 1.0 },
    Item { code_ts: "3920109090", name: "聚乙烯薄膜", brands: &["无品牌"], unit: KG, qty: (500, 20_000), usd_cents: (200, 600), grams_per_unit: 1_050, dir: Dir::Both, weight: 1.0 },
    Item { code_ts: "7326909000", name: "钢铁制品", brands: &["无品牌"], unit: KG, qty: (100, 10_000), usd_cents: (200, 1_500), grams_per_unit: 1_050, dir: Dir::Export, weight: 1.2 },
    Item { code_ts: "4011100000", name: "小客车轮胎", brands: &["秦驰"], unit: GE, qty: (100, 3_000), usd_cents: (3_000, 12_000), grams_per_unit: 9_000, dir: Dir::Export, weight: 0.8 },
    Item { code_ts: "8471300000", name: "笔记本电脑", brands: &["SILKBOOK"], unit: TAI, qty: (10, 2_000), usd_cents: (30_000, 150_000), grams_per_unit: 2_500, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "8517130000", name: "智能手机", brands: &["XIPHONE"], unit: TAI, qty: (100, 5_000), usd_cents: (10_000, 80_000), grams_per_unit: 400, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "4819100000", name: "瓦楞纸箱", brands: &["无品牌"], unit: GE, qty: (1_000, 50_000), usd_cents: (30, 200), grams_per_unit: 500, dir: Dir::Both, weight: 0.8 },
    Item { code_ts: "8419899090", name: "热处理设备", brands: &["THERMOTEC", "秦川"], unit: TAI, qty: (1, 5), usd_cents: (1_000_000, 30_000_000), grams_per_unit: 1_500_000, dir: Dir::Import, weight: 0.7 },
    Item { code_ts: "8708299000", name: "车身零部件", brands: &["长安汽配", "无品牌"], unit: GE, qty: (100, 10_000), usd_cents: (200, 8_000), grams_per_unit: 2_000, dir: Dir::Both, weight: 1.2 },
    Item { code_ts: "8501520000", name: "交流电动机", brands: &["西电", "无品牌"], unit: TAI, qty: (10, 500), usd_cents: (10_000, 300_000), grams_per_unit: 60_000, dir: Dir::Export, weight: 1.0 },
    Item { code_ts: "9018909919", name: "医疗器械", brands: &["MEDIVA", "ORTHOLINE"], unit: TAI, qty: (1, 200), usd_cents: (10_000, 2_000_000), grams_per_unit: 20_000, dir: Dir::Import, weight: 1.0 },
];

/// A currency: customs code (`tradeCurr`), ISO code, Chinese name
/// (`tradeCurrName`), global weight, and units per 1 USD × 1000.
#[derive(Clone, Copy, Debug)]
pub struct Currency {
    /// Customs 3-digit code.
    pub code: &'static str,
    /// ISO 4217 code.
    pub iso: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// Relative frequency when no local currency is used.
    pub weight: f64,
    /// Units of this currency per 1 USD, × 1000.
    pub per_usd_milli: i64,
}

/// Currencies, USD first.
#[rustfmt::skip]
pub const CURRENCIES: &[Currency] = &[
    Currency { code: "502", iso: "USD", name: "美元", weight: 66.0, per_usd_milli: 1_000 },
    Currency { code: "142", iso: "CNY", name: "人民币", weight: 16.0, per_usd_milli: 7_200 },
    Currency { code: "300", iso: "EUR", name: "欧元", weight: 8.0, per_usd_milli: 920 },
    Currency { code: "116", iso: "JPY", name: "日本元", weight: 3.0, per_usd_milli: 150_000 },
    Currency { code: "110", iso: "HKD", name: "港币", weight: 3.0, per_usd_milli: 7_800 },
    Currency { code: "303", iso: "GBP", name: "英镑", weight: 1.5, per_usd_milli: 790 },
    Currency { code: "133", iso: "KRW", name: "韩国元", weight: 1.0, per_usd_milli: 1_350_000 },
    Currency { code: "601", iso: "AUD", name: "澳大利亚元", weight: 0.5, per_usd_milli: 1_520 },
    Currency { code: "331", iso: "CHF", name: "瑞士法郎", weight: 0.5, per_usd_milli: 880 },
    Currency { code: "132", iso: "SGD", name: "新加坡元", weight: 0.3, per_usd_milli: 1_340 },
    Currency { code: "501", iso: "CAD", name: "加拿大元", weight: 0.2, per_usd_milli: 1_360 },
];

/// The currency with ISO code `iso`.
pub fn currency(iso: &str) -> Option<&'static Currency> {
    CURRENCIES.iter().find(|c| c.iso == iso)
}

/// A trading country: ISO alpha-3 (the customs country code), Chinese name,
/// weight as an import source, weight as an export destination, and the ISO
/// code of the local currency when it is in [`CURRENCIES`] and not USD.
#[derive(Clone, Copy, Debug)]
pub struct Country {
    /// ISO alpha-3 code.
    pub code: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// Weight as an import source.
    pub import_weight: f64,
    /// Weight as an export destination.
    pub export_weight: f64,
    /// Local currency (ISO), if it is one of ours and not USD.
    pub local_currency: Option<&'static str>,
}

/// Trading partners' countries.
#[rustfmt::skip]
pub const COUNTRIES: &[Country] = &[
    Country { code: "USA", name: "美国", import_weight: 12.0, export_weight: 14.0, local_currency: None },
    Country { code: "DEU", name: "德国", import_weight: 14.0, export_weight: 8.0, local_currency: Some("EUR") },
    Country { code: "JPN", name: "日本", import_weight: 10.0, export_weight: 6.0, local_currency: Some("JPY") },
    Country { code: "KOR", name: "韩国", import_weight: 8.0, export_weight: 6.0, local_currency: Some("KRW") },
    Country { code: "HKG", name: "中国香港", import_weight: 3.0, export_weight: 8.0, local_currency: Some("HKD") },
    Country { code: "GBR", name: "英国", import_weight: 3.0, export_weight: 4.0, local_currency: Some("GBP") },
    Country { code: "FRA", name: "法国", import_weight: 5.0, export_weight: 3.0, local_currency: Some("EUR") },
    Country { code: "ITA", name: "意大利", import_weight: 3.0, export_weight: 3.0, local_currency: Some("EUR") },
    Country { code: "NLD", name: "荷兰", import_weight: 3.0, export_weight: 4.0, local_currency: Some("EUR") },
    Country { code: "ESP", name: "西班牙", import_weight: 1.0, export_weight: 2.0, local_currency: Some("EUR") },
    Country { code: "CHE", name: "瑞士", import_weight: 3.0, export_weight: 1.0, local_currency: Some("CHF") },
    Country { code: "SGP", name: "新加坡", import_weight: 2.0, export_weight: 3.0, local_currency: Some("SGD") },
    Country { code: "AUS", name: "澳大利亚", import_weight: 2.0, export_weight: 3.0, local_currency: Some("AUD") },
    Country { code: "CAN", name: "加拿大", import_weight: 1.0, export_weight: 2.0, local_currency: Some("CAD") },
    Country { code: "VNM", name: "越南", import_weight: 2.0, export_weight: 6.0, local_currency: None },
    Country { code: "THA", name: "泰国", import_weight: 1.0, export_weight: 4.0, local_currency: None },
    Country { code: "MYS", name: "马来西亚", import_weight: 2.0, export_weight: 3.0, local_currency: None },
    Country { code: "IND", name: "印度", import_weight: 1.0, export_weight: 5.0, local_currency: None },
    Country { code: "RUS", name: "俄罗斯", import_weight: 1.0, export_weight: 6.0, local_currency: None },
    Country { code: "KAZ", name: "哈萨克斯坦", import_weight: 1.0, export_weight: 5.0, local_currency: None },
    Country { code: "UZB", name: "乌兹别克斯坦", import_weight: 0.5, export_weight: 3.0, local_currency: None },
    Country { code: "BRA", name: "巴西", import_weight: 1.0, export_weight: 3.0, local_currency: None },
    Country { code: "SAU", name: "沙特阿拉伯", import_weight: 0.5, export_weight: 3.0, local_currency: None },
    Country { code: "ARE", name: "阿联酋", import_weight: 0.5, export_weight: 3.0, local_currency: None },
];

/// A supervision mode (`supvModeCdde`, 监管方式) with the declaration type it
/// belongs to, its direction and weight.
#[derive(Clone, Copy, Debug)]
pub struct SupvMode {
    /// 4-digit code.
    pub code: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// `true` for 备案清单 (`dclTrnRelFlag` 2), `false` for 一般报关单 (0).
    pub filing: bool,
    /// Direction.
    pub dir: Dir,
    /// Relative frequency within its declaration type.
    pub weight: f64,
    /// `cutMode` (征免性质) code and name, empty for 备案清单.
    pub cut_mode: (&'static str, &'static str),
    /// `dutyMode` (征免方式) for its goods lines.
    pub duty_mode: (&'static str, &'static str),
    /// Whether a 手册/账册 number (`manualNo`) is declared.
    pub manual: Option<char>,
}

const GENERAL_TAX: (&str, &str) = ("101", "一般征税");
const OTHER_LEGAL: (&str, &str) = ("299", "其他法定");
const DUTY_FULL: (&str, &str) = ("1", "照章征税");
const DUTY_FREE: (&str, &str) = ("3", "全免");

/// Supervision modes.
#[rustfmt::skip]
pub const SUPV_MODES: &[SupvMode] = &[
    SupvMode { code: "0110", name: "一般贸易", filing: false, dir: Dir::Both, weight: 60.0, cut_mode: GENERAL_TAX, duty_mode: DUTY_FULL, manual: None },
    SupvMode { code: "0615", name: "进料对口", filing: false, dir: Dir::Both, weight: 15.0, cut_mode: ("503", "进料加工"), duty_mode: DUTY_FREE, manual: Some('C') },
    SupvMode { code: "0214", name: "来料加工", filing: false, dir: Dir::Both, weight: 7.0, cut_mode: ("502", "来料加工"), duty_mode: DUTY_FREE, manual: Some('B') },
    SupvMode { code: "0654", name: "进料深加工", filing: false, dir: Dir::Both, weight: 3.0, cut_mode: ("503", "进料加工"), duty_mode: DUTY_FREE, manual: Some('C') },
    SupvMode { code: "2225", name: "外资设备物品", filing: false, dir: Dir::Import, weight: 3.0, cut_mode: ("789", "鼓励项目"), duty_mode: DUTY_FREE, manual: None },
    SupvMode { code: "2600", name: "暂时进出货物", filing: false, dir: Dir::Both, weight: 2.0, cut_mode: OTHER_LEGAL, duty_mode: DUTY_FREE, manual: None },
    SupvMode { code: "3339", name: "其他进出口免费", filing: false, dir: Dir::Both, weight: 3.0, cut_mode: OTHER_LEGAL, duty_mode: DUTY_FULL, manual: None },
    SupvMode { code: "1300", name: "修理物品", filing: false, dir: Dir::Both, weight: 2.0, cut_mode: OTHER_LEGAL, duty_mode: DUTY_FREE, manual: None },
    SupvMode { code: "4561", name: "退运货物", filing: false, dir: Dir::Both, weight: 2.0, cut_mode: OTHER_LEGAL, duty_mode: DUTY_FREE, manual: None },
    SupvMode { code: "0644", name: "进料料件内销", filing: false, dir: Dir::Import, weight: 2.0, cut_mode: GENERAL_TAX, duty_mode: DUTY_FULL, manual: Some('C') },
    SupvMode { code: "9610", name: "电子商务", filing: false, dir: Dir::Export, weight: 1.0, cut_mode: GENERAL_TAX, duty_mode: DUTY_FULL, manual: None },
    SupvMode { code: "5000", name: "料件进出区", filing: true, dir: Dir::Both, weight: 30.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
    SupvMode { code: "5100", name: "成品进出区", filing: true, dir: Dir::Both, weight: 25.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
    SupvMode { code: "5300", name: "设备进出区", filing: true, dir: Dir::Both, weight: 10.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
    SupvMode { code: "1200", name: "保税间货物", filing: true, dir: Dir::Both, weight: 15.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
    SupvMode { code: "5034", name: "区内物流货物", filing: true, dir: Dir::Both, weight: 15.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
    SupvMode { code: "1210", name: "保税电商", filing: true, dir: Dir::Both, weight: 5.0, cut_mode: ("", ""), duty_mode: DUTY_FREE, manual: Some('H') },
];

/// Synthetic Shaanxi customs offices (`customMaster` code, name, weight).
// GUESS: codes and names (portal-api.md §2 names only `customMasterName`); 西安海关 is the 90xx district.
pub const CUSTOMS_OFFICES: &[(&str, &str, f64)] = &[
    ("9001", "西安关本部", 3.0),
    ("9002", "咸阳机场", 4.0),
    ("9003", "西安铁路", 3.0),
    ("9006", "西安综保", 3.0),
    ("9007", "西安高新", 3.0),
    ("9013", "西安港区", 2.0),
    ("9011", "宝鸡海关", 1.0),
    ("9012", "渭南海关", 0.5),
    ("9015", "杨凌海关", 0.5),
    ("9017", "榆林海关", 0.5),
    ("9018", "汉中海关", 0.3),
];

/// Shaanxi ports (`ciqEntyPortCode`, name): the airport.
// GUESS: every port code and name here is synthetic (portal-api.md §2 names only `ciqEntyPortCodeName`).
pub const PORT_AIR: (&str, &str) = ("610001", "西安咸阳国际机场");
/// The rail port of 中欧班列长安号.
pub const PORT_RAIL: (&str, &str) = ("610002", "西安国际港站");
/// The bonded zone (备案清单 traffic).
pub const PORT_ZONE: (&str, &str) = ("610003", "西安综合保税区");
/// Road cargo: the border crossing is outside Shaanxi, so inland road cargo
/// is declared at the Xi'an rail container centre.
pub const PORT_ROAD: (&str, &str) = ("610004", "西安铁路集装箱中心站");
/// Coastal seaports for sea cargo declared inland (port code, name,
/// `iEPort` customs code, name).
// GUESS: synthetic codes (portal-api.md §3 names `iEPort`/`iEPortName` only).
pub const SEA_PORTS: &[(&str, &str, &str, &str)] = &[
    ("120001", "天津港", "0202", "新港海关"),
    ("310001", "上海港", "2248", "外港海关"),
    ("370201", "青岛港", "4218", "前湾海关"),
];

/// Transport modes (`cusTrafMode`, name).
pub const TRAF_SEA: (&str, &str) = ("2", "水路运输");
/// Rail.
pub const TRAF_RAIL: (&str, &str) = ("3", "铁路运输");
/// Road.
pub const TRAF_ROAD: (&str, &str) = ("4", "公路运输");
/// Air.
pub const TRAF_AIR: (&str, &str) = ("5", "航空运输");
/// Bonded zone (综合保税区), used by 备案清单.
pub const TRAF_ZONE: (&str, &str) = ("Y", "综合保税区");

/// Deal modes (`transMode`, 成交方式): code, name, weight.
pub const TRANS_MODES: &[(&str, &str, f64)] = &[
    ("1", "CIF", 35.0),
    ("2", "C&F", 15.0),
    ("3", "FOB", 45.0),
    ("7", "EXW", 5.0),
];

/// Shaanxi customs brokers (synthetic): name, customs code.
pub const BROKERS: &[(&str, &str)] = &[
    ("陕西长安通报关有限公司", "6101980101"),
    ("西安秦丰国际货运代理有限公司", "6101980217"),
    ("西安港航报关服务有限公司", "6101980352"),
    ("陕西浐灞通关代理有限公司", "6101980488"),
    ("西安咸阳空港报关有限公司", "6101980539"),
];

/// Domestic trading companies (synthetic): name, customs code.
pub const DOMESTIC_PARTNERS: &[(&str, &str)] = &[
    ("陕西西部外贸进出口有限公司", "6101910033"),
    ("西安丝路国际贸易有限公司", "6101360471"),
    ("宝鸡秦岭实业有限公司", "6103960125"),
    ("咸阳渭河供应链管理有限公司", "6104960088"),
];

/// Overseas parties (synthetic).
pub const OVERSEAS: &[&str] = &[
    "APEX COMPONENTS GMBH",
    "SAKURA PRECISION CO., LTD.",
    "HANIL MATERIALS CO., LTD.",
    "PACIFIC RIM TRADING LIMITED",
    "NORTHSTAR INDUSTRIAL INC.",
    "BALTIC AGRO FOODS B.V.",
    "ALMATY TRADE HOUSE LLP",
    "SAIGON SOLAR JSC",
    "MILANO MECCANICA S.P.A.",
    "THAMES INSTRUMENTS LTD.",
    "LIONCITY ELECTRONICS PTE. LTD.",
    "GULF HORIZON TRADING LLC",
];

/// Ocean carriers' SCAC prefixes for sea bills of lading.
pub const SEA_CARRIERS: &[&str] = &["COSU", "MEDU", "MAEU", "ONEY", "EGLV", "CMDU", "HLCU"];
/// Vessel names for `trafName`.
pub const VESSELS: &[&str] = &[
    "CSCL AUTUMN",
    "XIN NING BO",
    "MSC AURORA",
    "EVER LUCID",
    "ONE HARMONY",
    "CMA CGM RHONE",
];
/// Air-waybill airline prefixes with the matching IATA flight prefix.
pub const AIRLINES: &[(&str, &str)] = &[
    ("999", "CA"),
    ("781", "MU"),
    ("784", "CZ"),
    ("880", "HU"),
    ("160", "CX"),
    ("172", "CV"),
];
/// Container owner prefixes (ISO 6346, category U).
pub const CONTAINER_OWNERS: &[&str] = &["CSNU", "TGHU", "MSKU", "TCLU", "FCIU"];

/// Name parts for the synthetic enterprise.
pub const CITIES: &[&str] = &["西安", "陕西", "咸阳", "宝鸡"];
/// Trade-name syllables.
pub const BRANDS: &[&str] = &[
    "秦川", "华晟", "长庆", "汉唐", "丝路", "泾渭", "终南", "曲江", "渭源", "骊山", "雁塔", "沣东",
];
/// Industries.
pub const INDUSTRIES: &[&str] = &[
    "精密机械",
    "新能源科技",
    "生物科技",
    "电子科技",
    "果业",
    "航空部件",
    "新材料",
    "医药",
];
/// Surnames for the card holder.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "许", "孙", "马", "朱", "胡", "郭",
];
/// Given names for the card holder.
pub const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "杰", "涛", "斯维", "晓东", "海燕", "文博",
    "思远", "雨萱",
];

/// Receipt channel names \[C DICT\], in lifecycle order.
pub const CH_DECLARED: &str = "申报到海关预录入系统成功";
/// 海关入库成功: the entryId is assigned.
pub const CH_STORED: &str = "海关入库成功";
/// 审结.
pub const CH_CHECKED: &str = "通关无纸化审结";
/// The inspection notice channel name.
// GUESS: not among DICT's channelName examples (portal-api.md §3).
pub const CH_INSPECT: &str = "查验通知";
/// 放行.
pub const CH_RELEASED: &str = "海关已放行";
/// 结关.
pub const CH_CLOSED: &str = "海关已结关";

/// Attached document types for `preDecDocVo`.
// GUESS: the codes (portal-api.md §3 names the fields, not the codes).
pub const DOC_TYPES: &[(&str, &str)] = &[
    ("00000001", "发票"),
    ("00000002", "装箱单"),
    ("00000004", "合同"),
];
